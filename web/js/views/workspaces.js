// The signed-in member's workspaces, and a form to create one.

import { seg } from "../api.js";
import { busy, field, h, mount, showError } from "../ui.js";

const ROLE_NAMES = { owner: "Owner", editor: "Editor", viewer: "Viewer" };

export async function renderWorkspaces(main, ctx) {
  const { api } = ctx;
  const message = h("div", { class: "message" });
  const list = h("div", { "aria-busy": "true" }, h("p", { class: "muted" }, "Loading workspaces…"));

  const name = h("input", { type: "text", required: true, maxlength: 255, autocomplete: "off" });
  const description = h("input", { type: "text", maxlength: 1024, autocomplete: "off" });
  const form = h("form", { class: "inline-form", "aria-labelledby": "new-ws" },
    h("h2", { id: "new-ws" }, "New workspace"),
    field("Name", name),
    field("Description (optional)", description),
    h("button", { type: "submit", class: "primary" }, "Create workspace"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(message, null);
    try {
      const body = { name: name.value.trim() };
      if (description.value.trim()) body.description = description.value.trim();
      const workspace = await busy(form, () => api.post("/workspaces", body));
      ctx.navigate(`/w/${seg(workspace.id)}`);
    } catch (error) {
      showError(message, error);
    }
  });

  mount(main, h("h1", {}, "Workspaces"), message, list, form);
  ctx.focusMain();

  try {
    const { items } = await api.all("/workspaces");
    if (ctx.view.stale()) return;
    list.removeAttribute("aria-busy");
    if (!items.length) {
      mount(list, h("p", { class: "empty" }, "You are not in any workspace yet. Create one below."));
      return;
    }
    mount(list, h("ul", { class: "cards" }, items.map((ws) =>
      h("li", { class: "card" },
        h("a", { href: `/w/${seg(ws.id)}`, "data-link": true, class: "title" }, ws.name),
        ws.description ? h("p", { class: "muted" }, ws.description) : null,
        h("span", { class: `badge role-${ws.my_role}` }, ROLE_NAMES[ws.my_role] || ws.my_role)))));
  } catch (error) {
    list.removeAttribute("aria-busy");
    showError(list, error);
  }
}
