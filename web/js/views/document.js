// One document: details (rename, move, tags, description), versions with downloads, a new
// version upload, share links, trash, and (for editors) its audit trail.

import { seg } from "../api.js";
import { announce, busy, confirmAction, copyText, field, formatSize, h, mount, showError, time } from "../ui.js";
import {
  auditTable, can, download, dropZone, explicitFolders, mergeFolders, normalizeFolder, parseTags, pickFolder, tagList, uploadList,
} from "./common.js";
import { renderLinks } from "./share.js";
import { run, shownStatus, statusText } from "./workspace.js";

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

  // Editors may make an older, available version the newest one again (a copy, under a new number).
  const restorable = can(role, "editor") && doc.status === "available";
  const versionRows = versions.map((v, i) => {
    const id = v.id || v.version_id;
    const number = v.number || versions.length - i;
    const older = id !== doc.current_version && v.status === "available";
    return h("tr", {},
      h("td", {}, `v${number}`, id === doc.current_version ? " (current)" : ""),
      h("td", {}, formatSize(v.size)), h("td", {}, time(v.created_at)), h("td", {}, people.get(v.created_by) || v.created_by || ""),
      h("td", {}, v.status === "unscannable" && can(role, "owner")
        ? [statusText(v.status), " ", h("button", { type: "button", class: "small", onclick: () => releaseVersion(ctx, doc, { id, number }, message) },
          "Release…", h("span", { class: "visually-hidden" }, ` version ${number}`))]
        : v.status && v.status !== "available" ? statusText(v.status) :
        h("button", { type: "button", onclick: () => run(message, () => download(api, doc.id, id)) }, "Download",
          h("span", { class: "visually-hidden" }, ` version ${number}`))),
      restorable ? h("td", {}, older
        ? h("button", { type: "button", onclick: () => restoreVersion(ctx, doc, { id, number }, message) }, "Restore this version",
          h("span", { class: "visually-hidden" }, ` (v${number})`))
        : "") : null);
  });
  const versionHeads = ["Version", "Size", "Uploaded", "By", "Download", ...(restorable ? ["Restore"] : [])];

  const details = h("dl", { class: "details" },
    h("dt", {}, "Status"), h("dd", {}, statusText(shownStatus(doc))),
    h("dt", {}, "Malware scan"), h("dd", {}, SCAN_TEXT[doc.scan_status] || doc.scan_status || "Not scanned"),
    h("dt", {}, "Size"), h("dd", {}, formatSize(doc.size)),
    h("dt", {}, "Type"), h("dd", {}, doc.content_type || ""),
    h("dt", {}, "Folder"), h("dd", { class: "folder-cell" }, folder,
      can(role, "editor") && doc.status !== "deleted"
        ? [" ", h("button", { type: "button", class: "small", onclick: () => moveDocument(ctx, doc, message) }, "Move…")]
        : null),
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
  const preview = previewSection(api, doc);
  if (preview) sections.push(preview);
  if (can(role, "editor") && doc.status !== "deleted") sections.push(editForm(ctx, doc, message));
  sections.push(h("section", { "aria-labelledby": "versions-h" }, h("h2", { id: "versions-h" }, "Versions"),
    versions.length
      ? h("div", { class: "table-wrap" }, h("table", {},
        h("thead", {}, h("tr", {}, versionHeads.map((t) => h("th", { scope: "col" }, t)))),
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

/** Ask, then restore `version` (its bytes become the newest version) and wait until it has landed. */
/** What a document's or version's `scan_status` reads as. */
const SCAN_TEXT = {
  pending: "Scanning",
  clean: "No threats found",
  infected: "A threat was found: never served",
  unscannable: "Could not be scanned: not served until an owner releases it",
  released: "Could not be scanned; released by an owner",
  not_scanned: "Not scanned",
};

async function releaseVersion(ctx, doc, version, message) {
  const sure = await confirmAction(`Release version ${version.number} unscanned?`,
    "The malware scan could not read this file (for example, it is encrypted or password-protected), so nobody " +
    "can download it. Release it only if you know the file is safe: members and share links will serve it, and " +
    "the release is recorded in the activity under your name.", "Release unscanned");
  if (!sure) return;
  await run(message, async () => {
    await ctx.api.post(`/documents/${seg(doc.id)}/versions/${seg(version.id)}/release`);
    announce(`Version ${version.number} released.`);
    ctx.navigate(location.pathname, { replace: true });
  });
}

async function restoreVersion(ctx, doc, version, message) {
  const next = (doc.version_count || 0) + 1;
  const sure = await confirmAction(`Restore version ${version.number}?`,
    `A copy of version ${version.number} becomes version ${next}, the newest one. No version is deleted, and links ` +
    "that follow the latest version will serve it.", "Restore this version", { danger: false });
  if (!sure) return;
  await run(message, async () => {
    const restored = await ctx.api.post(`/documents/${seg(doc.id)}/versions/${seg(version.id)}/restore`);
    announce(`Restoring version ${version.number} as version ${restored.number}…`);
    const settled = await settle(ctx.api, restored.upload_id);
    if (settled.status === "failed") throw new Error(`The restore failed: ${settled.failure_reason || "unknown reason"}.`);
    announce(settled.status === "completed"
      ? `Version ${version.number} restored as version ${restored.number}.`
      : settled.status === "scanning"
        ? `Version ${restored.number} is being scanned for malware; it becomes current when the scan is clean.`
        : `Version ${restored.number} is still being copied; it appears here when it has landed.`);
    ctx.navigate(location.pathname, { replace: true });
  });
}

/** Poll an upload session (here S3's copy, then its verification) until it is decided, up to 60 s. */
async function settle(api, uploadId) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const session = await api.get(`/uploads/${seg(uploadId)}`);
    if (!["pending", "completing", "scanning"].includes(session.status) || Date.now() > deadline) return session;
    await new Promise((resolve) => setTimeout(resolve, 400));
  }
}

/** Which preview a content type gets: images on the page, PDFs in a tab of their own, nothing else. */
export function previewKind(contentType) {
  const essence = String(contentType || "").split(";")[0].trim().toLowerCase();
  if (essence === "application/pdf") return "tab";
  if (["image/png", "image/jpeg", "image/gif", "image/webp"].includes(essence)) return "image";
  return null;
}

/**
 * The current version's preview, on request (each one is an audited inline download). The bytes
 * come from S3 under a presigned inline URL (60 s), never from the app's origin. An image shows on
 * the page (an image runs no code). A PDF opens in a new tab at the bucket's origin, without an
 * opener or referrer: Chromium refuses to show a PDF in any sandboxed frame, and an unsandboxed
 * frame would be less isolated than a tab of its own.
 */
function previewSection(api, doc) {
  const kind = previewKind(doc.content_type);
  if (!kind || doc.status !== "available") return null;
  const area = h("div", { class: "preview" });
  const title = `Preview of ${doc.name}`;
  const inlineUrl = async () => (await api.get(`/documents/${seg(doc.id)}/download`, { disposition: "inline" })).url;
  const showImage = async () => {
    show.disabled = true;
    try {
      mount(area, h("img", { referrerpolicy: "no-referrer", src: await inlineUrl(), alt: title, class: "preview-image" }));
      show.remove();
    } catch (error) {
      show.disabled = false;
      showError(area, error);
    }
  };
  const openTab = async () => {
    showError(area, null);
    // Opened within the click (so no pop-up blocker stops it), cut off from this page, then pointed at S3.
    const tab = window.open("", "_blank");
    if (!tab) {
      showError(area, new Error("Your browser blocked the new tab. Allow pop-ups for this site, or download the file."));
      return;
    }
    tab.opener = null;
    try {
      tab.location.replace(await inlineUrl());
    } catch (error) {
      tab.close();
      showError(area, error);
    }
  };
  const show = kind === "image"
    ? h("button", { type: "button", onclick: showImage }, "Show preview")
    : h("button", { type: "button", onclick: openTab }, "Open preview in a new tab");
  return h("section", { "aria-labelledby": "preview-h", class: "preview-section" },
    h("h2", { id: "preview-h" }, "Preview"), show, area);
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

/**
 * "Move…": the workspace's folders (explicit and implied by its documents) in a dialog, plus
 * "New folder here"; then PATCH /documents/{id} {folder}. Nothing to type.
 */
async function moveDocument(ctx, doc, message) {
  showError(message, null);
  let folders;
  try {
    const [{ items }, explicit] = await Promise.all([
      ctx.api.all(`/workspaces/${seg(doc.workspace_id)}/documents`),
      explicitFolders(ctx.api, doc.workspace_id),
    ]);
    folders = mergeFolders(explicit, [...items, doc]).paths;
  } catch (error) {
    showError(message, error);
    return;
  }
  const target = await pickFolder(ctx, { workspaceId: doc.workspace_id, folders, current: doc.folder,
    title: `Move “${doc.name}”`, action: "Move here" });
  if (target === null || target === normalizeFolder(doc.folder)) return;
  await run(message, async () => {
    await ctx.api.patch(`/documents/${seg(doc.id)}`, { folder: target });
    announce(`${doc.name} moved to ${target}.`);
    ctx.navigate(location.pathname, { replace: true });
  });
}

function editForm(ctx, doc, message) {
  const name = h("input", { type: "text", value: doc.name, required: true, maxlength: 255 });
  const tags = h("input", { type: "text", value: (doc.tags || []).join(", "), autocomplete: "off" });
  const description = h("textarea", { rows: 2, maxlength: 4096 }, doc.description || "");
  const form = h("form", { class: "stack" },
    field("Name", name),
    field("Tags", tags, "Separated by commas. Tags are saved in lower case, so “Q3” and “q3” are one tag."), field("Description", description),
    h("p", { class: "hint" }, "To change its folder, use “Move…” next to Folder above."),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save changes")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(message, null);
    const typed = parseTags(tags.value);
    try {
      const saved = await busy(form, () => ctx.api.patch(`/documents/${seg(doc.id)}`, {
        name: name.value.trim(), tags: typed, description: description.value.trim(),
      }));
      // The server keeps one spelling per tag (lower case): say so when it changed what was typed.
      const changed = typed.filter((t) => !(saved.tags || []).includes(t));
      announce(changed.length
        ? `Changes saved. Tags are kept in lower case: ${(saved.tags || []).join(", ")}.`
        : "Changes saved.");
      ctx.navigate(location.pathname, { replace: true });
    } catch (error) {
      showError(message, error);
    }
  });
  return h("details", { class: "edit" }, h("summary", {}, "Edit details"), form);
}
