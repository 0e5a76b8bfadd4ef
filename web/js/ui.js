// Small DOM helpers. Every piece of text goes in through textContent, never innerHTML,
// so names, labels and API messages cannot inject markup.

/** Create an element: h("button", {class: "primary", onclick: fn}, "Save"). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      el.className = value;
    } else if (name === "dataset") {
      Object.assign(el.dataset, value);
    } else if (name in el && typeof value !== "string") {
      el[name] = value;
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace the content of `el` with `children`. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const UNITS = ["B", "KB", "MB", "GB", "TB"];

/** 1536 -> "1.5 KB" (binary multiples, as file managers show them). */
export function formatSize(bytes) {
  if (bytes === undefined || bytes === null) return "";
  let value = Number(bytes);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${UNITS[unit]}`;
}

/** ISO time -> the reader's local date and time. */
export function formatTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** A <time> element for an ISO timestamp. */
export function time(iso) {
  return h("time", { datetime: iso || "" }, formatTime(iso));
}

let statusTimer;

/** Announce a short message in the polite live region. */
export function announce(message) {
  const el = document.getElementById("status");
  if (!el) return;
  el.textContent = message;
  el.classList.add("shown");
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => el.classList.remove("shown"), 4000);
}

/** A readable sentence for any error thrown by the API, Cognito or the network. */
export function describeError(error) {
  if (!error) return "Something went wrong.";
  if (error.name === "TypeError" && /fetch|network/i.test(error.message)) {
    return "The service could not be reached. Check your connection and try again.";
  }
  if (error.code === "quota_exceeded" && error.details && typeof error.details.remaining_bytes === "number") {
    return `Not enough space in this workspace: ${formatSize(error.details.remaining_bytes)} left.`;
  }
  const sentences = fieldSentences(error.fields);
  if (sentences.length) return sentences.join(" ");
  let text = error.message || "Something went wrong.";
  const fields = fieldNames(error.fields);
  if (fields.length) text += ` (check: ${fields.join(", ")})`;
  return text;
}

/**
 * A 422's `{field: message}` as sentences, never a bare code or field name:
 * {email: "no user has this email; an admin can invite them"} ->
 * "No user has this email; an admin can invite them."
 */
export function fieldSentences(fields) {
  if (!fields || Array.isArray(fields) || typeof fields !== "object") return [];
  return Object.entries(fields).filter(([, message]) => typeof message === "string" && message.trim())
    .map(([name, message]) => {
      const label = name.split(".").pop().replace(/_/g, " ");
      let text = message.trim();
      text = text.charAt(0).toUpperCase() + text.slice(1);
      if (!/[.!?]$/.test(text)) text += ".";
      if (text.toLowerCase().includes(label.toLowerCase())) return text;
      return `${label.charAt(0).toUpperCase() + label.slice(1)}: ${text}`;
    });
}

/** Field names from a 422 `fields` value, whatever its shape (list of names, objects or a mapping). */
export function fieldNames(fields) {
  if (!fields) return [];
  if (Array.isArray(fields)) {
    return fields.map((f) => {
      if (typeof f === "string") return f;
      if (f && Array.isArray(f.loc)) return f.loc.filter((p) => p !== "body").join(".");
      return (f && (f.field || f.name)) || "";
    }).filter(Boolean);
  }
  if (typeof fields === "object") return Object.keys(fields);
  return [String(fields)];
}

/** An alert box for an error; role=alert makes screen readers speak it at once. */
export function errorBox(error) {
  return h("p", { class: "error", role: "alert" }, describeError(error));
}

/** Show `error` inside `slot` (an element kept for messages), or clear it when null. */
export function showError(slot, error) {
  mount(slot, error ? errorBox(error) : null);
}

/** Disable a form's controls while `work` runs; return its result. */
export async function busy(form, work) {
  const controls = [...form.querySelectorAll("button, input, select, textarea")];
  const before = controls.map((c) => c.disabled);
  controls.forEach((c) => { c.disabled = true; });
  form.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    controls.forEach((c, i) => { c.disabled = before[i]; });
    form.removeAttribute("aria-busy");
  }
}

/** A labelled form field. `input` gets an id and is linked to its label and hint. */
export function field(labelText, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  const parts = [h("label", { for: id }, labelText), input];
  if (hint) {
    const hintId = `${id}-hint`;
    input.setAttribute("aria-describedby", hintId);
    parts.push(h("small", { id: hintId, class: "hint" }, hint));
  }
  return h("div", { class: "field" }, parts);
}

/**
 * Open a modal dialog. `build(close)` returns its body. The native <dialog> traps focus,
 * closes on Escape, and gives focus back to the opener when it closes.
 */
export function openDialog(title, build) {
  const opener = document.activeElement;
  const titleId = `d-${Math.random().toString(36).slice(2, 9)}`;
  const dialog = h("dialog", { "aria-labelledby": titleId, class: "dialog" });
  const close = () => dialog.close();
  dialog.addEventListener("close", () => {
    dialog.remove();
    if (opener && typeof opener.focus === "function" && document.contains(opener)) opener.focus();
  });
  mount(
    dialog,
    h("div", { class: "dialog-head" },
      h("h2", { id: titleId }, title),
      h("button", { type: "button", class: "icon", "aria-label": "Close", onclick: close }, "×")),
    build(close),
  );
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

/** Copy text to the clipboard; falls back to selecting it in `input`. */
export async function copyText(text, input) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (input) {
      input.focus();
      input.select();
    }
    return false;
  }
}

/** Start a browser download of a presigned URL (the object carries Content-Disposition: attachment). */
export function startDownload(url) {
  const link = h("a", { href: url, rel: "noreferrer noopener", hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
}

/**
 * Ask before an unsafe action. Resolves true when the person confirms, false on Cancel or Escape.
 * `choices` adds checkboxes ({name, label, checked}); with them the answer is {confirmed, name: bool}.
 */
export function confirmAction(title, text, confirmLabel, { danger = true, choices = [] } = {}) {
  return new Promise((resolve) => {
    let answered = false;
    const boxes = choices.map((c) => [c.name, h("input", { type: "checkbox", checked: Boolean(c.checked) }), c.label]);
    const dialog = openDialog(title, (close) => {
      const yes = h("button", {
        type: "button", class: danger ? "danger" : "primary",
        onclick: () => {
          answered = true;
          resolve(choices.length
            ? { confirmed: true, ...Object.fromEntries(boxes.map(([name, box]) => [name, box.checked])) }
            : true);
          close();
        },
      }, confirmLabel);
      const body = h("div", { class: "stack" }, h("p", {}, text),
        boxes.map(([, box, label]) => h("label", { class: "check" }, box, " ", label)),
        h("div", { class: "actions" }, yes, h("button", { type: "button", onclick: close }, "Cancel")));
      setTimeout(() => yes.focus(), 0);
      return body;
    });
    dialog.addEventListener("close", () => {
      if (!answered) resolve(choices.length ? { confirmed: false } : false);
    });
  });
}

/** 75 -> "1 min 15 s"; 5400 -> "1 h 30 min" (time left of an upload). */
export function formatDuration(seconds) {
  const s = Math.max(0, Math.round(Number(seconds) || 0));
  if (s < 60) return `${s} s`;
  if (s < 3600) {
    const rest = s % 60;
    return rest ? `${Math.floor(s / 60)} min ${rest} s` : `${s / 60} min`;
  }
  const minutes = Math.round((s % 3600) / 60);
  return minutes ? `${Math.floor(s / 3600)} h ${minutes} min` : `${Math.floor(s / 3600)} h`;
}
