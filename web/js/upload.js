// Uploads straight to S3 through presigned URLs: one PUT, or a multipart upload with parallel
// parts that retries a failed part with a fresh URL and can be resumed by the user. Each part is
// hashed (Web Crypto) before its URL is asked for: the URL signs that SHA-256 and S3 refuses other
// bytes. Part URLs are asked for in batches (one call for many parts, at most 1,000), sized to what
// can be sent before they expire. Completion is queued by the API (202); the app then polls the
// upload until it lands. A task can be cancelled (the API aborts the upload) and reports its speed
// and time left; after a reload, `resumeFrom` continues a multipart upload from the parts the
// server says S3 already holds.

import { seg } from "./api.js";
import { partSha256, sha256Base64 } from "./sha256.js";

const PARALLEL_PARTS = 4;
const PART_ATTEMPTS = 3;
const MAX_BATCH = 1000; // the API's limit of parts per POST /uploads/{id}/parts
const MIN_BATCH = 2 * PARALLEL_PARTS;
const RATE_WINDOW_MS = 5000;
const URL_MARGIN_MS = 60_000;
const POLL_MS = 750;
const POLL_LIMIT_MS = 120_000;
// Headers a browser sets itself and refuses to take from scripts.
const FORBIDDEN = new Set(["content-length", "host", "connection", "expect", "accept-encoding"]);

/** The error of an upload the person cancelled: never shown as a failure. */
export class Cancelled extends Error {
  constructor() {
    super("The upload was cancelled.");
    this.name = "Cancelled";
  }
}

/**
 * PUT `body` to a presigned URL with progress; resolves to the response's ETag.
 * `track(xhr)` receives the request so a cancel can abort it.
 */
export function putObject(url, body, headers, onProgress, track = () => {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    track(xhr);
    xhr.open("PUT", url);
    for (const [name, value] of Object.entries(headers || {})) {
      if (!FORBIDDEN.has(name.toLowerCase())) xhr.setRequestHeader(name, value);
    }
    xhr.upload.addEventListener("progress", (event) => onProgress(event.loaded));
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(body.size);
        resolve(xhr.getResponseHeader("ETag"));
      } else {
        reject(new Error(`Storage refused the upload (HTTP ${xhr.status}).`));
      }
    });
    xhr.addEventListener("error", () => reject(new Error("The upload was interrupted by a network error.")));
    xhr.addEventListener("abort", () => reject(new Cancelled()));
    xhr.send(body);
  });
}

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

/**
 * One file's upload. `start({size, sha256, content_type})` asks the API for upload instructions
 * (a new document or a new version) and returns the response holding `upload`.
 * `onChange(task)` is called whenever `state`, `progress` or `error` changes.
 */
export class UploadTask {
  constructor(api, file, start, onChange = () => {}) {
    this.api = api;
    this.file = file;
    this.start = start;
    this.onChange = onChange;
    // queued, hashing, uploading, processing, scanning, available, paused, failed, cancelled
    this.state = "queued";
    this.progress = 0; // 0..1 of the bytes sent
    this.error = null;
    this.upload = null;
    this.result = null;
    this.sha256 = null; // base64 SHA-256 of the whole file
    this.etags = new Map(); // part_number -> ETag of parts that landed
    this.checksums = new Map(); // part_number -> base64 SHA-256 its URL signed
    this.sent = new Map(); // part_number -> bytes sent
    this.urls = new Map(); // part_number -> {url, headers, expiresAt}
    this.grantCalls = 0; // POST /uploads/{id}/parts calls made
    this.cancelled = false;
    this.requests = new Set(); // XHRs in flight (a cancel aborts them)
    this.samples = []; // [ms, bytes sent] over the last few seconds: the speed
    this.speed = 0; // bytes per second
    this.onInstructions = () => {}; // called once the API has answered with upload instructions
    // Where the upload's routes live: a member's own (/uploads), or a partner's under an upload
    // request (/public/requests/{token}/uploads, no sign-in: `options.anonymous`).
    this.base = "/uploads";
    this.options = undefined;
  }

  set(changes) {
    Object.assign(this, changes);
    this.onChange(this);
  }

  /** Bytes sent so far. */
  get sentBytes() {
    return Math.round(this.progress * this.file.size);
  }

  /** Seconds left at the current speed, or null while it is not known. */
  get secondsLeft() {
    if (this.state !== "uploading" || !this.speed) return null;
    return Math.max(0, (this.file.size - this.sentBytes) / this.speed);
  }

  setProgress(progress) {
    const now = Date.now();
    const bytes = Math.round(progress * this.file.size);
    this.samples.push([now, bytes]);
    while (this.samples.length > 2 && now - this.samples[0][0] > RATE_WINDOW_MS) this.samples.shift();
    const [t0, b0] = this.samples[0];
    const speed = now - t0 >= 250 ? ((bytes - b0) * 1000) / (now - t0) : this.speed;
    this.set({ progress, speed: Math.max(0, speed) });
  }

  /** Stop: abort what is in flight and, once the API knows the upload, abort it there too. */
  async cancel() {
    if (["available", "failed", "cancelled", "scanning"].includes(this.state)) return;
    this.cancelled = true;
    for (const xhr of this.requests) xhr.abort();
    this.set({ state: "cancelled", error: null, speed: 0 });
    if (this.upload) await this.abortOnServer();
  }

  async abortOnServer() {
    try {
      await this.api.delete(`${this.base}/${seg(this.upload.upload_id)}`, undefined, this.options);
    } catch (error) {
      if (error.status !== 409 && error.status !== 404) throw error; // already ended: nothing to abort
    }
  }

  checkCancelled() {
    if (this.cancelled) throw new Cancelled();
  }

  get contentType() {
    return this.file.type || "application/octet-stream";
  }

  async run() {
    try {
      this.set({ state: "hashing", progress: 0, error: null });
      this.sha256 = await sha256Base64(this.file);
      this.checkCancelled();
      this.result = await this.start({ size: this.file.size, sha256: this.sha256, content_type: this.contentType });
      // A new document answers {document, upload}; a new version answers the instructions alone.
      this.upload = this.result.upload || this.result;
      if (this.cancelled) {
        await this.abortOnServer(); // cancelled while the API was creating it
        return this;
      }
      this.onInstructions(this);
      await this.transfer();
    } catch (error) {
      this.fail(error);
    }
    return this;
  }

  /**
   * Continue a multipart upload begun before a reload, from `status` (GET /uploads/{id}): the
   * parts S3 holds are kept (where S3 lists their SHA-256, it must match this file's part), the
   * others are sent. The caller has checked that `file` is the same file (name, size, SHA-256).
   */
  async resumeFrom(status) {
    try {
      this.upload = {
        upload_id: status.upload_id, method: "MULTIPART",
        part_size: status.part_size, part_count: status.part_count,
      };
      const size = Number(status.part_size);
      for (const held of status.parts || []) {
        const n = Number(held.part_number);
        // Completion repeats each part's SHA-256 (S3 checks it), so a held part is hashed too.
        const body = this.file.slice((n - 1) * size, Math.min(this.file.size, n * size));
        if (!this.checksums.has(n)) this.checksums.set(n, await partSha256(body));
        if (held.sha256 && this.checksums.get(n) !== held.sha256) continue; // not this file's: send it again
        this.etags.set(n, held.etag);
        this.sent.set(n, Math.min(size, this.file.size - (n - 1) * size));
      }
      this.setProgress(this.file.size ? Math.min(1, [...this.sent.values()].reduce((a, b) => a + b, 0) / this.file.size) : 1);
      this.samples = [];
      this.speed = 0;
      await this.transfer();
    } catch (error) {
      this.fail(error);
    }
    return this;
  }

  /** Continue a multipart upload after a failed part: only the parts still missing are sent. */
  async resume() {
    try {
      this.set({ state: "uploading", error: null });
      await this.transfer();
    } catch (error) {
      this.fail(error);
    }
    return this;
  }

  fail(error) {
    if (this.cancelled || error instanceof Cancelled) {
      this.set({ state: "cancelled", error: null, speed: 0 });
      return;
    }
    const resumable = this.upload && this.upload.method === "MULTIPART" && this.state === "uploading";
    this.set({ state: resumable ? "paused" : "failed", error, speed: 0 });
  }

  async transfer() {
    this.set({ state: "uploading" });
    const upload = this.upload;
    if (upload.method === "MULTIPART") {
      await this.sendParts();
      this.checkCancelled();
      this.set({ state: "processing", speed: 0 });
      await this.api.post(`${this.base}/${seg(upload.upload_id)}/complete`, {
        parts: [...this.etags]
          .sort((a, b) => a[0] - b[0])
          .map(([part_number, etag]) => ({ part_number, etag, sha256: this.checksums.get(part_number) })),
      }, this.options);
    } else {
      await putObject(upload.url, this.file, upload.headers, (loaded) => {
        this.setProgress(this.file.size ? loaded / this.file.size : 1);
      }, (xhr) => this.track(xhr));
      this.set({ progress: 1, state: "processing", speed: 0 });
    }
    await this.waitUntilLanded();
  }

  track(xhr) {
    this.requests.add(xhr);
    xhr.addEventListener("loadend", () => this.requests.delete(xhr));
  }

  /** How many part URLs to ask for at once: what can be sent before they expire, 8 to 1,000. */
  batchSize(partSize, ttlMs) {
    const parts = this.speed ? Math.floor((this.speed * (ttlMs - URL_MARGIN_MS)) / 1000 / partSize) : 0;
    return Math.min(MAX_BATCH, Math.max(MIN_BATCH, parts));
  }

  async sendParts() {
    const upload = this.upload;
    const size = Number(upload.part_size);
    const count = Math.max(1, Math.ceil(this.file.size / size));
    const urls = this.urls;
    const missing = [];
    for (let n = 1; n <= count; n++) if (!this.etags.has(n)) missing.push(n);
    const body = (n) => this.file.slice((n - 1) * size, Math.min(this.file.size, n * size));
    const valid = (n) => urls.has(n) && Date.now() <= urls.get(n).expiresAt - URL_MARGIN_MS;
    let ttlMs = 15 * 60_000;
    let granting = null; // the one grant call in flight: workers wait for it rather than ask again

    // One call grants URLs for part `n` and the next parts still waiting for one (each hashed
    // first, once: the URL signs that SHA-256, and completion repeats it).
    const grant = async (n) => {
      const wanted = [n];
      for (const m of missing) {
        if (wanted.length >= this.batchSize(size, ttlMs)) break;
        if (m !== n && !this.etags.has(m) && !valid(m)) wanted.push(m);
      }
      for (const m of wanted) {
        if (!this.checksums.has(m)) this.checksums.set(m, await partSha256(body(m)));
        this.checkCancelled();
      }
      this.grantCalls += 1;
      const answer = await this.api.post(`${this.base}/${seg(upload.upload_id)}/parts`, {
        parts: wanted.map((m) => ({ part_number: m, sha256: this.checksums.get(m) })),
      }, this.options);
      const expiresAt = Date.parse(answer.expires_at || "") || Infinity;
      if (Number.isFinite(expiresAt)) ttlMs = Math.max(URL_MARGIN_MS * 2, expiresAt - Date.now());
      for (const p of answer.parts || []) urls.set(Number(p.part_number), { ...p, expiresAt });
    };
    const ensureUrl = async (n) => {
      while (!valid(n)) {
        if (!granting) granting = grant(n).finally(() => { granting = null; });
        await granting;
      }
    };

    const report = () => {
      let sent = 0;
      for (const bytes of this.sent.values()) sent += bytes;
      this.setProgress(this.file.size ? Math.min(1, sent / this.file.size) : 1);
    };
    const sendPart = async (n) => {
      for (let attempt = 1; ; attempt++) {
        this.checkCancelled();
        try {
          await ensureUrl(n);
          const part = urls.get(n);
          const etag = await putObject(part.url, body(n), part.headers, (loaded) => {
            this.sent.set(n, loaded);
            report();
          }, (xhr) => this.track(xhr));
          this.etags.set(n, etag);
          return;
        } catch (error) {
          this.sent.set(n, 0);
          report();
          if (this.cancelled || error instanceof Cancelled || attempt >= PART_ATTEMPTS) throw error;
          urls.delete(n); // the next attempt asks for a fresh URL
          await sleep(500 * 2 ** attempt);
        }
      }
    };

    const queue = [...missing];
    const worker = async () => {
      while (queue.length) await sendPart(queue.shift());
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_PARTS, queue.length) }, worker));
  }

  /** Poll the upload until the S3 event has been processed: completed, or failed with a reason. */
  async waitUntilLanded() {
    const id = seg(this.upload.upload_id);
    const deadline = Date.now() + POLL_LIMIT_MS;
    for (;;) {
      this.checkCancelled();
      const status = await this.api.get(`${this.base}/${id}`, undefined, this.options);
      const state = status.status || status.state;
      if (state === "completed") {
        this.set({ state: "available", progress: 1 });
        return;
      }
      if (state === "failed" || state === "aborted") {
        const reason = status.reason || status.failure_reason || "the file did not match what was declared";
        this.set({ state: "failed", error: new Error(`The upload failed: ${reason}.`) });
        return;
      }
      if (state === "scanning") {
        // Verified; the malware scan decides. Keep polling a while, then leave it to the page.
        if (this.state !== "scanning") this.set({ state: "scanning", progress: 1, speed: 0 });
        if (Date.now() > deadline) return;
        await sleep(POLL_MS);
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error("The file was sent but is still being checked. Reload in a minute to see it.");
      }
      await sleep(POLL_MS);
    }
  }
}
