// One workspace: its documents by folder (search, tags, upload), trash, members and activity.

import { seg } from "../api.js";
import { announce, busy, confirmAction, field, formatSize, h, mount, openDialog, showError, time } from "../ui.js";
import { uploadTray } from "../tray.js";
import {
  auditTable, can, download, dropZone, explicitFolders, folderNameField, lineage, mergeFolders, normalizeFolder, tagList,
} from "./common.js";
import { renderRequests } from "./requests.js";
import { LINK_STATE_TEXT, openShareDialog } from "./share.js";

const TABS = [
  ["documents", "Documents", "viewer"],
  ["trash", "Trash", "viewer"],
  ["members", "Members", "viewer"],
  ["links", "Share links", "editor"],
  ["requests", "Upload requests", "editor"],
  ["activity", "Activity", "owner"],
];

export { normalizeFolder };

/** "x of y used" with a bar: what counts against the workspace's quota (uploads under way, versions, trash). */
export function usageLine(workspace) {
  if (typeof workspace.quota_bytes !== "number") return null;
  const used = Number(workspace.used_bytes) || 0;
  const quota = workspace.quota_bytes;
  const text = `${formatSize(used)} of ${formatSize(quota)} used`;
  return h("p", { class: "usage muted" },
    h("meter", {
      min: "0", max: String(Math.max(quota, 1)), value: String(Math.min(used, Math.max(quota, 1))),
      high: String(Math.round(quota * 0.9)), optimum: "0", "aria-label": "Storage used", title: text,
    }),
    " ", h("span", {}, text));
}

export async function renderWorkspace(main, ctx, workspaceId) {
  const { api } = ctx;
  const params = new URLSearchParams(location.search);
  const tab = params.get("tab") || "documents";
  mount(main, h("p", { class: "muted" }, "Loading…"));
  let workspace;
  try {
    workspace = await api.get(`/workspaces/${seg(workspaceId)}`);
  } catch (error) {
    if (ctx.view.stale()) return;
    mount(main, h("h1", {}, "Workspace"), h("p", {}, h("a", { href: "/", "data-link": true }, "All workspaces")));
    showError(main.appendChild(h("div")), error);
    return;
  }
  if (ctx.view.stale()) return;
  document.title = `${workspace.name} · DocuServe`;
  const role = workspace.my_role;
  const base = `/w/${seg(workspaceId)}`;
  const panel = h("section", { id: "panel", "aria-labelledby": `tab-${tab}` });

  mount(main,
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "/", "data-link": true }, "Workspaces"), " / "),
    h("div", { class: "title-row" }, h("h1", {}, workspace.name), h("span", { class: `badge role-${role}` }, role)),
    workspace.description ? h("p", { class: "muted" }, workspace.description) : null,
    usageLine(workspace),
    h("nav", { class: "tabs", "aria-label": "Workspace sections" },
      TABS.filter(([, , needed]) => can(role, needed)).map(([key, label]) =>
        h("a", {
          href: key === "documents" ? base : `${base}?tab=${key}`, "data-link": true, id: `tab-${key}`,
          "aria-current": key === tab ? "page" : null,
        }, label))),
    panel);
  ctx.focusMain();

  const wctx = { ...ctx, workspace, workspaceId, role, base, panel };
  if (tab === "trash") return renderTrash(wctx);
  if (tab === "members") return renderMembers(wctx);
  if (tab === "activity" && can(role, "owner")) return renderActivity(wctx);
  if (tab === "links" && can(role, "editor")) return renderWorkspaceLinks(wctx, params);
  if (tab === "requests" && can(role, "editor")) return renderRequests(wctx, params);
  return renderDocuments(wctx, params);
}

async function renderDocuments(ctx, params) {
  const { api, role, base, panel, workspaceId } = ctx;
  const folder = normalizeFolder(params.get("folder"));
  const q = params.get("q") || "";
  const tag = params.get("tag") || "";
  const searching = Boolean(q || tag);
  const message = h("div", { class: "message" });
  const listing = h("div", { "aria-live": "polite", "aria-busy": "true" }, h("p", { class: "muted" }, "Loading documents…"));
  const folderUrl = (f) => (f === "/" ? base : `${base}?folder=${encodeURIComponent(f)}`);

  // Search and tag filter: a GET form, so the URL holds the search and Back works.
  const qInput = h("input", { type: "search", name: "q", value: q, autocomplete: "off" });
  const tagInput = h("input", { type: "text", name: "tag", value: tag, autocomplete: "off" });
  const search = h("form", { class: "search", role: "search" },
    field("Search by name", qInput), field("Tag", tagInput),
    h("button", { type: "submit" }, "Search"),
    searching ? h("a", { href: folderUrl(folder), "data-link": true }, "Clear") : null);
  search.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    if (folder !== "/") next.set("folder", folder);
    if (qInput.value.trim()) next.set("q", qInput.value.trim());
    if (tagInput.value.trim()) next.set("tag", tagInput.value.trim());
    const text = next.toString();
    ctx.navigate(text ? `${base}?${text}` : base);
  });

  // Breadcrumb of folders.
  const parts = folder.split("/").filter(Boolean);
  const crumbs = h("nav", { class: "crumbs folders", "aria-label": "Folder" },
    h("a", { href: folderUrl("/"), "data-link": true, "aria-current": parts.length ? null : "location" }, "All files"),
    parts.map((name, i) => {
      const path = `/${parts.slice(0, i + 1).join("/")}`;
      return [" / ", h("a", { href: folderUrl(path), "data-link": true,
        "aria-current": i === parts.length - 1 ? "location" : null }, name)];
    }));

  let reload = () => {};
  let known = []; // the workspace's documents as last listed
  const tools = [];
  if (can(role, "editor")) {
    const tray = uploadTray();
    tray.restore(api);
    const unsubscribe = tray.subscribe((event) => {
      if (ctx.view.stale()) {
        unsubscribe();
        return;
      }
      if (event.workspaceId === workspaceId) reload();
    });
    const zone = dropZone("Upload files", async (files, fromFolders = [], directories = []) => {
      // A folder's worth: its subfolders are made first (with their parents; idempotent), then
      // each file goes into the folder it came from, below the one open here.
      const targets = files.map((_, i) => normalizeFolder(`${folder}/${fromFolders[i] || ""}`));
      const made = [...new Set([...directories.map((d) => normalizeFolder(`${folder}/${d}`)), ...targets])]
        .filter((f) => f !== "/" && f !== folder);
      const deepest = made.filter((f) => !made.some((other) => other.startsWith(`${f}/`)));
      try {
        for (const path of deepest) await api.post(`/workspaces/${seg(workspaceId)}/folders`, { path });
      } catch (error) {
        showError(message, error);
        return;
      }
      if (made.length) announce(`${made.length === 1 ? "1 folder" : `${made.length} folders`} created; uploading ${files.length} file(s).`);
      // One at a time, so that each same-name question is answered before the next file.
      for (const [i, file] of files.entries()) {
        const into = targets[i];
        const target = await chooseTarget(file, into, () => known, tray.namesInto(workspaceId, into));
        if (target) tray.add(api, file, { workspaceId, folder: into, ...target });
      }
      reload();
    }, { folders: true });
    const newFolder = h("button", { type: "button", onclick: () => askFolder(ctx, folder, folderUrl) }, "New folder");
    tools.push(h("div", { class: "toolbar" }, zone.element, newFolder));
  }

  mount(panel, h("h2", { class: "visually-hidden" }, "Documents"), searching ? null : crumbs, search, message,
    ...tools, listing);

  reload = async () => {
    try {
      let items;
      let truncated;
      let explicit = [];
      if (searching) {
        ({ items, truncated } = await api.all(`/workspaces/${seg(workspaceId)}/documents`, { q, tag }));
      } else {
        // One listing of the workspace gives this folder's documents and the subfolders they imply;
        // the explicit folders add those that are empty.
        [{ items, truncated }, explicit] = await Promise.all([
          api.all(`/workspaces/${seg(workspaceId)}/documents`),
          explicitFolders(api, workspaceId),
        ]);
      }
      if (ctx.view.stale()) return;
      known = items;
      listing.removeAttribute("aria-busy");
      const uploading = can(role, "editor") ? uploadTray().uploadingInto(workspaceId, folder).length : 0;
      const folders = mergeFolders(explicit, items);
      mount(listing, documentTable(ctx, items, { folder, searching, folderUrl, reload, message, uploading, folders }),
        truncated ? h("p", { class: "muted" }, "Only the first 2,000 documents are shown. Search to narrow it down.") : null);
    } catch (error) {
      listing.removeAttribute("aria-busy");
      showError(listing, error);
    }
  };
  await reload();
}

/** "Plan.pdf" and taken names -> "Plan (2).pdf" (the first number free); a leading dot is no extension. */
export function keepBothName(name, taken) {
  const lower = new Set([...taken].map((n) => n.toLowerCase()));
  const dot = name.lastIndexOf(".");
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ""];
  for (let n = 2; ; n++) {
    const candidate = `${stem} (${n})${ext}`;
    if (!lower.has(candidate.toLowerCase())) return candidate;
  }
}

/**
 * Where `file` goes: {name} for a new document, {name, documentId, newVersion} for a new version
 * of the document of that name in `folder`, or null when the person skips it. A name already
 * taken asks "new version or keep both" (as Box and Drive do); names are compared ignoring case.
 */
async function chooseTarget(file, folder, listed, uploadingNames) {
  const inFolder = listed().filter((d) => normalizeFolder(d.folder) === folder);
  const same = inFolder.find((d) => d.name.toLowerCase() === file.name.toLowerCase());
  const busy = uploadingNames.some((n) => n.toLowerCase() === file.name.toLowerCase());
  if (!same && !busy) return { name: file.name };
  const taken = [...inFolder.map((d) => d.name), ...uploadingNames];
  const both = keepBothName(file.name, taken);
  const canVersion = same && same.status === "available";
  const choice = await new Promise((resolve) => {
    let answered = null;
    const dialog = openDialog("A file with this name exists", (close) => {
      const pick = (value) => () => {
        answered = value;
        close();
      };
      const version = canVersion
        ? h("button", { type: "button", class: "primary", onclick: pick("version") }, "Upload as a new version")
        : null;
      const body = h("div", { class: "stack" },
        h("p", {}, `“${file.name}” already exists in this folder${canVersion ? "" : " (it is still being uploaded)"}.`),
        h("p", { class: "muted" }, canVersion
          ? `A new version keeps the older ones downloadable. Keeping both uploads this file as “${both}”.`
          : `Keeping both uploads this file as “${both}”.`),
        h("div", { class: "actions" }, version,
          h("button", { type: "button", class: canVersion ? null : "primary", onclick: pick("both") }, "Keep both"),
          h("button", { type: "button", onclick: close }, "Skip this file")));
      setTimeout(() => (body.querySelector("button.primary") || body.querySelector("button")).focus(), 0);
      return body;
    });
    dialog.addEventListener("close", () => resolve(answered));
  });
  if (choice === "version") return { name: same.name, documentId: same.id, newVersion: true };
  if (choice === "both") return { name: both };
  return null;
}

/** "New folder": created on the server (with any missing parent), then opened. */
function askFolder(ctx, folder, folderUrl) {
  openDialog("New folder", (close) => {
    const name = folderNameField();
    const message = h("div", { class: "message" });
    const form = h("form", { class: "stack" },
      name.element,
      h("p", { class: "hint" }, folder === "/" ? "It is made at the top level of this workspace." : `It is made inside ${folder}.`),
      message,
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Create and open folder"),
        h("button", { type: "button", onclick: close }, "Cancel")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!name.check()) return;
      const path = normalizeFolder(`${folder}/${name.input.value.trim()}`);
      try {
        const reply = await busy(form, () => ctx.api.post(`/workspaces/${seg(ctx.workspaceId)}/folders`, { path }));
        announce(`Folder ${reply.name} created.`);
        close();
        ctx.navigate(folderUrl(reply.path));
      } catch (error) {
        showError(message, error);
      }
    });
    return form;
  });
}

/** Delete the open folder (only an explicit, empty one; the server refuses anything else with 409). */
async function deleteFolder(ctx, folder, folderUrl, message) {
  const sure = await confirmAction(`Delete the folder “${folder.split("/").pop()}”?`,
    `${folder} is empty. Deleting it removes the folder; nothing else changes.`, "Delete folder");
  if (!sure) return;
  await run(message, async () => {
    await ctx.api.delete(`/workspaces/${seg(ctx.workspaceId)}/folders`, { path: folder });
    announce(`Folder ${folder} deleted.`);
    const parent = folder.split("/").slice(0, -1).join("/") || "/";
    ctx.navigate(folderUrl(parent));
  });
}

function documentTable(ctx, items, { folder, searching, folderUrl, reload, message, uploading = 0, folders }) {
  const { role } = ctx;
  const docs = [];
  const subfolders = new Set();
  for (const doc of items) {
    if (searching || normalizeFolder(doc.folder) === folder) docs.push(doc);
  }
  if (!searching && folders) {
    // Explicit and implied folders alike: the next level below the open folder.
    const depth = folder === "/" ? 1 : folder.split("/").length;
    for (const path of folders.paths) {
      if (path !== "/" && lineage(path).length === depth && (folder === "/" || path.startsWith(`${folder}/`))) {
        subfolders.add(path.split("/").pop());
      }
    }
  }
  if (!docs.length && !subfolders.size) {
    if (!searching && uploading) {
      return h("p", { class: "empty" }, `${uploading === 1 ? "1 file is" : `${uploading} files are`} being uploaded into this folder; they appear here as they start.`);
    }
    if (searching) return h("p", { class: "empty" }, "No documents match.");
    const removable = folder !== "/" && can(role, "editor") && folders && folders.explicit.has(folder);
    return h("div", { class: "empty-folder" }, h("p", { class: "empty" }, "This folder is empty."),
      removable ? h("button", { type: "button", class: "danger", onclick: () => deleteFolder(ctx, folder, folderUrl, message) },
        "Delete this folder") : null);
  }
  docs.sort((a, b) => a.name.localeCompare(b.name));
  // Editors select available documents (checkboxes) and share them as one bundle link (≤ 100).
  const selecting = can(role, "editor") && docs.some((doc) => doc.status === "available");
  const selected = new Map();
  const shareSelection = h("button", {
    type: "button", class: "share-selection", disabled: true,
    onclick: () => openShareDialog(ctx, {
      bundle: true,
      workspace_id: [...selected.values()][0].workspace_id,
      document_ids: [...selected.keys()],
      name: `${selected.size} ${selected.size === 1 ? "document" : "documents"}`,
    }),
  }, "Share selection");
  const selectionNote = h("span", { class: "muted", role: "status" });
  const onSelect = (doc, checked) => {
    if (checked) selected.set(doc.id, doc); else selected.delete(doc.id);
    shareSelection.disabled = selected.size === 0 || selected.size > 100;
    selectionNote.textContent = selected.size
      ? `${selected.size} selected${selected.size > 100 ? " (at most 100 per link)" : ""}` : "";
  };
  const pick = (doc) => (doc.status === "available"
    ? h("input", { type: "checkbox", class: "select-doc", "aria-label": `Select ${doc.name}`,
      onchange: (event) => onSelect(doc, event.target.checked) })
    : null);
  const folderRows = [...subfolders].sort().map((name) => h("tr", { class: "folder" },
    selecting ? h("td", {}) : null,
    h("td", { class: "name" }, h("a", { href: folderUrl(normalizeFolder(`${folder}/${name}`)), "data-link": true },
      folderIcon(), name)),
    h("td", {}, "Folder"), h("td", {}), h("td", {}), h("td", {})));
  const docRows = docs.map((doc) => {
    const actions = [];
    if (doc.status === "available") {
      actions.push(h("button", { type: "button", onclick: () => run(message, () => download(ctx.api, doc.id)) },
        "Download", h("span", { class: "visually-hidden" }, ` ${doc.name}`)));
      if (can(role, "editor")) {
        actions.push(h("button", { type: "button", onclick: () => openShareDialog(ctx, doc) },
          "Share", h("span", { class: "visually-hidden" }, ` ${doc.name}`)));
      }
    }
    if (can(role, "editor")) {
      actions.push(h("button", {
        type: "button", class: "danger",
        onclick: () => run(message, async () => {
          await ctx.api.delete(`/documents/${seg(doc.id)}`);
          announce(`${doc.name} moved to the trash.`);
          await reload();
        }),
      }, "Trash", h("span", { class: "visually-hidden" }, ` ${doc.name}`)));
    }
    return h("tr", { dataset: { documentId: doc.id } },
      selecting ? h("td", { class: "select" }, pick(doc)) : null,
      h("td", { class: "name" }, h("a", { href: `/d/${seg(doc.id)}`, "data-link": true }, doc.name),
        searching ? h("small", { class: "muted" }, ` in ${normalizeFolder(doc.folder)}`) : null, tagList(doc.tags)),
      h("td", {}, h("span", { class: `status status-${doc.status}` }, statusText(shownStatus(doc)))),
      h("td", {}, formatSize(doc.size)),
      h("td", {}, time(doc.updated_at || doc.created_at)),
      h("td", { class: "row-actions" }, actions));
  });
  return h("div", { class: "table-wrap" },
    selecting ? h("div", { class: "actions selection-bar" }, shareSelection, selectionNote) : null,
    h("table", { class: "documents" },
      h("caption", { class: "visually-hidden" }, searching ? "Search results" : `Contents of ${folder}`),
      h("thead", {}, h("tr", {},
        selecting ? h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Select")) : null,
        ["Name", "Status", "Size", "Updated", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, folderRows, docRows)));
}

/** A document's status as people need it: a first upload blocked by its scan says so. */
export function shownStatus(doc) {
  if (doc.status === "pending" && ["infected", "unscannable"].includes(doc.scan_status)) return doc.scan_status;
  return doc.status;
}

export function statusText(status) {
  return {
    available: "Available", pending: "Uploading", deleted: "In trash", scanning: "Scanning for malware",
    infected: "Blocked: a threat was found", unscannable: "Blocked: could not be scanned",
  }[status] || status;
}

/** Run an action, showing its error in `message`. */
export async function run(message, work) {
  showError(message, null);
  try {
    await work();
  } catch (error) {
    showError(message, error);
  }
}

async function renderTrash(ctx) {
  const { api, role, panel, workspaceId } = ctx;
  const message = h("div", { class: "message" });
  const listing = h("div", {}, h("p", { class: "muted" }, "Loading the trash…"));
  mount(panel, h("h2", {}, "Trash"),
    h("p", { class: "muted" }, "Documents in the trash are deleted for good after 30 days."), message, listing);
  const reload = async () => {
    try {
      const { items } = await api.all(`/workspaces/${seg(workspaceId)}/documents`, { status: "deleted" });
      if (ctx.view.stale()) return;
      if (!items.length) {
        mount(listing, h("p", { class: "empty" }, "The trash is empty."));
        return;
      }
      mount(listing, h("ul", { class: "rows" }, items.map((doc) => h("li", {},
        h("span", { class: "name" }, doc.name), h("span", { class: "muted" }, ` ${normalizeFolder(doc.folder)} · ${formatSize(doc.size)}`),
        h("span", { class: "row-actions" },
          can(role, "editor") ? h("button", {
            type: "button",
            onclick: () => restoreFromTrash(ctx, doc, message, reload),
          }, "Restore…", h("span", { class: "visually-hidden" }, ` ${doc.name}`)) : null,
          can(role, "owner") ? h("button", {
            type: "button", class: "danger",
            onclick: () => confirmPurge(ctx, doc, message, reload),
          }, "Delete forever", h("span", { class: "visually-hidden" }, ` ${doc.name}`)) : null)))));
    } catch (error) {
      showError(listing, error);
    }
  };
  await reload();
}

/** Restore asks, as on the document page, whether the document's share links come back too (off by default). */
async function restoreFromTrash(ctx, doc, message, reload) {
  const answer = await confirmAction(`Restore “${doc.name}”?`,
    `It goes back to ${normalizeFolder(doc.folder)}. Its share links stay switched off unless you turn them back on here.`,
    "Restore", { danger: false, choices: [{ name: "resume", label: "Also turn its share links back on", checked: false }] });
  if (!answer.confirmed) return;
  await run(message, async () => {
    const restored = await ctx.api.post(`/documents/${seg(doc.id)}/restore`, { resume_links: answer.resume });
    announce(answer.resume
      ? `${doc.name} restored; ${restored.links_resumed} link(s) active again.`
      : `${doc.name} restored; its links stay unavailable.`);
    await reload();
  });
}

function confirmPurge(ctx, doc, message, reload) {
  openDialog("Delete forever?", (close) => h("div", { class: "stack" },
    h("p", {}, `“${doc.name}” and all its versions will be deleted for good. This cannot be undone.`),
    h("div", { class: "actions" },
      h("button", {
        type: "button", class: "danger",
        onclick: () => {
          close();
          run(message, async () => {
            await ctx.api.delete(`/documents/${seg(doc.id)}`, { purge: "true" });
            announce(`${doc.name} deleted for good.`);
            await reload();
          });
        },
      }, "Delete forever"),
      h("button", { type: "button", onclick: close, autofocus: true }, "Cancel"))));
}

async function renderMembers(ctx) {
  const { api, role, panel, workspaceId } = ctx;
  const message = h("div", { class: "message" });
  const listing = h("div", {}, h("p", { class: "muted" }, "Loading members…"));
  const owner = can(role, "owner");
  const roleSelect = (value, label) => h("select", { "aria-label": label },
    ["viewer", "editor", "owner"].map((r) => h("option", { value: r, selected: r === value }, r)));

  let form = null;
  if (owner) {
    const email = h("input", { type: "email", required: true, autocomplete: "off" });
    const newRole = roleSelect("viewer", "Role");
    newRole.id = "new-member-role";
    form = h("form", { class: "inline-form" }, h("h3", {}, "Add a member"), field("Email", email),
      h("div", { class: "field" }, h("label", { for: newRole.id }, "Role"), newRole),
      h("button", { type: "submit", class: "primary" }, "Add member"));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      await run(message, async () => {
        await busy(form, () => api.post(`/workspaces/${seg(workspaceId)}/members`,
          { email: email.value.trim(), role: newRole.value }));
        announce(`${email.value.trim()} added.`);
        email.value = "";
        await reload();
      });
    });
  }
  mount(panel, h("h2", {}, "Members"), message, listing, form);

  const reload = async () => {
    try {
      const { items } = await api.all(`/workspaces/${seg(workspaceId)}/members`);
      if (ctx.view.stale()) return;
      mount(listing, h("ul", { class: "rows" }, items.map((m) => {
        const label = `Role of ${m.email}`;
        let roleCell = h("span", { class: `badge role-${m.role}` }, m.role);
        if (owner) {
          roleCell = roleSelect(m.role, label);
          roleCell.addEventListener("change", () => run(message, async () => {
            try {
              await api.put(`/workspaces/${seg(workspaceId)}/members/${seg(m.user_id)}`, { role: roleCell.value });
            } catch (error) {
              roleCell.value = m.role; // refused: show the role that is still stored
              throw error;
            }
            announce(`${m.email} is now ${roleCell.value}.`);
            await reload();
          }));
        }
        const self = m.user_id === (ctx.auth.user || {}).sub;
        const remove = async () => {
          const sure = await confirmAction(self ? "Leave this workspace?" : `Remove ${m.email}?`,
            self
              ? `You will lose access to “${ctx.workspace.name}” and its documents at once. Only an owner can add you back.`
              : `${m.email} will lose access to “${ctx.workspace.name}” and its documents at once.`,
            self ? "Remove me" : "Remove member");
          if (!sure) return;
          await run(message, async () => {
            await api.delete(`/workspaces/${seg(workspaceId)}/members/${seg(m.user_id)}`);
            announce(self ? `You left ${ctx.workspace.name}.` : `${m.email} removed.`);
            if (self) ctx.navigate("/");
            else await reload();
          });
        };
        return h("li", {}, h("span", { class: "name" }, m.email, self ? " (you)" : ""), roleCell,
          owner ? h("button", { type: "button", class: "danger", onclick: remove },
            "Remove", h("span", { class: "visually-hidden" }, ` ${m.email}`)) : null);
      })));
    } catch (error) {
      showError(listing, error);
    }
  };
  await reload();
}

async function renderActivity(ctx) {
  const { api, panel, workspaceId } = ctx;
  mount(panel, h("h2", {}, "Activity"), h("p", { class: "muted" }, "Loading…"));
  try {
    const page = await api.get(`/workspaces/${seg(workspaceId)}/audit`, { limit: 100 });
    if (ctx.view.stale()) return;
    mount(panel, h("h2", {}, "Activity"), auditTable(page.items || [], "Workspace activity, newest first"));
  } catch (error) {
    showError(panel.appendChild(h("div")), error);
  }
}

const PAGE_SIZE = 25;

/** Every link of the workspace, newest first, by state; paged with the API's cursor. */
async function renderWorkspaceLinks(ctx, params) {
  const { api, base, panel, workspaceId } = ctx;
  const state = LINK_STATE_TEXT[params.get("state")] ? params.get("state") : "";
  const select = h("select", { name: "state" },
    h("option", { value: "" }, "All links"),
    Object.entries(LINK_STATE_TEXT).map(([value, text]) => h("option", { value, selected: value === state }, text)));
  const filter = h("form", { class: "inline-form" }, field("State", select), h("button", { type: "submit" }, "Show"));
  filter.addEventListener("submit", (event) => {
    event.preventDefault();
    ctx.navigate(select.value ? `${base}?tab=links&state=${encodeURIComponent(select.value)}` : `${base}?tab=links`);
  });
  const listing = h("div", { "aria-live": "polite" }, h("p", { class: "muted" }, "Loading links…"));
  mount(panel, h("h2", {}, "Share links"), filter, listing);
  const cursors = [undefined]; // cursors[i] opens page i
  const show = async (index) => {
    try {
      const page = await api.get(`/workspaces/${seg(workspaceId)}/links`,
        { limit: PAGE_SIZE, cursor: cursors[index], state: state || undefined });
      if (ctx.view.stale()) return;
      cursors[index + 1] = page.next_cursor || undefined;
      const items = page.items || [];
      const rows = items.map((l) => h("tr", { dataset: { shareId: l.id, state: l.state } },
        h("td", {}, h("a", { href: `/d/${seg(l.document_id)}`, "data-link": true }, l.document_name)),
        h("td", {}, l.label || h("span", { class: "muted" }, "Unlabelled")),
        h("td", {}, h("span", { class: `badge state-${l.state}` }, LINK_STATE_TEXT[l.state] || l.state)),
        h("td", {}, l.max_downloads ? `${l.download_count} of ${l.max_downloads}` : String(l.download_count)),
        h("td", {}, time(l.expires_at)),
        h("td", {}, l.last_used_at ? time(l.last_used_at) : h("span", { class: "muted" }, "Never"))));
      const previous = h("button", { type: "button", disabled: index === 0, onclick: () => show(index - 1) }, "Previous page");
      const next = h("button", { type: "button", disabled: !page.next_cursor, onclick: () => show(index + 1) }, "Next page");
      mount(listing,
        items.length
          ? h("div", { class: "table-wrap" }, h("table", { class: "workspace-links" },
            h("caption", { class: "visually-hidden" }, "Share links of this workspace, newest first"),
            h("thead", {}, h("tr", {}, ["Document", "Label", "State", "Downloads", "Expires", "Last used"]
              .map((t) => h("th", { scope: "col" }, t)))),
            h("tbody", {}, rows)))
          : h("p", { class: "empty" }, state ? "No links in this state on this page." : "No share links yet."),
        index > 0 || page.next_cursor ? h("div", { class: "actions pager" }, previous, next) : null);
    } catch (error) {
      showError(listing, error);
    }
  };
  await show(0);
}

/** The folder icon: inline SVG (no emoji font needed), decorative. */
function folderIcon() {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "18");
  svg.setAttribute("height", "18");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", "folder-icon");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", "M3 6.5A1.5 1.5 0 0 1 4.5 5h4.6l2 2h8.4A1.5 1.5 0 0 1 21 8.5v9a1.5 1.5 0 0 1-1.5 1.5h-15A1.5 1.5 0 0 1 3 17.5z");
  path.setAttribute("fill", "currentColor");
  svg.append(path);
  return svg;
}
