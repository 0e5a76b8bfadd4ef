// Pieces shared by the workspace and document screens.

import { seg } from "../api.js";
import { announce, describeError, formatSize, h, mount, startDownload, time } from "../ui.js";
import { UploadTask } from "../upload.js";

export const RANK = { viewer: 1, editor: 2, owner: 3 };
export const can = (role, needed) => (RANK[role] || 0) >= RANK[needed];

const STATE_TEXT = {
  queued: "Waiting",
  hashing: "Checking the file",
  uploading: "Uploading",
  processing: "Verifying",
  available: "Available",
  paused: "Paused",
  failed: "Failed",
};

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
      } else {
        mount(note);
      }
    });
    const finished = (t) => {
      if (t.state === "available") {
        announce(`${file.name} is uploaded and available.`);
        onDone(t);
      }
      return t;
    };
    return task.run().then(finished);
  };
  return { element: list, add };
}

/** A drop zone with a file picker; calls `onFiles([...File])`. Keyboard users use the button. */
export function dropZone(label, onFiles, { multiple = true } = {}) {
  const input = h("input", { type: "file", multiple, class: "visually-hidden", tabindex: "-1", "aria-hidden": "true" });
  const pick = h("button", { type: "button", class: "primary", onclick: () => input.click() }, label);
  input.addEventListener("change", () => {
    const files = [...input.files];
    input.value = "";
    if (files.length) onFiles(files);
  });
  const zone = h("div", { class: "dropzone" },
    pick, h("span", { class: "muted" }, multiple ? " or drop files here" : " or drop a file here"), input);
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    const files = [...(event.dataTransfer ? event.dataTransfer.files : [])];
    if (files.length) onFiles(multiple ? files : files.slice(0, 1));
  });
  return { element: zone, input };
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
  if (d.reason) parts.push(`reason: ${d.reason}`);
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
