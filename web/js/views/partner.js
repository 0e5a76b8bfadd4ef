// The partner page /s/{token}: no account. Shows what is shared, asks for the password when
// there is one, and downloads. Expired, revoked, used-up and locked links get plain messages.
// The page is served with Referrer-Policy: no-referrer, so the token never leaks onward.
// A recipient-restricted link first asks for the e-mail address, then the code mailed to it;
// the grant that the code gives is kept in this page's memory only (never stored), for 15 minutes.
// A bundle lists its files (name, size, SHA-256) with a download each, and "Download all (ZIP)",
// which asks again while the API answers 202 "preparing" (nothing is counted until it is served).

import { ApiError, seg } from "../api.js";
import { busy, field, formatSize, h, mount, showError, startDownload, time } from "../ui.js";
import { manifestPanel } from "./manifest.js";

const GONE = {
  expired: ["This link has expired", "Ask the person who sent it for a new link."],
  revoked: ["This link has been withdrawn", "The sender has revoked it. Ask them for a new link if you still need the document."],
  used_up: ["This link has been used up", "It allowed a limited number of downloads, and they have all been used. Ask the sender for a new link."],
  unavailable: ["This document is no longer available", "The sender has removed it. Ask them if you still need it."],
  locked: ["This link is locked for now", "There were too many wrong passwords. Try again in 15 minutes."],
  unknown: ["This link does not work", "Check that you copied the whole address, or ask the sender for a new link."],
};

/** Which plain message fits an API error (a key of GONE), or null when it is not about the link. */
export function goneReason(error) {
  if (!(error instanceof ApiError)) return null;
  const code = String(error.code || "").toLowerCase();
  if (error.status === 429 || code.includes("lock")) return "locked";
  if (error.status === 404) return "unknown";
  if (error.status === 410) {
    if (code.includes("revok")) return "revoked";
    if (code.includes("unavailable")) return "unavailable";
    if (code.includes("expir")) return "expired";
    if (/exhaust|used|limit|download/.test(code)) return "used_up";
    return "expired";
  }
  return null;
}

// The API answers 403 password_required / password_incorrect (never 401: a partner has no account).
function isWrongPassword(error) {
  const code = String((error && error.code) || "").toLowerCase();
  return error instanceof ApiError && (error.status === 403 || code.includes("password"));
}

// Plain words for the verification answers (SPEC "Recipient-restricted links").
const CODE_TEXT = {
  code_incorrect: "That code is not right.",
  code_expired: "That code has expired or was already used. Ask for a new code.",
  code_attempts_exhausted: "Too many wrong codes. Ask for a new code; it will come by e-mail.",
  code_rate_limited: "Too many codes were asked for this address.",
  grant_expired: "Your verification has expired. Confirm your e-mail address again.",
  grant_invalid: "Your e-mail address can no longer open this link, or the verification is not valid. Confirm your address again.",
  verification_required: "Confirm your e-mail address first.",
  verification_not_required: "The sender has opened this link to anyone who has it: reload the page to download.",
};

function codeError(error) {
  const code = error instanceof ApiError ? String(error.code || "") : "";
  const text = CODE_TEXT[code];
  if (!text) return null;
  // The server's own sentence carries the tries left or the seconds to wait.
  const tries = /(\d+) tr(?:y|ies) left/.exec(error.message || "");
  if (code === "code_incorrect" && tries) return new Error(`${text} ${tries[1]} ${tries[1] === "1" ? "try" : "tries"} left.`);
  const wait = /(\d+) seconds/.exec(error.message || "");
  if (code === "code_rate_limited") {
    const minutes = wait ? Math.max(1, Math.ceil(Number(wait[1]) / 60)) : 15;
    return new Error(`${text} Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`);
  }
  return new Error(text);
}

/** The e-mail, then the code: resolves the grant through `onVerified(grant)`. */
export function verification(api, path, onVerified, notice) {
  const box = h("div", { class: "verify stack" });
  const message = h("div", { class: "message" });
  const email = h("input", { type: "email", autocomplete: "email", required: true, maxlength: 254, name: "email" });
  const askEmail = (text) => {
    const form = h("form", { class: "stack verify-email" },
      h("p", {}, "This link is only for the people it was sent to. Enter your e-mail address: if it is one of them, we send you a 6-digit code."),
      message,
      field("Your e-mail address", email),
      h("button", { type: "submit", class: "primary" }, "Send me a code"));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      showError(message, null);
      try {
        await busy(form, () => api.post(`${path}/verify`, { email: email.value }, { anonymous: true }));
        askCode();
      } catch (error) {
        const reason = goneReason(error);
        if (reason && error.code !== "code_rate_limited") return notice(reason);
        showError(message, error.status === 422 ? new Error("Enter a valid e-mail address.") : codeError(error) || error);
      }
    });
    mount(box, form);
    if (text) showError(message, new Error(text));
    email.focus();
  };
  const askCode = () => {
    const code = h("input", {
      type: "text", inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}", maxlength: 6,
      required: true, name: "code",
    });
    const again = h("button", { type: "button", onclick: () => askEmail() }, "Send a new code or use another address");
    const form = h("form", { class: "stack verify-code" },
      h("p", { role: "status" }, "If ", h("strong", {}, email.value.trim().toLowerCase()),
        " may open this link, a 6-digit code is on its way to it. It is valid for 10 minutes."),
      message,
      field("Code from the e-mail", code, "6 digits. Check your spam folder if it does not arrive."),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Confirm"), again));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      showError(message, null);
      try {
        const answer = await busy(form, () => api.post(`${path}/verify/confirm`,
          { email: email.value, code: code.value.replace(/\s+/g, "") }, { anonymous: true }));
        onVerified(answer.grant, email.value.trim().toLowerCase());
      } catch (error) {
        const reason = goneReason(error);
        if (reason) return notice(reason);
        if (error.status === 422) return showError(message, new Error("Enter the 6 digits of the code."));
        showError(message, codeError(error) || error);
        code.select();
      }
    });
    mount(box, form);
    code.focus();
  };
  askEmail();
  return { box, restart: askEmail };
}

export async function renderPartner(main, ctx, token) {
  const { api } = ctx;
  const path = `/public/shares/${seg(token)}`;
  mount(main, h("p", { class: "muted" }, "Opening the shared document…"));

  const showGone = (reason) => {
    const [title, text] = GONE[reason];
    mount(main, h("section", { class: "narrow card partner", dataset: { reason } },
      h("h1", {}, title), h("p", {}, text)));
    ctx.focusMain();
  };

  let share;
  try {
    share = await api.get(path, undefined, { anonymous: true });
  } catch (error) {
    const reason = goneReason(error);
    if (reason) return showGone(reason);
    const slot = h("div");
    mount(main, h("section", { class: "narrow card partner" }, h("h1", {}, "The shared document could not be opened"), slot));
    showError(slot, error);
    return;
  }

  const message = h("div", { class: "message" });
  const password = h("input", { type: "password", autocomplete: "off", required: true });
  const bundle = share.kind === "bundle";
  const limited = share.downloads_remaining !== null && share.downloads_remaining !== undefined;
  const left = h("dd", { class: "downloads-left" }, limited ? String(share.downloads_remaining) : "");
  const facts = h("dl", { class: "details" },
    share.sender ? [h("dt", {}, "Sent by"), h("dd", { class: "sender" }, share.sender)] : null,
    h("dt", {}, "Size"), h("dd", {}, formatSize(share.size)),
    bundle ? null : [h("dt", {}, "Type"), h("dd", {}, share.content_type || "")],
    h("dt", {}, "Link valid until"), h("dd", {}, time(share.expires_at)),
    limited ? [h("dt", {}, "Downloads left"), left] : null);
  // The sender's note: text nodes only (h() never parses markup), line breaks kept by CSS.
  const note = share.message
    ? h("figure", { class: "partner-message" },
      h("figcaption", { class: "muted" }, share.sender ? `Message from ${share.sender}` : "Message from the sender"),
      h("blockquote", { class: "prewrap" }, share.message))
    : null;
  const button = h("button", { type: "submit", class: "primary big" }, bundle ? "Download all (ZIP)" : "Download");
  if (bundle && !share.archive_available) button.hidden = true;
  const usedUp = () => {
    button.disabled = true;
    password.disabled = true;
    mount(message, h("p", { class: "ok", role: "status" },
      "Your download has started. That was the last download this link allows."));
  };
  // A bundle: each file with its size and SHA-256, and a download of its own.
  const fileRows = bundle ? (share.files || []).map((file) => h("tr", { class: "bundle-file" },
    h("th", { scope: "row" }, file.name),
    h("td", {}, formatSize(file.size)),
    h("td", {}, h("code", { class: "sha256" }, file.sha256)),
    h("td", {}, file.available
      ? h("button", { type: "button", class: "secondary", "aria-label": `Download ${file.name}`,
        onclick: () => redeem({ document_id: file.document_id }, file.name) }, "Download")
      : h("span", { class: "muted" }, "No longer available")))) : [];
  const files = bundle ? h("table", { class: "bundle-files" },
    h("caption", {}, `${(share.files || []).length} files`),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Size"),
      h("th", { scope: "col" }, "SHA-256 (base64)"), h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Download")))),
    h("tbody", {}, fileRows)) : null;
  const form = h("form", { class: "stack" },
    message,
    share.password_required ? field("Password", password, "The sender gave you this password separately.") : null,
    files,
    bundle && !share.archive_available
      ? h("p", { class: "muted" }, "These files are too large together for one ZIP: download them one by one.")
      : null,
    button);
  // A restricted link: the download form appears once the code is confirmed; the grant lives here only.
  let grant = null;
  const verifiedAs = h("p", { class: "ok verified-as", role: "status" });
  const step = h("div", { class: "partner-step" });
  const verify = share.verification_required
    ? verification(api, path, (value, address) => {
      grant = value;
      verifiedAs.textContent = `Confirmed: ${address}.`;
      mount(step, verifiedAs, form);
      if (share.password_required) password.focus(); else button.focus();
    }, showGone)
    : null;
  const reverify = (text) => {
    grant = null;
    verify.restart(text);
    mount(step, verify.box);
  };
  mount(step, verify ? verify.box : form);
  // One redemption: the document, one file of a bundle ({document_id}) or its ZIP ({archive: true}).
  // A bundle's ZIP answers 202 {status: "preparing"} until it is built: ask again after Retry-After.
  const redeem = async (extra, what) => {
    showError(message, null);
    const body = { ...extra, ...(share.password_required ? { password: password.value } : {}) };
    if (grant) body.grant = grant;
    try {
      let answer = await busy(form, () => api.post(`${path}/download`, body, { anonymous: true }));
      while (answer && answer.status === "preparing") {
        mount(message, h("p", { class: "muted", role: "status" }, "Preparing the ZIP of all files… it downloads when ready."));
        await new Promise((done) => setTimeout(done, 1000 * Math.min(Math.max(answer.retry_after || 5, 1), 10)));
        answer = await busy(form, () => api.post(`${path}/download`, body, { anonymous: true }));
      }
      password.value = "";
      startDownload(answer.url);
      if (answer.downloads_remaining !== null && answer.downloads_remaining !== undefined) {
        left.textContent = String(answer.downloads_remaining);
        if (answer.downloads_remaining <= 0) return usedUp();
      }
      mount(message, h("p", { class: "ok", role: "status" }, what ? `The download of ${what} has started.` : "Your download has started."));
    } catch (error) {
      const reason = goneReason(error);
      if (reason && !(bundle && extra.document_id && reason === "unavailable")) return showGone(reason);
      if (verify && ["grant_expired", "grant_invalid", "verification_required"].includes(error.code)) {
        return reverify(CODE_TEXT[error.code]);
      }
      if (isWrongPassword(error)) {
        const text = error.code === "password_required"
          ? "Enter the password the sender gave you."
          : "That password is not right. Check it and try again.";
        showError(message, new Error(text));
        password.select();
        return;
      }
      if (bundle && extra.document_id && reason === "unavailable") {
        return showError(message, new Error("That file is no longer available. The others still are."));
      }
      showError(message, error);
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    redeem(bundle ? { archive: true } : {}, bundle ? "all files (ZIP)" : null);
  });
  // "Download and verify" (./manifest.js): one redemption per file of the signed manifest, which
  // lists a bundle's serving files in the bundle's order.
  const fetchUrl = async (file, index) => {
    if (share.password_required && !password.value) throw new Error("enter the password the sender gave you first");
    if (share.verification_required && !grant) throw new Error("confirm your e-mail address first");
    const body = share.password_required ? { password: password.value } : {};
    if (grant) body.grant = grant;
    if (bundle) body.document_id = (share.files || []).filter((f) => f.available)[index]?.document_id;
    const answer = await api.post(`${path}/download`, body, { anonymous: true });
    if (limited && answer.downloads_remaining !== null && answer.downloads_remaining !== undefined) {
      left.textContent = String(answer.downloads_remaining);
    }
    return answer.url;
  };
  // In the download form, so a restricted link shows it once the e-mail address is confirmed.
  form.append(manifestPanel(api, path, fetchUrl));

  mount(main, h("section", { class: "narrow card partner" },
    h("p", { class: "muted" }, bundle ? "Documents have been shared with you" : "A document has been shared with you"),
    h("h1", { class: "doc-name" }, share.name), note, facts, step,
    h("p", { class: "muted small link-terms" }, "No account is needed. This link works until the date above",
      limited ? " or until its downloads are used up" : "", ". Download starts the file at once.")));
  ctx.focusMain();
  if (verify) verify.restart();
  else if (share.password_required) password.focus();
}
