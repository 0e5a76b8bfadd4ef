// Pieces shared by the workspace and document screens.

import { seg } from "../api.js";
import { announce, describeError, field, formatSize, h, mount, openDialog, showError, startDownload, time } from "../ui.js";
import { STATE_TEXT } from "../tray.js";
import { UploadTask } from "../upload.js";

export const RANK = { viewer: 1, editor: 2, owner: 3 };
export const can = (role, needed) => (RANK[role] || 0) >= RANK[needed];

/** Ask for a download URL and start the download. */
export async function download(api, documentId, versionId) {
  const params = versionId ? { version_id: versionId } : undefined;
  const answer = await api.get(`/documents/${seg(documentId)}/download`, params);
  startDownload(answer.url);
}

/**
 * A list of uploads with a progress bar each. `add(file, start)` begins one; `onDone` runs
 * after each upload that became available.
 */
export function uploadList(api, onDone) {
  const list = h("ul", { class: "uploads", "aria-label": "Uploads" });
  const add = (file, start) => {
    const bar = h("progress", { max: 100, value: 0, "aria-label": `Upload progress of ${file.name}` });
    const percent = h("span", { class: "percent" }, "0%");
    const state = h("span", { class: "state" }, STATE_TEXT.queued);
    const note = h("div", { class: "note" });
    const row = h("li", { class: "upload", dataset: { state: "queued" } },
      h("div", { class: "upload-head" }, h("span", { class: "name" }, file.name),
        h("span", { class: "muted" }, formatSize(file.size))),
      h("div", { class: "upload-bar" }, bar, percent, state), note);
    list.append(row);
    const task = new UploadTask(api, file, start, (t) => {
      const pct = Math.floor(t.progress * 100);
      bar.value = pct;
      percent.textContent = `${pct}%`;
      state.textContent = STATE_TEXT[t.state] || t.state;
      row.dataset.state = t.state;
      if (t.state === "paused") {
        mount(note, h("span", { class: "error" }, describeError(t.error)), " ",
          h("button", { type: "button", onclick: () => task.resume().then(finished) }, "Resume upload"));
      } else if (t.state === "failed") {
        mount(note, h("span", { class: "error", role: "alert" }, describeError(t.error)));
      } else if (t.state === "scanning") {
        mount(note, h("span", {}, "Uploaded and verified. It becomes available once the malware scan finds it clean."));
      } else {
        mount(note);
      }
    });
    const finished = (t) => {
      if (t.state === "available") {
        announce(`${file.name} is uploaded and available.`);
        onDone(t);
      } else if (t.state === "scanning") {
        announce(`${file.name} is uploaded; the malware scan has not finished yet.`);
        onDone(t);
      }
      return t;
    };
    return task.run().then(finished);
  };
  return { element: list, add };
}

/**
 * A drop zone with a file picker; calls `onFiles([...File], [...folder])`, where each file's folder
 * is the path of the folder it came from, relative to what was dropped or chosen ("" for a loose
 * file, "photos/2026" for a file inside a dropped "photos" folder). With `folders`, a second button
 * chooses a whole folder (input webkitdirectory), and dropped folders are read through
 * DataTransferItem.webkitGetAsEntry(), every file in every subfolder; then a third argument lists
 * every dropped folder (relative paths, empty ones included). Keyboard users use the buttons.
 */
export function dropZone(label, onFiles, { multiple = true, folders = false } = {}) {
  const input = h("input", { type: "file", multiple, class: "visually-hidden", tabindex: "-1", "aria-hidden": "true" });
  const pick = h("button", { type: "button", class: "primary", onclick: () => input.click() }, label);
  input.addEventListener("change", () => {
    const files = [...input.files];
    input.value = "";
    if (files.length) onFiles(files, files.map(() => ""));
  });
  let pickFolder = null;
  if (folders) {
    // The folder input exists only while its picker is open: the page keeps one file input per
    // zone, which is what scripts and tests find with input[type=file].
    const chooseFolder = () => {
      const folderInput = h("input", { type: "file", multiple: true, class: "visually-hidden folder-input", tabindex: "-1", "aria-hidden": "true" });
      folderInput.webkitdirectory = true;
      const done = () => folderInput.remove();
      folderInput.addEventListener("cancel", done);
      folderInput.addEventListener("change", () => {
        const files = [...folderInput.files];
        done();
        if (!files.length) return;
        // webkitRelativePath is "chosen/sub/name.txt": the chosen folder itself is kept, as Box does.
        const folderOf = files.map((f) => relativeFolder(f.webkitRelativePath || f.name));
        onFiles(files, folderOf, [...new Set(folderOf.filter(Boolean))]);
      });
      zone.append(folderInput);
      folderInput.click();
    };
    pickFolder = h("button", { type: "button", onclick: chooseFolder }, "Upload a folder");
  }
  const zone = h("div", { class: "dropzone" },
    pick, pickFolder ? [" ", pickFolder] : null,
    h("span", { class: "muted" }, multiple ? (folders ? " or drop files or folders here" : " or drop files here") : " or drop a file here"),
    input);
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", async (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    const transfer = event.dataTransfer;
    if (!transfer) return;
    // The entries must be taken while the drop event runs: the list is emptied after it returns.
    const entries = folders ? [...(transfer.items || [])].map((item) => item.webkitGetAsEntry && item.webkitGetAsEntry()) : [];
    if (folders && entries.some((entry) => entry && entry.isDirectory)) {
      const found = [];
      for (const entry of entries) if (entry) await readEntry(entry, found);
      const files = found.filter((f) => f.file);
      // Folders come too, empty ones included, so the tree arrives as it was dropped.
      const directories = found.filter((f) => !f.file).map((f) => f.folder);
      onFiles(files.map((f) => f.file), files.map((f) => f.folder), directories);
      return;
    }
    const files = [...transfer.files];
    if (files.length) {
      const chosen = multiple ? files : files.slice(0, 1);
      onFiles(chosen, chosen.map(() => ""));
    }
  });
  return { element: zone, input };
}

/** "a/b/name.txt" -> "a/b"; "name.txt" -> "". */
function relativeFolder(path) {
  const parts = String(path).split("/").filter(Boolean);
  return parts.slice(0, -1).join("/");
}

/** Every file below a FileSystemEntry, as {file, folder} with the folder relative to the drop. */
async function readEntry(entry, found) {
  if (entry.isFile) {
    const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
    found.push({ file, folder: relativeFolder(entry.fullPath) });
    return;
  }
  if (!entry.isDirectory) return;
  found.push({ file: null, folder: String(entry.fullPath).split("/").filter(Boolean).join("/") });
  const reader = entry.createReader();
  for (;;) {
    // readEntries answers in batches (Chromium: 100 at a time) until it answers an empty one.
    const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
    if (!batch.length) break;
    for (const child of batch) await readEntry(child, found);
  }
}

// --- folders ---

/** "/a/b/" -> "/a/b"; "" -> "/". */
export function normalizeFolder(folder) {
  const parts = String(folder || "/").split("/").filter(Boolean);
  return `/${parts.join("/")}`;
}

/** "/a/b/c" -> ["/a", "/a/b", "/a/b/c"]: the folder and its parents below the root. */
export function lineage(path) {
  const parts = normalizeFolder(path).split("/").filter(Boolean);
  return parts.map((_, i) => `/${parts.slice(0, i + 1).join("/")}`);
}

/**
 * Every folder of a workspace: the explicit ones (GET /workspaces/{id}/folders) merged with those
 * its documents imply (a document's folder and that folder's parents), sorted, root first. An
 * explicit folder may be empty; an implied one never is. Returns {paths, explicit: Set}.
 */
export function mergeFolders(explicitPaths, documents) {
  const all = new Set(["/"]);
  const explicit = new Set();
  for (const path of explicitPaths) {
    explicit.add(normalizeFolder(path));
    lineage(path).forEach((p) => all.add(p));
  }
  for (const doc of documents) lineage(doc.folder).forEach((p) => all.add(p));
  const paths = [...all].sort((a, b) => (a === "/" ? -1 : b === "/" ? 1 : a.localeCompare(b)));
  return { paths, explicit };
}

/** The workspace's explicit folders; [] when they cannot be read (the documents still show theirs). */
export async function explicitFolders(api, workspaceId) {
  try {
    const { items } = await api.all(`/workspaces/${seg(workspaceId)}/folders`);
    return items.map((f) => f.path);
  } catch {
    return [];
  }
}

export const SLASH_IN_NAME = "A folder name cannot contain “/”. Create one level at a time: open the new folder, then add the next one inside it.";

/**
 * A folder-name input whose rule speaks for itself: a "/" gets this app's sentence, both as the
 * field's validation message (instead of the browser's generic one) and as text under the field.
 */
export function folderNameField(label = "Folder name") {
  const input = h("input", { type: "text", required: true, maxlength: 255, autocomplete: "off" });
  const problem = h("p", { class: "field-error", role: "alert", hidden: true });
  const check = () => {
    const text = input.value.includes("/") ? SLASH_IN_NAME
      : (input.value.trim() === "." || input.value.trim() === "..") ? "A folder cannot be called “.” or “..”." : "";
    input.setCustomValidity(text);
    input.setAttribute("aria-invalid", text ? "true" : "false");
    problem.textContent = text;
    problem.hidden = !text;
    return !text;
  };
  input.addEventListener("input", check);
  return { input, element: h("div", {}, field(label, input), problem), check };
}

/**
 * Ask for a folder of the workspace in a dialog: every folder (explicit and implied) as a choice,
 * plus "New folder here", which creates a subfolder of the chosen one on the server. Resolves to
 * the chosen path, or null when the person cancels. No path is typed.
 */
export function pickFolder(ctx, { workspaceId, folders, current, title = "Move to a folder", action = "Move here" }) {
  return new Promise((resolve) => {
    let chosen = null;
    let selected = normalizeFolder(current);
    const known = new Set(folders);
    const name = `pick-${Math.random().toString(36).slice(2, 8)}`;
    const dialog = openDialog(title, (close) => {
      const list = h("div", { class: "folder-picker", role: "radiogroup", "aria-label": "Folders" });
      const message = h("div", { class: "message" });
      const render = () => {
        const sorted = [...known].sort((a, b) => (a === "/" ? -1 : b === "/" ? 1 : a.localeCompare(b)));
        mount(list, sorted.map((path) => {
          const depth = path === "/" ? 0 : path.split("/").length - 1;
          const radio = h("input", { type: "radio", name, value: path, checked: path === selected });
          radio.addEventListener("change", () => { selected = path; });
          const label = path === "/" ? "All files (top level)" : path.split("/").pop();
          const row = h("div", { class: "folder-choice" },
            h("label", { class: "check", title: path }, radio, " ", label,
              path === normalizeFolder(current) ? h("span", { class: "muted" }, " (current)") : null));
          row.style.setProperty("--depth", String(depth)); // through the CSSOM: the CSP allows no style attribute
          return row;
        }));
      };
      render();
      const folderName = folderNameField("New folder here");
      const create = h("form", { class: "inline-form folder-create" }, folderName.element,
        h("button", { type: "submit" }, "Create folder"));
      create.addEventListener("submit", async (event) => {
        event.preventDefault();
        if (!folderName.check()) return;
        const path = normalizeFolder(`${selected}/${folderName.input.value.trim()}`);
        showError(message, null);
        try {
          await ctx.api.post(`/workspaces/${seg(workspaceId)}/folders`, { path });
          lineage(path).forEach((p) => known.add(p));
          selected = path;
          folderName.input.value = "";
          render();
          announce(`Folder ${path} created.`);
          const radio = list.querySelector(`input[value="${CSS.escape(path)}"]`);
          if (radio) radio.focus();
        } catch (error) {
          showError(message, error);
        }
      });
      const body = h("div", { class: "stack" },
        h("p", { class: "muted" }, "Choose a folder. “New folder here” makes a folder inside the chosen one."),
        list, create, message,
        h("div", { class: "actions" },
          h("button", { type: "button", class: "primary", onclick: () => { chosen = selected; close(); } }, action),
          h("button", { type: "button", onclick: close }, "Cancel")));
      setTimeout(() => (list.querySelector("input:checked") || list.querySelector("input")).focus(), 0);
      return body;
    });
    dialog.addEventListener("close", () => resolve(chosen));
  });
}

/** Who did it: a member's email, "Partner (link label)", or the service itself. */
function actorText(event) {
  const actor = event.actor || {};
  if (typeof actor === "string") return actor;
  if (actor.email) return actor.email;
  if (actor.type === "partner") return "Partner with the link";
  if (actor.type === "system") return "DocuServe";
  return actor.id || "";
}

/** "share.redeemed" -> "share redeemed". */
function actionText(action) {
  return String(action || "").replace(/[._]/g, " ");
}

/**
 * A user-agent string as people read it: "Chrome 120 on Windows". Unknown agents keep their
 * first product token ("curl/8.5.0" -> "curl 8.5.0"); nothing is sent anywhere to parse it.
 */
export function readableAgent(ua) {
  const text = String(ua || "");
  if (!text) return "";
  const browsers = [
    [/Edg(?:e|A|iOS)?\/(\d+)/, "Edge"], [/OPR\/(\d+)/, "Opera"], [/SamsungBrowser\/(\d+)/, "Samsung Internet"],
    [/(?:Firefox|FxiOS)\/(\d+)/, "Firefox"], [/(?:Chrome|CriOS)\/(\d+)/, "Chrome"],
    [/Version\/(\d+)[^ ]* .*Safari\//, "Safari"],
  ];
  const systems = [
    [/Windows NT/, "Windows"], [/iPhone|iPad|iPod/, "iOS"], [/Android/, "Android"], [/CrOS/, "ChromeOS"],
    [/Mac OS X|Macintosh/, "macOS"], [/Linux/, "Linux"],
  ];
  let browser = null;
  for (const [pattern, name] of browsers) {
    const found = text.match(pattern);
    if (found) {
      browser = `${name} ${found[1]}`;
      break;
    }
  }
  const system = (systems.find(([pattern]) => pattern.test(text)) || [])[1];
  if (!browser) {
    const token = text.split(/\s/)[0].split("/");
    browser = token[1] ? `${token[0]} ${token[1]}` : token[0];
  }
  return system ? `${browser} on ${system}` : browser;
}

function detailText(event) {
  const d = event.details || {};
  const actor = event.actor || {};
  const parts = [];
  if (d.document_name) parts.push(`“${d.document_name}”`);
  if (d.label) parts.push(`link “${d.label}”`);
  if (d.name && d.name !== d.document_name) parts.push(d.name);
  if (d.number) parts.push(`version ${d.number}`);
  if (d.size !== undefined && d.size !== null) parts.push(formatSize(d.size));
  if (d.role) parts.push(`role ${d.role}`);
  if (d.email && d.email !== actor.email) parts.push(d.email);
  if (typeof d.recipient === "string") parts.push(`verified as ${d.recipient}`);
  if (d.is_recipient === false) parts.push("not a recipient");
  if (d.reason) parts.push(`reason: ${d.reason}`);
  if (Array.isArray(d.threats) && d.threats.length) parts.push(`threat: ${d.threats.join(", ")}`);
  if (actor.ip) parts.push(`from ${actor.ip}`);
  if (actor.user_agent) parts.push(readableAgent(actor.user_agent));
  return parts.join(" · ");
}

/**
 * Audit events as a table, newest first as the API returns them. On a narrow screen the table
 * scrolls sideways in its wrapper, which holds no control: the wrapper takes focus itself so a
 * keyboard can scroll it (WCAG 2.1.1).
 */
export function auditTable(items, caption) {
  if (!items.length) return h("p", { class: "empty" }, "No activity yet.");
  return h("div", { class: "table-wrap", tabindex: 0, role: "region", "aria-label": caption }, h("table", { class: "audit" },
    h("caption", { class: "visually-hidden" }, caption),
    h("thead", {}, h("tr", {}, ["When", "Who", "What", "Details"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, items.map((e) => h("tr", {},
      h("td", {}, time(e.at)), h("td", {}, actorText(e)), h("td", {}, actionText(e.action)),
      h("td", { class: "details-cell" }, detailText(e)))))));
}

/** Tags as small badges. */
export function tagList(tags) {
  if (!tags || !tags.length) return null;
  return h("span", { class: "tags" }, tags.map((t) => h("span", { class: "tag" }, t)));
}

/** "a, b , c" -> ["a", "b", "c"] */
export function parseTags(text) {
  return [...new Set(text.split(",").map((t) => t.trim()).filter(Boolean))];
}
