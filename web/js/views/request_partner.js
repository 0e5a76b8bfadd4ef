// The partner page of an upload request, /r/{token}: no account. Shows the requester's message and
// what is still allowed, takes several files at once (a drop zone), and shows each file's progress
// and status, "Scanning for malware" included. The partner can never see what others sent, nor
// read or download anything. The page is served with Referrer-Policy: no-referrer.

import { ApiError, seg } from "../api.js";
import { field, formatSize, h, mount, showError, time } from "../ui.js";
import { UploadTask } from "../upload.js";
import { dropZone } from "./common.js";
import { verification } from "./partner.js";

const GONE = {
  request_expired: ["This request has expired", "Ask the person who sent it for a new link."],
  request_closed: ["This request is closed", "It no longer accepts files. Ask the person who sent it if you still need to send something."],
  request_unavailable: ["This request is no longer available", "Ask the person who sent it for a new link."],
  upload_requests_disabled: ["File requests are turned off", "This service does not accept files from requests at the moment. Try again later or contact the sender."],
  link_locked: ["This request is locked for now", "There were too many wrong passwords. Try again in 15 minutes."],
  not_found: ["This link does not work", "Check that you copied the whole address, or ask the sender for a new link."],
};

const STATE_TEXT = {
  queued: "Waiting",
  hashing: "Preparing",
  uploading: "Uploading",
  processing: "Checking the file",
  scanning: "Scanning for malware",
  available: "Received",
  failed: "Failed",
  cancelled: "Cancelled",
  paused: "Paused",
};

/** Plain words for why a file was refused. */
function refusal(error) {
  if (!(error instanceof ApiError)) return error && error.message ? error.message : "The file could not be sent.";
  const code = String(error.code || "");
  if (code === "password_required") return "This request needs its password: enter it above.";
  if (code === "password_incorrect") return "The password is not correct.";
  if (["verification_required", "grant_invalid", "grant_expired"].includes(code)) {
    return "Confirm your e-mail address again (above), then send the file again.";
  }
  if (code === "request_full") return "This request accepts no more files.";
  if (code === "request_bytes_exceeded") return "This file is larger than what the request still accepts.";
  if (code === "too_large") return "This file is larger than the request allows.";
  if (error.fields && error.fields.content_type) return "This type of file is not accepted by this request.";
  if (error.fields && error.fields.name) return "This file name is not accepted.";
  if (GONE[code]) return GONE[code][0] + ".";
  return error.message;
}

function goneView(main, code) {
  const [title, text] = GONE[code] || GONE.not_found;
  mount(main, h("h1", {}, title), h("p", {}, text));
}

export async function renderRequestPartner(main, ctx, token) {
  const { api } = ctx;
  const base = `/public/requests/${seg(token)}`;
  const anonymous = { anonymous: true };
  mount(main, h("p", { class: "muted" }, "Loading…"));
  let info;
  try {
    info = await api.get(base, undefined, anonymous);
  } catch (error) {
    if (ctx.view.stale()) return;
    if (error instanceof ApiError && (error.status === 404 || GONE[error.code])) return goneView(main, error.code);
    mount(main, h("h1", {}, "Send files"));
    showError(main.appendChild(h("div")), error);
    return;
  }
  if (ctx.view.stale()) return;
  document.title = "Send files · DocuServe";

  const allowance = h("p", { class: "allowance", "aria-live": "polite" });
  const showAllowance = () => {
    mount(allowance,
      `You can send ${info.files_remaining} more file${info.files_remaining === 1 ? "" : "s"}, `,
      `up to ${formatSize(info.bytes_remaining)} in total`,
      info.max_file_size ? `, at most ${formatSize(info.max_file_size)} each` : "",
      ".");
  };
  showAllowance();
  const password = h("input", { type: "password", name: "password", autocomplete: "off", maxlength: 256 });
  const name = h("input", { type: "text", name: "uploader_name", autocomplete: "name", maxlength: 200 });
  const email = h("input", { type: "email", name: "uploader_email", autocomplete: "email", maxlength: 254 });
  const list = h("ul", { class: "request-uploads", "aria-live": "polite" });
  const message = h("div", { class: "message" });

  const row = (file) => {
    const status = h("span", { class: "status" }, STATE_TEXT.queued);
    const bar = h("progress", { max: "1", value: "0", "aria-label": `Progress of ${file.name}` });
    const li = h("li", { class: "upload", dataset: { name: file.name, state: "queued" } },
      h("span", { class: "name" }, file.name), " ", h("span", { class: "muted" }, formatSize(file.size)), " ", bar, " ", status);
    list.append(li);
    return (task) => {
      li.dataset.state = task.state;
      bar.value = task.progress;
      const percent = task.state === "uploading" ? ` ${Math.round(task.progress * 100)}%` : "";
      status.textContent = task.state === "failed" ? `Failed: ${refusal(task.error)}` : `${STATE_TEXT[task.state] || task.state}${percent}`;
      status.className = `status state-${task.state}`;
    };
  };

  // A recipient-restricted request: the e-mail, then the mailed code; the grant stays in memory.
  let grant = null;
  let gate = null;
  const send = async (file) => {
    const update = row(file);
    const start = async (declared) => {
      const body = { name: file.name, ...declared };
      if (grant) body.grant = grant;
      if (password.value) body.password = password.value;
      if (name.value.trim()) body.uploader_name = name.value.trim();
      if (email.value.trim()) body.uploader_email = email.value.trim();
      const answer = await api.post(`${base}/uploads`, body, anonymous);
      info = { ...info, files_remaining: answer.files_remaining, bytes_remaining: answer.bytes_remaining };
      showAllowance();
      return answer;
    };
    const task = new UploadTask(api, file, start, update);
    task.base = `${base}/uploads`;
    task.options = anonymous;
    update(task);
    await task.run();
    update(task);
    if (gate && task.error instanceof ApiError && ["grant_invalid", "grant_expired", "verification_required"].includes(task.error.code)) {
      grant = null;
      dropSlot.hidden = true;
      gate.restart();
    }
  };

  const zone = dropZone("Choose files", (files) => {
    message.replaceChildren();
    // Files are sent a few at a time; each has its own row, progress and status.
    const queue = [...files];
    const worker = async () => {
      while (queue.length) await send(queue.shift());
    };
    Promise.all([worker(), worker(), worker()]).catch((error) => showError(message, error));
  });

  // The zone's own CSS sets its display, so a wrapper is what hides it until verified.
  const dropSlot = h("div", { class: "drop-slot" }, zone.element);
  if (info.recipients_required) {
    gate = verification(api, base, (value, address) => {
      grant = value;
      email.value = address;
      email.readOnly = true;
      mount(gate.box, h("p", { role: "status" }, "Verified as ", h("strong", {}, address), ". You can send files now."));
      dropSlot.hidden = false;
    }, () => mount(main, h("h1", {}, "This request cannot take files now"),
      h("p", {}, "Reload the page, or ask the person who sent it for a new link.")));
    dropSlot.hidden = true;
  }

  mount(main,
    h("h1", {}, "Send files"),
    info.sender ? h("p", {}, h("strong", {}, info.sender), " asks you for files.") : null,
    info.message ? h("p", { class: "message-text" }, info.message) : null,
    allowance,
    info.allowed_types.length ? h("p", { class: "muted" }, `Accepted types: ${info.allowed_types.join(", ")}`) : null,
    h("p", { class: "muted" }, `Open until ${time(info.expires_at)}. Files are scanned for malware before the sender can open them. You cannot see files once they are sent.`),
    h("form", { class: "stack partner-details", onsubmit: (event) => event.preventDefault() },
      info.password_required ? field("Password", password, "The sender gave it to you with the link.") : null,
      field("Your name (optional)", name),
      field("Your e-mail address (optional)", email)),
    gate ? gate.box : null,
    message,
    dropSlot,
    list);
  ctx.focusMain();
}
