// The admin area's workspace quota form (issue 17): set a workspace's storage quota by its id.
// Lower than its usage is allowed (nothing is deleted; new uploads are refused).

import { seg } from "../api.js";
import { announce, busy, field, formatSize, h, mount, showError } from "../ui.js";

const GIB = 1024 ** 3;

export function quotaForm(api) {
  const message = h("div", { class: "message" });
  const workspace = h("input", { type: "text", required: true, autocomplete: "off", maxlength: 128, spellcheck: "false" });
  const gib = h("input", { type: "number", required: true, min: "0", step: "any", inputmode: "decimal" });
  const form = h("form", { class: "inline-form", "aria-labelledby": "quota-title" },
    h("h2", { id: "quota-title" }, "Workspace quota"),
    field("Workspace id", workspace, "The id in the workspace's address: /w/<id>."),
    field("Quota in GiB", gib, "Lower than what the workspace uses already is allowed: new uploads are then refused."),
    h("button", { type: "submit", class: "primary" }, "Set quota"),
    message);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(message, null);
    const id = workspace.value.trim();
    const value = Number(gib.value);
    if (!id || gib.value === "" || !Number.isFinite(value) || value < 0) {
      showError(message, new Error("Enter the workspace id and a quota of 0 GiB or more."));
      return;
    }
    try {
      const answer = await busy(form, () =>
        api.patch(`/admin/workspaces/${seg(id)}`, { quota_bytes: Math.round(value * GIB) }));
      const text = `${answer.name}: ${formatSize(answer.used_bytes)} of ${formatSize(answer.quota_bytes)} used.`;
      announce(`Quota set. ${text}`);
      mount(message, h("p", { class: "ok", role: "status" }, `Quota set. ${text}`));
    } catch (error) {
      showError(message, error.status === 404 ? new Error("No workspace has this id.") : error);
    }
  });
  return form;
}
