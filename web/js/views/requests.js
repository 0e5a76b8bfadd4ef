// Upload requests of a workspace (tab "requests", editors): ask a partner for files, list the
// requests with what they used, copy the one-time link, close one; a request's own page
// (?tab=requests&request={id}) shows its terms, its files and its activity.

import { seg } from "../api.js";
import { busy, confirmAction, copyText, field, formatSize, h, mount, showError, time } from "../ui.js";
import { auditTable, normalizeFolder } from "./common.js";

export const REQUEST_STATE_TEXT = { open: "Open", expired: "Expired", closed: "Closed" };
const MB = 1024 * 1024;

function usage(r) {
  return `${r.files_used} of ${r.max_files} files · ${formatSize(r.bytes_used)} of ${formatSize(r.max_bytes)}`;
}

function stateBadge(r) {
  return h("span", { class: `badge state-${r.state}` }, REQUEST_STATE_TEXT[r.state] || r.state);
}

async function close(ctx, request, done) {
  const ok = await confirmAction("Close this request?",
    "The partner's link stops accepting files at once. Files already sent are kept.", "Close request");
  if (!ok) return;
  await ctx.api.delete(`/requests/${seg(request.id)}`);
  done();
}

/** The creation form; `onCreated(created)` gets the answer that holds the one-time link. */
function createForm(ctx, onCreated) {
  const folder = h("input", { type: "text", name: "folder", value: "/", required: true, maxlength: 1024 });
  const maxFiles = h("input", { type: "number", name: "max_files", value: "10", min: "1", max: "1000", required: true });
  const maxMb = h("input", { type: "number", name: "max_mb", value: "100", min: "1", required: true });
  const fileMb = h("input", { type: "number", name: "max_file_mb", min: "1" });
  const types = h("input", { type: "text", name: "allowed_types", placeholder: "application/pdf, image/*" });
  const days = h("input", { type: "number", name: "expires_in_days", value: "7", min: "1", max: "90", required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "new-password", minlength: 8 });
  const message = h("textarea", { name: "message", rows: 3, maxlength: 1000 });
  const label = h("input", { type: "text", name: "label", maxlength: 200 });
  const slot = h("div", { class: "message" });
  const form = h("form", { class: "stack request-form" },
    h("h3", {}, "Ask for files"), slot,
    field("Folder the files go to", folder),
    field("Most files", maxFiles),
    field("Most megabytes in total", maxMb),
    field("Most megabytes per file (optional)", fileMb),
    field("Allowed types (optional, comma-separated)", types),
    field("Expires in days", days),
    field("Password (optional)", password),
    field("Message to the partner (optional)", message),
    field("Label (optional, only you see it)", label),
    h("button", { type: "submit", class: "primary" }, "Create request link"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(form, async () => {
      const body = {
        folder: normalizeFolder(folder.value.trim()),
        max_files: Number(maxFiles.value),
        max_bytes: Math.round(Number(maxMb.value) * MB),
        expires_in_days: Number(days.value),
      };
      if (fileMb.value) body.max_file_size = Math.round(Number(fileMb.value) * MB);
      const listed = types.value.split(",").map((t) => t.trim()).filter(Boolean);
      if (listed.length) body.allowed_types = listed;
      if (password.value) body.password = password.value;
      if (message.value.trim()) body.message = message.value;
      if (label.value.trim()) body.label = label.value.trim();
      try {
        onCreated(await ctx.api.post(`/workspaces/${seg(ctx.workspaceId)}/requests`, body));
      } catch (error) {
        showError(slot, error);
      }
    });
  });
  return form;
}

/** The one-time link, with a copy button. */
function createdLink(created) {
  const input = h("input", { type: "text", readonly: true, value: created.url, class: "request-url", "aria-label": "Request link" });
  return h("div", { class: "notice stack created-request", role: "status" },
    h("p", {}, h("strong", {}, "Request link created. "), "Copy it now: it is shown only once."),
    h("div", { class: "inline-form" }, input,
      h("button", { type: "button", onclick: () => copyText(created.url, input) }, "Copy link")));
}

export async function renderRequests(ctx, params) {
  const requestId = params.get("request");
  if (requestId) return renderRequest(ctx, requestId);
  const { api, panel, workspaceId, base } = ctx;
  const listing = h("div", { "aria-live": "polite" }, h("p", { class: "muted" }, "Loading requests…"));
  const created = h("div");
  const refresh = async () => {
    try {
      const page = await api.get(`/workspaces/${seg(workspaceId)}/requests`, { limit: 100 });
      if (ctx.view.stale()) return;
      const items = page.items || [];
      mount(listing, items.length
        ? h("div", { class: "table-wrap" }, h("table", { class: "requests" },
          h("caption", { class: "visually-hidden" }, "Upload requests of this workspace, newest first"),
          h("thead", {}, h("tr", {}, ["Request", "Folder", "State", "Used", "Expires", ""].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", {}, items.map((r) => h("tr", { dataset: { requestId: r.id, state: r.state } },
            h("td", {}, h("a", { href: `${base}?tab=requests&request=${encodeURIComponent(r.id)}`, "data-link": true },
              r.label || r.message || "Untitled request")),
            h("td", {}, r.folder),
            h("td", {}, stateBadge(r)),
            h("td", {}, usage(r)),
            h("td", {}, time(r.expires_at)),
            h("td", {}, r.state === "open"
              ? h("button", { type: "button", onclick: () => close(ctx, r, refresh).catch((e) => showError(listing, e)) }, "Close")
              : null))))))
        : h("p", { class: "empty" }, "No upload requests yet."));
    } catch (error) {
      showError(listing, error);
    }
  };
  const form = createForm(ctx, (answer) => {
    mount(created, createdLink(answer));
    refresh();
  });
  mount(panel, h("h2", {}, "Upload requests"),
    h("p", { class: "muted" }, "Ask someone outside for files: they get a link, drop their files, and the files land in the folder you choose once they are scanned."),
    created, form, h("h3", {}, "Requests"), listing);
  await refresh();
}

async function renderRequest(ctx, requestId) {
  const { api, panel, base, workspaceId } = ctx;
  mount(panel, h("p", { class: "muted" }, "Loading the request…"));
  let request;
  let activity;
  try {
    [request, activity] = await Promise.all([
      api.get(`/requests/${seg(requestId)}`),
      api.get(`/requests/${seg(requestId)}/activity`, { limit: 100 }),
    ]);
  } catch (error) {
    mount(panel, h("p", {}, h("a", { href: `${base}?tab=requests`, "data-link": true }, "All requests")));
    showError(panel.appendChild(h("div")), error);
    return;
  }
  if (ctx.view.stale()) return;
  let files = [];
  try {
    const docs = await api.all(`/workspaces/${seg(workspaceId)}/documents`, { folder: request.folder });
    files = docs.items.filter((d) => d.request_id === request.id);
  } catch {
    files = [];
  }
  if (ctx.view.stale()) return;
  const reload = () => renderRequest(ctx, requestId);
  const terms = [
    ["State", stateBadge(request)],
    ["Folder", request.folder],
    ["Used", usage(request)],
    ["Per file", request.max_file_size ? formatSize(request.max_file_size) : "Any size"],
    ["Types", request.allowed_types.length ? request.allowed_types.join(", ") : "Any type"],
    ["Password", request.password_required ? "Yes" : "No"],
    ["Expires", time(request.expires_at)],
    ["Message", request.message || "—"],
  ];
  mount(panel,
    h("p", {}, h("a", { href: `${base}?tab=requests`, "data-link": true }, "All requests")),
    h("div", { class: "title-row" }, h("h2", {}, request.label || "Upload request"),
      request.state === "open"
        ? h("button", { type: "button", onclick: () => close(ctx, request, reload).catch((e) => showError(panel, e)) }, "Close request")
        : null),
    h("dl", { class: "terms" }, terms.map(([k, v]) => [h("dt", {}, k), h("dd", { class: k === "Message" ? "message-text" : null }, v)])),
    h("h3", {}, "Files"),
    files.length
      ? h("ul", { class: "request-files" }, files.map((d) => h("li", {},
        h("a", { href: `/d/${seg(d.id)}`, "data-link": true }, d.name), " ",
        h("span", { class: "muted" }, `${formatSize(d.size)} · ${d.status === "available" ? "available" : "being checked"}`,
          d.uploaded_by_partner ? ` · from ${d.uploaded_by_partner.name || ""} ${d.uploaded_by_partner.email || ""}`.trimEnd() : ""))))
      : h("p", { class: "empty" }, "No files have arrived yet."),
    h("h3", {}, "Activity"),
    auditTable(activity.items || [], "Activity of this request, newest first"));
}
