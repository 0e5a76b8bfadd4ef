// The partner page /s/{token}: no account. Shows what is shared, asks for the password when
// there is one, and downloads. Expired, revoked, used-up and locked links get plain messages.
// The page is served with Referrer-Policy: no-referrer, so the token never leaks onward.

import { ApiError, seg } from "../api.js";
import { busy, field, formatSize, h, mount, showError, startDownload, time } from "../ui.js";

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
  const limited = share.downloads_remaining !== null && share.downloads_remaining !== undefined;
  const left = h("dd", { class: "downloads-left" }, limited ? String(share.downloads_remaining) : "");
  const facts = h("dl", { class: "details" },
    share.sender ? [h("dt", {}, "Sent by"), h("dd", { class: "sender" }, share.sender)] : null,
    h("dt", {}, "Size"), h("dd", {}, formatSize(share.size)),
    h("dt", {}, "Type"), h("dd", {}, share.content_type || ""),
    h("dt", {}, "Link valid until"), h("dd", {}, time(share.expires_at)),
    limited ? [h("dt", {}, "Downloads left"), left] : null);
  // The sender's note: text nodes only (h() never parses markup), line breaks kept by CSS.
  const note = share.message
    ? h("figure", { class: "partner-message" },
      h("figcaption", { class: "muted" }, share.sender ? `Message from ${share.sender}` : "Message from the sender"),
      h("blockquote", { class: "prewrap" }, share.message))
    : null;
  const button = h("button", { type: "submit", class: "primary big" }, "Download");
  const usedUp = () => {
    button.disabled = true;
    password.disabled = true;
    mount(message, h("p", { class: "ok", role: "status" },
      "Your download has started. That was the last download this link allows."));
  };
  const form = h("form", { class: "stack" },
    message,
    share.password_required ? field("Password", password, "The sender gave you this password separately.") : null,
    button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(message, null);
    const body = share.password_required ? { password: password.value } : {};
    try {
      const answer = await busy(form, () => api.post(`${path}/download`, body, { anonymous: true }));
      password.value = "";
      startDownload(answer.url);
      if (answer.downloads_remaining !== null && answer.downloads_remaining !== undefined) {
        left.textContent = String(answer.downloads_remaining);
        if (answer.downloads_remaining <= 0) return usedUp();
      }
      mount(message, h("p", { class: "ok", role: "status" }, "Your download has started."));
    } catch (error) {
      const reason = goneReason(error);
      if (reason) return showGone(reason);
      if (isWrongPassword(error)) {
        const text = error.code === "password_required"
          ? "Enter the password the sender gave you."
          : "That password is not right. Check it and try again.";
        showError(message, new Error(text));
        password.select();
        return;
      }
      showError(message, error);
    }
  });

  mount(main, h("section", { class: "narrow card partner" },
    h("p", { class: "muted" }, "A document has been shared with you"),
    h("h1", { class: "doc-name" }, share.name), note, facts, form,
    h("p", { class: "muted small link-terms" }, "No account is needed. This link works until the date above",
      limited ? " or until its downloads are used up" : "", ". Download starts the file at once.")));
  ctx.focusMain();
  if (share.password_required) password.focus();
}
