// The upload tray: every upload of this tab in one panel at the bottom of the window. It lives
// outside <main>, so it stays while the person moves between pages of the app; each upload shows
// its progress, speed and time left and can be cancelled. While any upload runs, leaving or
// reloading the page asks first (beforeunload).
//
// After a reload the tray finds the uploads that were running. It keeps, in sessionStorage (this
// tab only, gone when the tab closes), what it needs to find them again: the upload and document
// ids, the workspace and folder, the file's name, size, type and SHA-256. Never a token, a URL or
// a byte of the file: the person picks the same file again, the tray checks its name, size and
// SHA-256, asks the API which parts S3 already holds (GET /uploads/{id}) and sends only the rest.
// A single PUT cannot continue (its URL is gone with the page): picking the file again cancels it
// and uploads the file anew. The server expires what nobody comes back for.

import { seg } from "./api.js";
import { announce, describeError, formatDuration, formatSize, h, mount } from "./ui.js";
import { sha256Base64 } from "./sha256.js";
import { UploadTask } from "./upload.js";

const STORE_KEY = "docuserve.uploads";
const ACTIVE = new Set(["queued", "hashing", "uploading", "processing"]);
// "scanning": uploaded and verified, waiting for the malware scan (the document page shows the rest).
const ENDED = new Set(["available", "failed", "cancelled", "scanning"]);
/** What each upload state reads as (the tray and the document page's version uploads). */
export const STATE_TEXT = {
  queued: "Waiting",
  hashing: "Checking the file",
  uploading: "Uploading",
  processing: "Verifying",
  scanning: "Scanning for malware",
  available: "Available",
  paused: "Paused",
  failed: "Failed",
  cancelled: "Cancelled",
  interrupted: "Interrupted",
};

let instance = null;

/** The tab's one upload tray (created, and attached to the page, on first use). */
export function uploadTray() {
  if (!instance) instance = new UploadTray();
  return instance;
}

function loadSaved() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(STORE_KEY) || "[]");
    return Array.isArray(saved) ? saved.filter((r) => r && r.upload_id) : [];
  } catch {
    return [];
  }
}

function storeSaved(records) {
  try {
    if (records.length) sessionStorage.setItem(STORE_KEY, JSON.stringify(records));
    else sessionStorage.removeItem(STORE_KEY);
  } catch {
    // Storage full or refused: the upload itself goes on; only resuming after a reload is lost.
  }
}

class UploadTray {
  constructor() {
    this.entries = [];
    this.listeners = new Set();
    this.summary = h("p", { class: "tray-summary", "aria-live": "polite" });
    this.list = h("ul", { class: "uploads", "aria-label": "Uploads" });
    this.clear = h("button", { type: "button", class: "link", onclick: () => this.clearFinished() }, "Clear finished");
    this.element = h("section", { class: "upload-tray", "aria-labelledby": "upload-tray-title", hidden: true },
      h("div", { class: "tray-head" }, h("h2", { id: "upload-tray-title" }, "Uploads"), this.summary, this.clear),
      this.list);
    document.body.append(this.element);
    window.addEventListener("beforeunload", (event) => {
      if (!this.running()) return;
      event.preventDefault();
      event.returnValue = ""; // older browsers need a value to ask
    });
  }

  /** Whether an upload is running (leaving the page would stop it). */
  running() {
    return this.entries.some((e) => e.task && ACTIVE.has(e.task.state));
  }

  /** Uploads that are running or waiting into `folder` of `workspaceId`. */
  uploadingInto(workspaceId, folder) {
    return this.entries.filter((e) => e.workspaceId === workspaceId && e.folder === folder
      && (e.state === "interrupted" || (e.task && !ENDED.has(e.task.state))));
  }

  /** Names being uploaded into `folder` (they are about to exist there). */
  namesInto(workspaceId, folder) {
    return this.uploadingInto(workspaceId, folder).map((e) => e.name);
  }

  /** `fn({type, workspaceId, folder, task})` on "created", "available", "ended"; returns an unsubscribe. */
  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(type, entry) {
    for (const fn of [...this.listeners]) fn({ type, workspaceId: entry.workspaceId, folder: entry.folder, task: entry.task });
  }

  /**
   * Upload `file` as `name` into `folder`. `target` is {workspaceId, folder, name} and either
   * `documentId` (a new version of it) or nothing (a new document).
   */
  add(api, file, target) {
    const entry = { ...target, size: file.size };
    this.track(entry, api, file, this.starter(api, target));
    entry.task.run().then(() => this.finish(entry));
    return entry;
  }

  starter(api, target) {
    if (target.documentId) return (info) => api.post(`/documents/${seg(target.documentId)}/versions`, info);
    return (info) => api.post(`/workspaces/${seg(target.workspaceId)}/documents`,
      { name: target.name, folder: target.folder, ...info });
  }

  track(entry, api, file, start) {
    const task = new UploadTask(api, file, start, () => this.render(entry));
    task.onInstructions = (t) => {
      this.save(entry, t);
      this.emit("created", entry);
    };
    entry.task = task;
    entry.state = null;
    entry.note = null;
    if (!entry.row) this.addRow(entry);
    this.render(entry);
    return task;
  }

  addRow(entry) {
    entry.bar = h("progress", { max: 100, value: 0, "aria-label": `Upload progress of ${entry.name}` });
    entry.percent = h("span", { class: "percent" }, "0%");
    entry.stateText = h("span", { class: "state" });
    entry.rate = h("div", { class: "rate muted" });
    entry.noteSlot = h("div", { class: "note" });
    entry.actions = h("div", { class: "upload-actions" });
    entry.row = h("li", { class: "upload" },
      h("div", { class: "upload-head" }, h("span", { class: "name" }, entry.name),
        h("span", { class: "muted" }, formatSize(entry.size))),
      // Where it goes, once it is not the top level (a folder's worth lands in several folders).
      entry.folder && entry.folder !== "/" ? h("div", { class: "upload-folder muted" }, `into ${entry.folder}`) : null,
      h("div", { class: "upload-bar" }, entry.bar, entry.percent, entry.stateText),
      entry.rate, entry.noteSlot, entry.actions);
    this.entries.push(entry);
    this.list.append(entry.row);
    this.element.hidden = false;
  }

  render(entry) {
    const task = entry.task;
    const state = entry.state || (task ? task.state : "queued");
    const pct = Math.floor((task ? task.progress : entry.progress || 0) * 100);
    entry.row.dataset.state = state;
    entry.bar.value = pct;
    entry.percent.textContent = `${pct}%`;
    entry.stateText.textContent = STATE_TEXT[state] || state;
    const left = task ? task.secondsLeft : null;
    entry.rate.textContent = task && state === "uploading" && task.speed
      ? `${formatSize(task.speed)}/s · ${left === null ? "" : `about ${formatDuration(left)} left`}`
      : "";
    const cancel = (label) => h("button", { type: "button", class: "danger", onclick: () => this.cancel(entry) },
      label, h("span", { class: "visually-hidden" }, ` ${entry.name}`));
    if (state === "interrupted") {
      mount(entry.actions, this.repicker(entry), cancel("Cancel upload"));
      mount(entry.noteSlot, entry.note
        ? h("span", { class: "error", role: "alert" }, entry.note)
        : h("span", {}, "The page was reloaded. Choose the same file to continue where it stopped."));
    } else if (state === "paused") {
      mount(entry.noteSlot, h("span", { class: "error" }, describeError(task.error)));
      mount(entry.actions, h("button", { type: "button", onclick: () => task.resume().then(() => this.finish(entry)) },
        "Resume upload"), cancel("Cancel upload"));
    } else if (state === "failed") {
      mount(entry.noteSlot, h("span", { class: "error", role: "alert" }, entry.note || describeError(task && task.error)));
      mount(entry.actions);
    } else if (state === "scanning") {
      mount(entry.noteSlot, h("span", {}, entry.note
        || "Uploaded and verified. It becomes available once the malware scan finds it clean."));
      mount(entry.actions);
    } else if (ACTIVE.has(state)) {
      mount(entry.noteSlot);
      mount(entry.actions, state === "processing" ? null : cancel("Cancel"));
    } else {
      mount(entry.noteSlot);
      mount(entry.actions);
    }
    this.renderSummary();
  }

  renderSummary() {
    const running = this.entries.filter((e) => e.task && ACTIVE.has(e.task.state)).length;
    const waiting = this.entries.filter((e) => e.state === "interrupted" || (e.task && e.task.state === "paused")).length;
    const parts = [];
    if (running) parts.push(`${running} uploading`);
    if (waiting) parts.push(`${waiting} waiting for you`);
    this.summary.textContent = parts.join(", ") || "All done";
    this.clear.hidden = !this.entries.some((e) => e.state !== "interrupted" && e.task && ENDED.has(e.task.state));
  }

  async cancel(entry) {
    try {
      if (entry.task && entry.state !== "interrupted") {
        await entry.task.cancel();
      } else {
        await entry.api.delete(`/uploads/${seg(entry.uploadId)}`).catch((error) => {
          if (error.status !== 409 && error.status !== 404) throw error;
        });
        entry.state = "cancelled";
        entry.task = null;
        this.render(entry);
      }
      announce(`Upload of ${entry.name} cancelled.`);
    } catch (error) {
      entry.note = describeError(error);
      this.render(entry);
    }
    this.forget(entry);
    this.emit("ended", entry);
  }

  finish(entry) {
    const task = entry.task;
    if (task.state === "paused") return; // still resumable: keep it saved
    this.forget(entry);
    if (task.state === "available") {
      announce(`${entry.name} is uploaded and available.`);
      this.emit("available", entry);
    } else {
      this.emit("ended", entry);
    }
  }

  clearFinished() {
    for (const entry of [...this.entries]) {
      const state = entry.state || (entry.task && entry.task.state);
      if (ENDED.has(state)) {
        entry.row.remove();
        this.entries.splice(this.entries.indexOf(entry), 1);
      }
    }
    this.element.hidden = this.entries.length === 0;
    this.renderSummary();
  }

  // --- surviving a reload ---

  save(entry, task) {
    entry.uploadId = task.upload.upload_id;
    entry.documentId = entry.documentId || (task.result && task.result.document ? task.result.document.id : null);
    const records = loadSaved().filter((r) => r.upload_id !== entry.uploadId);
    records.push({
      upload_id: entry.uploadId, method: task.upload.method, workspace_id: entry.workspaceId,
      folder: entry.folder, name: entry.name, document_id: entry.documentId,
      new_version: Boolean(entry.newVersion), file_name: task.file.name, size: task.file.size,
      type: task.file.type, sha256: task.sha256, saved_at: new Date().toISOString(),
    });
    storeSaved(records);
  }

  forget(entry) {
    if (entry.uploadId) storeSaved(loadSaved().filter((r) => r.upload_id !== entry.uploadId));
  }

  /** Show the uploads this tab was running before a reload (once per page load). */
  restore(api) {
    for (const record of loadSaved()) {
      if (this.entries.some((e) => e.uploadId === record.upload_id)) continue;
      const entry = {
        api, uploadId: record.upload_id, workspaceId: record.workspace_id, folder: record.folder,
        name: record.name, size: record.size, record, state: "interrupted",
        documentId: record.new_version ? record.document_id : null, newVersion: record.new_version,
      };
      this.addRow(entry);
      this.render(entry);
    }
  }

  repicker(entry) {
    const input = h("input", { type: "file", class: "visually-hidden", tabindex: "-1", "aria-hidden": "true" });
    input.addEventListener("change", () => {
      const [file] = input.files;
      input.value = "";
      if (file) this.resumeWith(entry, file);
    });
    return h("span", {}, input, h("button", { type: "button", class: "primary", onclick: () => input.click() },
      "Choose the file again", h("span", { class: "visually-hidden" }, ` (${entry.record.file_name})`)));
  }

  /** Continue an interrupted upload with `file`, once it is shown to be the same file. */
  async resumeWith(entry, file) {
    const { record, api } = entry;
    const refuse = (text) => {
      entry.note = text;
      entry.state = "interrupted";
      this.render(entry);
    };
    if (file.name !== record.file_name || file.size !== record.size) {
      refuse(`That is not the same file: choose “${record.file_name}” (${formatSize(record.size)}).`);
      return;
    }
    entry.state = "hashing";
    entry.note = null;
    this.render(entry);
    let status;
    try {
      const sha256 = await sha256Base64(file);
      if (sha256 !== record.sha256) {
        refuse(`“${file.name}” has changed since the upload began (its SHA-256 differs). Cancel this upload and upload the file again.`);
        return;
      }
      status = await api.get(`/uploads/${seg(record.upload_id)}`);
    } catch (error) {
      refuse(describeError(error));
      return;
    }
    if (status.status === "scanning") {
      this.forget(entry);
      entry.state = "scanning";
      entry.note = "Uploaded and verified before the reload. It becomes available once the malware scan finds it clean.";
      this.render(entry);
      this.emit("ended", entry);
      return;
    }
    if (status.status !== "pending") {
      this.forget(entry);
      entry.state = status.status === "completed" ? "available" : "failed";
      entry.note = status.failure_reason === "expired"
        ? "This upload expired before it could continue. Upload the file again."
        : `This upload can no longer continue (${status.status}${status.failure_reason ? `: ${status.failure_reason}` : ""}).`;
      this.render(entry);
      this.emit("ended", entry);
      return;
    }
    if (status.method !== "MULTIPART") {
      // A single PUT's URL died with the page: cancel it and upload the file anew.
      await api.delete(`/uploads/${seg(record.upload_id)}`).catch(() => {});
      this.forget(entry);
      const task = this.track(entry, api, file, this.starter(api, entry));
      task.run().then(() => this.finish(entry));
      return;
    }
    const task = this.track(entry, api, file, null);
    task.sha256 = record.sha256;
    task.upload = { upload_id: record.upload_id };
    task.resumeFrom(status).then(() => this.finish(entry));
  }
}
