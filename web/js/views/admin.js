// The admin area (/admin), for the "admins" group: invite users by e-mail, list them page by page,
// disable (after a confirmation) and enable them. The API answers 403 to anyone else.

import { seg } from "../api.js";
import { announce, busy, field, h, mount, openDialog, showError, time } from "../ui.js";
import { quotaForm } from "./admin_quota.js";

export const ADMINS_GROUP = "admins";
const PAGE_SIZE = 50;

const STATUS_TEXT = {
  FORCE_CHANGE_PASSWORD: "Invited, has not signed in",
  CONFIRMED: "Active",
  RESET_REQUIRED: "Must reset password",
  UNCONFIRMED: "Not confirmed",
  ARCHIVED: "Archived",
  COMPROMISED: "Compromised",
};

/** Whether the signed-in user is an administrator (the ID token's cognito:groups). */
export function isAdmin(auth) {
  const user = auth.signedIn ? auth.user : null;
  return Boolean(user && user.groups.includes(ADMINS_GROUP));
}

export async function renderAdmin(main, ctx) {
  const { api, auth } = ctx;
  document.title = "Users · Admin · DocuServe";
  if (!isAdmin(auth)) {
    mount(main, h("h1", {}, "Admin"),
      h("p", {}, "Only administrators can open this page. ",
        h("a", { href: "/", "data-link": true }, "Back to your workspaces")));
    ctx.focusMain();
    return;
  }
  const me = auth.user.sub;
  const message = h("div", { class: "message" });
  const listing = h("div", { "aria-busy": "true" }, h("p", { class: "muted" }, "Loading users…"));
  const pager = h("div", { class: "actions pager" });
  // cursors[i] is the cursor of page i (page 0 has none).
  const cursors = [null];
  let pageIndex = 0;

  const email = h("input", { type: "email", required: true, autocomplete: "off", maxlength: 254 });
  const invite = h("form", { class: "inline-form", "aria-labelledby": "invite-title" },
    h("h2", { id: "invite-title" }, "Invite a user"),
    field("Email", email, "They get an e-mail with a temporary password and choose their own at first sign-in."),
    h("button", { type: "submit", class: "primary" }, "Send invitation"));
  invite.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(message, null);
    const address = email.value.trim();
    if (!address) {
      showError(message, new Error("Enter the e-mail address to invite."));
      email.focus();
      return;
    }
    try {
      await busy(invite, () => api.post("/admin/users", { email: address }));
      email.value = "";
      announce(`Invitation sent to ${address}.`);
      mount(message, h("p", { class: "ok", role: "status" }, `Invitation sent to ${address}.`));
      await load(pageIndex);
    } catch (error) {
      showError(message, error.status === 409 ? new Error(`${address} already has an account.`) : error);
      email.focus();
    }
  });

  const setEnabled = async (user, enabled, button) => {
    showError(message, null);
    try {
      await busy(button.parentElement, () => api.post(`/admin/users/${seg(user.id)}/${enabled ? "enable" : "disable"}`));
      announce(`${user.email} is ${enabled ? "enabled" : "disabled"}.`);
      await load(pageIndex);
    } catch (error) {
      showError(message, error);
    }
  };

  const confirmDisable = (user, button) => openDialog(`Disable ${user.email}?`, (close) => h("div", { class: "stack" },
    h("p", {}, "They are signed out everywhere and cannot sign in until an administrator enables them again. "
      + "Their workspaces and memberships stay as they are."),
    h("div", { class: "actions" },
      h("button", {
        type: "button", class: "primary danger-fill",
        onclick: () => { close(); setEnabled(user, false, button); },
      }, "Disable user"),
      h("button", { type: "button", onclick: close }, "Cancel"))));

  const row = (user) => {
    const actions = h("div", { class: "row-actions" });
    if (user.enabled) {
      if (user.id !== me) {
        const disable = h("button", { type: "button", class: "danger", "aria-label": `Disable ${user.email}` }, "Disable");
        disable.addEventListener("click", () => confirmDisable(user, disable));
        actions.append(disable);
      } else {
        actions.append(h("span", { class: "muted" }, "You"));
      }
    } else {
      const enable = h("button", { type: "button", "aria-label": `Enable ${user.email}` }, "Enable");
      enable.addEventListener("click", () => setEnabled(user, true, enable));
      actions.append(enable);
    }
    return h("tr", { dataset: { email: user.email } },
      h("td", { class: "name" }, user.email),
      h("td", {}, h("span", { class: `badge ${user.enabled ? "state-active" : "state-locked"}` },
        user.enabled ? "Enabled" : "Disabled")),
      h("td", {}, STATUS_TEXT[user.status] || user.status),
      h("td", {}, user.created_at ? time(user.created_at) : ""),
      h("td", {}, actions));
  };

  async function load(index) {
    listing.setAttribute("aria-busy", "true");
    try {
      const page = await api.get("/admin/users", { limit: PAGE_SIZE, cursor: cursors[index] || undefined });
      if (ctx.view.stale()) return;
      pageIndex = index;
      cursors[index + 1] = page.next_cursor || null;
      listing.removeAttribute("aria-busy");
      const items = page.items || [];
      mount(listing, items.length
        ? h("div", { class: "table-wrap" }, h("table", { class: "users" },
          h("caption", { class: "visually-hidden" }, `Users, page ${index + 1}`),
          h("thead", {}, h("tr", {}, ["Email", "Access", "Status", "Invited", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", {}, items.map(row))))
        : h("p", { class: "empty" }, "No users on this page."));
      mount(pager,
        h("button", { type: "button", disabled: index === 0, onclick: () => load(index - 1) }, "Previous page"),
        h("span", { class: "muted" }, `Page ${index + 1}`),
        h("button", { type: "button", disabled: !page.next_cursor, onclick: () => load(index + 1) }, "Next page"));
    } catch (error) {
      listing.removeAttribute("aria-busy");
      showError(listing, error);
    }
  }

  mount(main,
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "/", "data-link": true }, "Workspaces"), " / Admin"),
    h("h1", {}, "Users"),
    message,
    invite,
    h("h2", {}, "All users"),
    listing,
    pager,
    quotaForm(api));
  ctx.focusMain();
  await load(0);
}
