// One document: details (rename, move, tags, description), versions with downloads, a new
// version upload, share links, trash, and (for editors) its audit trail.

import { seg } from "../api.js";
import { announce, busy, confirmAction, copyText, field, formatSize, h, mount, showError, time } from "../ui.js";
import { auditTable, can, download, dropZone, parseTags, tagList, uploadList } from "./common.js";
import { renderLinks } from "./share.js";
import { normalizeFolder, run, statusText } from "./workspace.js";

export async function renderDocument(main, ctx, documentId) {
  const { api } = ctx;
  mount(main, h("p", { class: "muted" }, "Loading…"));
  let doc;
  let workspace;
  let people;
  try {
    doc = await api.get(`/documents/${seg(documentId)}`);
    [workspace, people] = await Promise.all([
      api.get(`/workspaces/${seg(doc.workspace_id)}`),
      // Versions and edits name user ids; members' emails make them readable (former members stay ids).
      api.all(`/workspaces/${seg(doc.workspace_id)}/members`).then(
        ({ items }) => new Map(items.map((m) => [m.user_id, m.email])),
        () => new Map(),
      ),
    ]);
  } catch (error) {
    if (ctx.view.stale()) return;
    mount(main, h("h1", {}, "Document"), h("p", {}, h("a", { href: "/", "data-link": true }, "All workspaces")));
    showError(main.appendChild(h("div")), error);
    return;
  }
  if (ctx.view.stale()) return;
  document.title = `${doc.name} · DocuServe`;
  const role = workspace.my_role;
  const wsUrl = `/w/${seg(workspace.id)}`;
  const folder = normalizeFolder(doc.folder);
  const message = h("div", { class: "message" });
  const versions = doc.versions || [];

  const actions = h("div", { class: "actions" });
  if (doc.status === "available") {
    actions.append(h("button", { type: "button", class: "primary", onclick: () => run(message, () => download(api, doc.id)) },
      "Download latest"));
  }
  if (can(role, "editor") && doc.status !== "deleted") {
    actions.append(h("button", {
      type: "button", class: "danger",
      onclick: () => run(message, async () => {
        await api.delete(`/documents/${seg(doc.id)}`);
        announce(`${doc.name} moved to the trash.`);
        ctx.navigate(folder === "/" ? wsUrl : `${wsUrl}?folder=${encodeURIComponent(folder)}`);
      }),
    }, "Move to trash"));
  }
  if (can(role, "editor") && doc.status === "deleted") {
    // Its links stay unavailable unless the restore asks for them back: the dialog asks.
    const restore = async () => {
      const answer = await confirmAction(`Restore “${doc.name}”?`,
        "The document comes back from the trash. Its share links stay switched off unless you turn them back on here.",
        "Restore", { danger: false, choices: [{ name: "resume", label: "Also turn its share links back on", checked: false }] });
      if (!answer.confirmed) return;
      await run(message, async () => {
        const restored = await api.post(`/documents/${seg(doc.id)}/restore`, { resume_links: answer.resume });
        announce(answer.resume
          ? `${doc.name} restored; ${restored.links_resumed} link(s) active again.`
          : `${doc.name} restored; its links stay unavailable.`);
        ctx.navigate(location.pathname, { replace: true });
      });
    };
    actions.append(h("button", { type: "button", onclick: restore }, "Restore…"));
  }

  const versionRows = versions.map((v, i) => {
    const id = v.id || v.version_id;
    return h("tr", {},
      h("td", {}, v.number ? `v${v.number}` : `v${versions.length - i}`, id === doc.current_version ? " (current)" : ""),
      h("td", {}, formatSize(v.size)), h("td", {}, time(v.created_at)), h("td", {}, people.get(v.created_by) || v.created_by || ""),
      h("td", {}, v.status && v.status !== "available" ? statusText(v.status) :
        h("button", { type: "button", onclick: () => run(message, () => download(api, doc.id, id)) }, "Download",
          h("span", { class: "visually-hidden" }, ` version ${versions.length - i}`))));
  });

  const details = h("dl", { class: "details" },
    h("dt", {}, "Status"), h("dd", {}, statusText(doc.status)),
    h("dt", {}, "Size"), h("dd", {}, formatSize(doc.size)),
    h("dt", {}, "Type"), h("dd", {}, doc.content_type || ""),
    h("dt", {}, "Folder"), h("dd", {}, folder),
    h("dt", {}, "Tags"), h("dd", {}, tagList(doc.tags) || "None"),
    h("dt", {}, "Description"), h("dd", {}, doc.description || "None"),
    h("dt", {}, "Updated"), h("dd", {}, time(doc.updated_at), doc.updated_by ? ` by ${people.get(doc.updated_by) || doc.updated_by}` : ""),
    h("dt", {}, "SHA-256"), h("dd", {}, doc.sha256 ? shaField(doc.sha256) : ""));

  const sections = [
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" },
      h("a", { href: "/", "data-link": true }, "Workspaces"), " / ",
      h("a", { href: wsUrl, "data-link": true }, workspace.name), " / ",
      folder.split("/").filter(Boolean).map((name, i, parts) => {
        const path = `/${parts.slice(0, i + 1).join("/")}`;
        return [h("a", { href: `${wsUrl}?folder=${encodeURIComponent(path)}`, "data-link": true }, name), " / "];
      })),
    h("h1", {}, doc.name), message, actions, details,
  ];
  if (can(role, "editor") && doc.status !== "deleted") sections.push(editForm(ctx, doc, message));
  sections.push(h("section", { "aria-labelledby": "versions-h" }, h("h2", { id: "versions-h" }, "Versions"),
    versions.length
      ? h("div", { class: "table-wrap" }, h("table", {},
        h("thead", {}, h("tr", {}, ["Version", "Size", "Uploaded", "By", "Download"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, versionRows)))
      : h("p", { class: "empty" }, "No version has landed yet.")));
  if (can(role, "editor") && doc.status !== "deleted") {
    const uploads = uploadList(api, () => ctx.navigate(location.pathname, { replace: true }));
    const zone = dropZone("Upload a new version", ([file]) => uploads.add(file,
      (info) => api.post(`/documents/${seg(doc.id)}/versions`, info)), { multiple: false });
    sections.push(h("section", { "aria-labelledby": "newver-h" }, h("h2", { id: "newver-h" }, "New version"),
      zone.element, uploads.element));
  }
  const links = h("section", { class: "links-section" });
  const audit = h("section", {});
  if (can(role, "editor")) sections.push(links, audit);
  mount(main, ...sections);
  ctx.focusMain();

  if (can(role, "editor")) {
    const loadActivity = () => {
      mount(audit, h("h2", {}, "Activity"), h("p", { class: "muted" }, "Loading…"));
      return api.get(`/documents/${seg(doc.id)}/audit`, { limit: 50 })
        .then((page) => mount(audit, h("h2", {}, "Activity"), auditTable(page.items || [], "Document activity, newest first")))
        .catch((error) => mount(audit, h("h2", {}, "Activity"), h("p", { class: "error" }, error.message)));
    };
    renderLinks(ctx, doc, links, loadActivity);
    loadActivity();
  }
}

/** SPEC's base64 SHA-256 as `sha256sum` prints it: 64 lower-case hex digits. */
export function sha256Hex(base64) {
  try {
    return [...atob(base64)].map((c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("");
  } catch {
    return "";
  }
}

function shaField(base64) {
  const hex = sha256Hex(base64);
  const copied = h("span", { class: "muted", role: "status" });
  return h("span", { class: "sha" }, h("code", { class: "mono sha-hex" }, hex), " ",
    h("button", {
      type: "button", class: "small",
      onclick: async () => { copied.textContent = (await copyText(hex)) ? "Copied." : "Select it and press Ctrl+C (⌘C)."; },
    }, "Copy", h("span", { class: "visually-hidden" }, " SHA-256")), " ", copied);
}

function editForm(ctx, doc, message) {
  const name = h("input", { type: "text", value: doc.name, required: true, maxlength: 255 });
  const folder = h("input", { type: "text", value: normalizeFolder(doc.folder), maxlength: 1024 });
  const tags = h("input", { type: "text", value: (doc.tags || []).join(", "), autocomplete: "off" });
  const description = h("textarea", { rows: 2, maxlength: 4096 }, doc.description || "");
  const form = h("form", { class: "stack" },
    field("Name", name), field("Folder", folder, "A path such as /projects/launch."),
    field("Tags", tags, "Separated by commas. Tags are saved in lower case, so “Q3” and “q3” are one tag."), field("Description", description),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save changes")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(message, null);
    try {
      await busy(form, () => ctx.api.patch(`/documents/${seg(doc.id)}`, {
        name: name.value.trim(), folder: normalizeFolder(folder.value), tags: parseTags(tags.value),
        description: description.value.trim(),
      }));
      announce("Changes saved.");
      ctx.navigate(location.pathname, { replace: true });
    } catch (error) {
      showError(message, error);
    }
  });
  return h("details", { class: "edit" }, h("summary", {}, "Edit details"), form);
}
