// The partner page's signed delivery manifest (docs/share-links.md#signed-delivery-manifests):
// what the sender's deployment signed (files, sizes, SHA-256, signer, key id), and "Download and
// verify": the signature is checked with Web Crypto (ECDSA P-256, SHA-256) against the key listed at
// /public/keys, then each file is fetched, hashed (crypto.subtle.digest) and compared. The verdict
// is shown plainly: verified, or failed with the reason. Nothing here trusts the page's own data.

import { formatSize, h, mount, time } from "../ui.js";

const enc = new TextEncoder();

const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");

function base64Bytes(text) {
  const raw = atob(text);
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

/** A DER ECDSA signature (SEQUENCE { INTEGER r, INTEGER s }) as Web Crypto's raw r‖s, 32 bytes each. */
export function derToRaw(der) {
  const fail = () => { throw new Error("the signature is not a DER ECDSA signature"); };
  let i = 0;
  if (der[i++] !== 0x30) fail();
  let length = der[i++];
  if (length & 0x80) i += length & 0x7f; // a long-form length (never for P-256, tolerated)
  const out = new Uint8Array(64);
  for (let part = 0; part < 2; part++) {
    if (der[i++] !== 0x02) fail();
    length = der[i++];
    let value = der.slice(i, i + length);
    i += length;
    while (value.length > 32 && value[0] === 0) value = value.slice(1); // DER's sign byte
    if (value.length > 32) fail();
    out.set(value, part * 32 + (32 - value.length)); // left-padded to 32 bytes
  }
  return out;
}

async function importPem(pem) {
  const body = pem.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, "").replace(/\s+/g, "");
  return crypto.subtle.importKey("spki", base64Bytes(body), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
}

/** Whether the signature is valid over the manifest (or its statement) by the listed key; throws why not. */
export async function checkSignature(signed, keys) {
  const key = (keys || []).find((k) => k.key_id === signed.key_id);
  if (!key) throw new Error(`the signing key ${signed.key_id} is not one of the keys this service lists`);
  const message = signed.statement || signed.manifest;
  const ok = await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, await importPem(key.pem),
    derToRaw(base64Bytes(signed.signature)), enc.encode(message));
  if (!ok) throw new Error("the signature does not match the manifest");
  if (signed.statement) {
    const statement = JSON.parse(signed.statement);
    const digest = hex(await crypto.subtle.digest("SHA-256", enc.encode(signed.manifest)));
    if (statement.manifest_sha256 !== digest) throw new Error("the signed statement is for another manifest");
    if (statement.share_id !== JSON.parse(signed.manifest).share_id) throw new Error("the signed statement is for another link");
  }
  return key;
}

/**
 * The manifest panel. `fetchUrl(file, index)` redeems one file (counted as a download) and resolves
 * its presigned URL; the panel fetches and hashes it.
 */
export function manifestPanel(api, path, fetchUrl) {
  const box = h("section", { class: "manifest stack", "aria-label": "Signed delivery manifest" },
    h("p", { class: "muted" }, "Loading the signed manifest…"));
  (async () => {
    let signed; let keys;
    try {
      [signed, keys] = await Promise.all([
        api.get(`${path}/manifest`, undefined, { anonymous: true }),
        api.get("/public/keys", undefined, { anonymous: true }).then((answer) => answer.keys),
      ]);
    } catch {
      mount(box, h("p", { class: "muted" }, "This link has no signed manifest."));
      return;
    }
    const manifest = JSON.parse(signed.manifest);
    const verdict = h("div", { class: "verdict", role: "status", "aria-live": "polite" });
    const saves = h("ul", { class: "verified-files" });
    const button = h("button", { type: "button", class: "secondary" }, "Download and verify");
    button.addEventListener("click", async () => {
      button.disabled = true;
      mount(saves);
      mount(verdict, h("p", { class: "muted" }, "Checking the signature and the files…"));
      try {
        const key = await checkSignature(signed, keys);
        const results = [];
        for (const [index, file] of manifest.files.entries()) {
          const response = await fetch(await fetchUrl(file, index));
          if (!response.ok) throw new Error(`${file.name} could not be downloaded (${response.status})`);
          const bytes = await response.arrayBuffer();
          const digest = hex(await crypto.subtle.digest("SHA-256", bytes));
          results.push({ file, bytes, match: digest === file.sha256 && bytes.byteLength === file.size, digest });
        }
        const bad = results.filter((r) => !r.match);
        if (bad.length) {
          mount(verdict, h("p", { class: "error verify-failed" },
            `Verification failed: ${bad.map((r) => r.file.name).join(", ")} does not match the signed manifest (SHA-256 ${bad[0].digest}).`));
        } else {
          mount(verdict, h("p", { class: "ok verify-ok" },
            `Verified: the manifest is signed by ${manifest.issuer.name} (${manifest.issuer.web_origin}, key ${key.key_id}), and `
            + `${results.length === 1 ? "the file matches it" : `all ${results.length} files match it`}.`));
          mount(saves, ...results.map((r) => h("li", {}, h("a", {
            href: URL.createObjectURL(new Blob([r.bytes])), download: r.file.name,
          }, `Save ${r.file.name}`))));
        }
      } catch (error) {
        mount(verdict, h("p", { class: "error verify-failed" }, `Verification failed: ${error.message || error}.`));
      } finally {
        button.disabled = false;
      }
    });
    mount(box,
      h("h2", {}, "Signed delivery manifest"),
      h("dl", { class: "details" },
        h("dt", {}, "Signed by"), h("dd", { class: "signer" }, `${manifest.issuer.name} (${manifest.issuer.web_origin})`),
        h("dt", {}, "Key id"), h("dd", {}, h("code", { class: "key-id" }, signed.key_id)),
        h("dt", {}, "Link id"), h("dd", {}, h("code", { class: "share-id" }, manifest.share_id)),
        h("dt", {}, "Made"), h("dd", {}, time(manifest.created_at))),
      h("table", { class: "manifest-files" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "File"), h("th", { scope: "col" }, "Size"),
          h("th", { scope: "col" }, "SHA-256 (hex)"))),
        h("tbody", {}, manifest.files.map((file) => h("tr", {},
          h("th", { scope: "row" }, file.name), h("td", {}, formatSize(file.size)),
          h("td", {}, h("code", { class: "sha256" }, file.sha256)))))),
      h("p", { class: "muted small" }, "Download and verify counts as a download of each file."),
      button, verdict, saves);
  })();
  return box;
}
