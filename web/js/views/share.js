// Sharing: the create dialog (the link is shown once, with a copy button), and the document's
// links with state and counts, each editable (terms and message), revocable and with its activity.

import { seg } from "../api.js";
import { announce, busy, confirmAction, copyText, field, h, mount, openDialog, showError, time } from "../ui.js";
import { auditTable } from "./common.js";

export const LINK_STATE_TEXT = {
  active: "Active",
  expired: "Expired",
  revoked: "Revoked",
  used_up: "Used up",
  locked: "Locked (wrong passwords)",
  unavailable: "Unavailable (document in the trash, or restored without its links)",
};

/** The addresses typed in a recipients box: split on commas, semicolons, spaces and lines. */
export function recipientList(text) {
  return [...new Set(String(text || "").split(/[\s,;]+/).map((a) => a.trim().toLowerCase()).filter(Boolean))];
}

function recipientsField(value = []) {
  const input = h("textarea", { rows: 3, autocomplete: "off", spellcheck: "false", name: "recipients" }, value.join("\n"));
  return {
    input,
    field: field("Only for these e-mail addresses (optional)", input,
      "Up to 50 addresses, one per line. Each must confirm a code mailed to them before downloading. Empty: anyone with the link."),
  };
}

function optionalNumber(input) {
  const text = input.value.trim();
  return text === "" ? undefined : Number(text);
}

/** Fields shared by the create and edit forms. */
function shareFields({ expiresDays = 7, maxDays = 90, label = "", maxDownloads = "", passwordHint }) {
  const expires = h("input", { type: "number", min: 1, max: maxDays, step: 1, value: expiresDays, required: true, inputmode: "numeric" });
  const password = h("input", { type: "password", minlength: 8, autocomplete: "new-password" });
  const limit = h("input", { type: "number", min: 1, max: 10000, step: 1, value: maxDownloads, inputmode: "numeric" });
  const labelInput = h("input", { type: "text", maxlength: 255, value: label, autocomplete: "off" });
  const fields = [
    field("Expires in (days)", expires, `1 to ${maxDays} days.`),
    field("Password (optional)", password, passwordHint || "At least 8 characters. Send it to the recipient separately."),
    field("Download limit (optional)", limit, "1 to 10,000 downloads."),
    field("Label (optional)", labelInput, "Who the link is for; only you see it."),
  ];
  return { expires, password, limit, labelInput, fields };
}

// ``doc`` is one document, or a selection to share as one bundle link:
// ``{ bundle: true, workspace_id, document_ids, name }`` (POST /workspaces/{id}/shares).
export function openShareDialog(ctx, doc, onCreated = () => {}) {
  openDialog(doc.bundle ? `Share ${doc.name}` : `Share “${doc.name}”`, (close) => {
    const body = h("div", { class: "stack" });
    const message = h("div", { class: "message" });
    const f = shareFields({});
    const note = h("textarea", { maxlength: 1000, rows: 3 });
    const who = recipientsField();
    const notify = h("input", { type: "checkbox", name: "notify_recipients" });
    const form = h("form", { class: "stack" }, message, f.fields, who.field,
      h("label", { class: "check" }, notify, " Send the link to the recipients by e-mail (never the password)"),
      field("Message to the recipient (optional)", note, "Shown on the download page, as plain text. Up to 1,000 characters."),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Create link"),
        h("button", { type: "button", onclick: close }, "Cancel")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      showError(message, null);
      const request = { expires_in_days: Number(f.expires.value) };
      if (f.password.value) request.password = f.password.value;
      const limit = optionalNumber(f.limit);
      if (limit !== undefined) request.max_downloads = limit;
      if (f.labelInput.value.trim()) request.label = f.labelInput.value.trim();
      if (note.value.trim()) request.message = note.value;
      const recipients = recipientList(who.input.value);
      if (recipients.length) request.recipients = recipients;
      if (notify.checked) {
        if (!recipients.length) {
          showError(message, new Error("Add at least one e-mail address to send the link to."));
          who.input.focus();
          return;
        }
        request.notify_recipients = true;
      }
      try {
        const share = await busy(form, () => (doc.bundle
          ? ctx.api.post(`/workspaces/${seg(doc.workspace_id)}/shares`, { ...request, document_ids: doc.document_ids })
          : ctx.api.post(`/documents/${seg(doc.id)}/shares`, request)));
        f.password.value = "";
        showCreated(body, share, close);
        onCreated(share);
      } catch (error) {
        showError(message, error);
      }
    });
    mount(body, form);
    return body;
  });
}

function showCreated(body, share, close) {
  const url = h("input", { type: "text", readonly: true, value: share.url, class: "share-url" });
  const copied = h("span", { class: "muted", role: "status" });
  const copy = h("button", {
    type: "button", class: "primary",
    onclick: async () => {
      copied.textContent = (await copyText(share.url, url)) ? "Copied." : "Press Ctrl+C (⌘C) to copy.";
    },
  }, "Copy link");
  mount(body,
    h("p", { class: "notice" }, "Copy the link now: it is shown only this once. Anyone with it (and the password, if set) can download the document until it expires."),
    field("Share link", url),
    h("div", { class: "actions" }, copy, copied),
    h("p", {}, "Expires ", time(share.expires_at), "."),
    share.recipients && share.recipients.length
      ? h("p", { class: "recipients-note" }, `Only ${share.recipients.join(", ")} can download it, each after confirming a code mailed to them.`)
      : null,
    h("div", { class: "actions" }, h("button", { type: "button", onclick: close }, "Done")));
  url.addEventListener("focus", () => url.select());
  copy.focus();
}

/** The document's links, each with state, counts, edit, revoke and activity. */
export async function renderLinks(ctx, doc, container, onChange = () => {}) {
  const message = h("div", { class: "message" });
  const listing = h("div", {}, h("p", { class: "muted" }, "Loading links…"));
  // `changed`: a link was created, edited or revoked, so the page's activity is stale too.
  const reload = async (changed = false) => {
    if (changed) onChange();
    try {
      const { items } = await ctx.api.all(`/documents/${seg(doc.id)}/shares`);
      if (!items.length) {
        mount(listing, h("p", { class: "empty" }, "No links yet."));
        return;
      }
      mount(listing, h("ul", { class: "rows links" }, items.map((s) => linkRow(ctx, s, message, reload))));
    } catch (error) {
      showError(listing, error);
    }
  };
  mount(container, h("div", { class: "title-row" }, h("h2", {}, "Share links"),
    doc.status === "available"
      ? h("button", { type: "button", class: "primary", onclick: () => openShareDialog(ctx, doc, () => reload(true)) }, "New link")
      : null),
  message, listing);
  await reload();
  return reload;
}

function linkRow(ctx, s, message, reload) {
  const name = s.label || "Unlabelled link";
  const count = s.max_downloads ? `${s.download_count} of ${s.max_downloads} downloads` : `${s.download_count} downloads`;
  const active = s.state === "active" || s.state === "locked";
  return h("li", { dataset: { shareId: s.id, state: s.state } },
    h("div", {},
      h("strong", {}, name), " ",
      h("span", { class: `badge state-${s.state}` }, LINK_STATE_TEXT[s.state] || s.state),
      h("div", { class: "muted" }, count, " · expires ", time(s.expires_at), s.password_required ? " · password" : "",
        // A bundle that includes this document: revoking it stops the other documents' files too.
        s.kind === "bundle" ? ` · bundle of ${(s.files || []).length || "several"} documents` : "",
        s.recipients && s.recipients.length ? ` · for ${s.recipients.join(", ")}` : "")),
    h("span", { class: "row-actions" },
      h("button", { type: "button", onclick: () => showActivity(ctx, s) }, "Activity",
        h("span", { class: "visually-hidden" }, ` of ${name}`)),
      active ? h("button", { type: "button", onclick: () => editLink(ctx, s, reload) }, "Edit",
        h("span", { class: "visually-hidden" }, ` ${name}`)) : null,
      s.state !== "revoked" ? h("button", {
        type: "button", class: "danger",
        onclick: async () => {
          showError(message, null);
          const sure = await confirmAction(`Revoke “${name}”?`,
            "The link stops working at once for everyone who has it. This cannot be undone; you can create a new link.",
            "Revoke link");
          if (!sure) return;
          try {
            await ctx.api.delete(`/shares/${seg(s.id)}`);
            announce(`${name} revoked.`);
            await reload(true);
          } catch (error) {
            showError(message, error);
          }
        },
      }, "Revoke", h("span", { class: "visually-hidden" }, ` ${name}`)) : null));
}

function editLink(ctx, s, reload) {
  openDialog(`Edit “${s.label || "link"}”`, (close) => {
    const message = h("div", { class: "message" });
    const daysLeft = Math.max(1, Math.ceil((Date.parse(s.expires_at) - Date.now()) / 86_400_000));
    const f = shareFields({
      expiresDays: daysLeft, label: s.label || "", maxDownloads: s.max_downloads || "",
      passwordHint: s.password_required ? "Leave empty to keep the current password." : undefined,
    });
    const removePassword = h("input", { type: "checkbox" });
    const note = h("textarea", { maxlength: 1000, rows: 3 }, s.message || "");
    const who = recipientsField(s.recipients || []);
    const form = h("form", { class: "stack" }, message, f.fields, who.field,
      s.password_required ? h("label", { class: "check" }, removePassword, " Remove the password") : null,
      field("Message to the recipient (optional)", note,
        "Shown on the download page, as plain text, from the recipient's next visit. Empty removes it."),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save"),
        h("button", { type: "button", onclick: close }, "Cancel")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const patch = { expires_in_days: Number(f.expires.value), label: f.labelInput.value.trim() || null };
      const limit = optionalNumber(f.limit);
      patch.max_downloads = limit === undefined ? null : limit;
      if (f.password.value) patch.password = f.password.value;
      else if (removePassword.checked) patch.password = null;
      if (note.value.trim() !== (s.message || "")) patch.message = note.value.trim() ? note.value : null;
      const recipients = recipientList(who.input.value);
      if (recipients.join("\n") !== (s.recipients || []).join("\n")) patch.recipients = recipients;
      try {
        await busy(form, () => ctx.api.patch(`/shares/${seg(s.id)}`, patch));
        close();
        announce("Link updated.");
        await reload(true);
      } catch (error) {
        showError(message, error);
      }
    });
    return form;
  });
}

function showActivity(ctx, s) {
  openDialog(`Activity of “${s.label || "link"}”`, () => {
    const body = h("div", {}, h("p", { class: "muted" }, "Loading…"));
    ctx.api.get(`/shares/${seg(s.id)}/activity`, { limit: 100 })
      .then((page) => mount(body, auditTable(page.items || [], "Link activity, newest first")))
      .catch((error) => showError(body, error));
    return body;
  });
}
