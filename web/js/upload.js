// Uploads straight to S3 through presigned URLs: one PUT, or a multipart upload with parallel
// parts that retries a failed part with a fresh URL and can be resumed by the user. Each part is
// hashed (Web Crypto) before its URL is asked for: the URL signs that SHA-256 and S3 refuses other
// bytes. Completion is queued by the API (202); the app then polls the upload until it lands.

import { seg } from "./api.js";
import { partSha256, sha256Base64 } from "./sha256.js";

const PARALLEL_PARTS = 4;
const PART_ATTEMPTS = 3;
const URL_MARGIN_MS = 60_000;
const POLL_MS = 750;
const POLL_LIMIT_MS = 120_000;
// Headers a browser sets itself and refuses to take from scripts.
const FORBIDDEN = new Set(["content-length", "host", "connection", "expect", "accept-encoding"]);

/** PUT `body` to a presigned URL with progress; resolves to the response's ETag. */
export function putObject(url, body, headers, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
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
    xhr.addEventListener("abort", () => reject(new Error("The upload was cancelled.")));
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
    this.state = "queued"; // queued, hashing, uploading, processing, available, paused, failed
    this.progress = 0; // 0..1 of the bytes sent
    this.error = null;
    this.upload = null;
    this.result = null;
    this.etags = new Map(); // part_number -> ETag of parts that landed
    this.checksums = new Map(); // part_number -> base64 SHA-256 its URL signed
    this.sent = new Map(); // part_number -> bytes sent
  }

  set(changes) {
    Object.assign(this, changes);
    this.onChange(this);
  }

  get contentType() {
    return this.file.type || "application/octet-stream";
  }

  async run() {
    try {
      this.set({ state: "hashing", progress: 0, error: null });
      const sha256 = await sha256Base64(this.file);
      this.result = await this.start({ size: this.file.size, sha256, content_type: this.contentType });
      // A new document answers {document, upload}; a new version answers the instructions alone.
      this.upload = this.result.upload || this.result;
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
    const resumable = this.upload && this.upload.method === "MULTIPART" && this.state === "uploading";
    this.set({ state: resumable ? "paused" : "failed", error });
  }

  async transfer() {
    this.set({ state: "uploading" });
    const upload = this.upload;
    if (upload.method === "MULTIPART") {
      await this.sendParts();
      this.set({ state: "processing" });
      await this.api.post(`/uploads/${seg(upload.upload_id)}/complete`, {
        parts: [...this.etags]
          .sort((a, b) => a[0] - b[0])
          .map(([part_number, etag]) => ({ part_number, etag, sha256: this.checksums.get(part_number) })),
      });
    } else {
      await putObject(upload.url, this.file, upload.headers, (loaded) => {
        this.set({ progress: this.file.size ? loaded / this.file.size : 1 });
      });
      this.set({ progress: 1, state: "processing" });
    }
    await this.waitUntilLanded();
  }

  async sendParts() {
    const upload = this.upload;
    const size = Number(upload.part_size);
    const count = Math.max(1, Math.ceil(this.file.size / size));
    const urls = new Map(); // part_number -> {url, headers, expiresAt}
    const missing = [];
    for (let n = 1; n <= count; n++) if (!this.etags.has(n)) missing.push(n);

    // A URL is granted for a part's SHA-256: hash the part first (once; kept for completion).
    const grant = async (n, body) => {
      if (!this.checksums.has(n)) this.checksums.set(n, await partSha256(body));
      const answer = await this.api.post(`/uploads/${seg(upload.upload_id)}/parts`, {
        parts: [{ part_number: n, sha256: this.checksums.get(n) }],
      });
      const expiresAt = Date.parse(answer.expires_at || "") || Infinity;
      for (const p of answer.parts || []) urls.set(Number(p.part_number), { ...p, expiresAt });
    };

    const report = () => {
      let sent = 0;
      for (const bytes of this.sent.values()) sent += bytes;
      this.set({ progress: this.file.size ? Math.min(1, sent / this.file.size) : 1 });
    };
    const sendPart = async (n) => {
      const body = this.file.slice((n - 1) * size, Math.min(this.file.size, n * size));
      for (let attempt = 1; ; attempt++) {
        try {
          if (!urls.has(n) || Date.now() > urls.get(n).expiresAt - URL_MARGIN_MS) await grant(n, body);
          const part = urls.get(n);
          const etag = await putObject(part.url, body, part.headers, (loaded) => {
            this.sent.set(n, loaded);
            report();
          });
          this.etags.set(n, etag);
          return;
        } catch (error) {
          this.sent.set(n, 0);
          report();
          if (attempt >= PART_ATTEMPTS) throw error;
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
      const status = await this.api.get(`/uploads/${id}`);
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
      if (Date.now() > deadline) {
        throw new Error("The file was sent but is still being checked. Reload in a minute to see it.");
      }
      await sleep(POLL_MS);
    }
  }
}
