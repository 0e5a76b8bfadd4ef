// The local stack's Outbox (/outbox): every mail the functions sent, newest first, read from
// GET /_local/outbox. Only in local mode (config.json "local"); in AWS, SES delivers the mail.
// A mail's HTML is never rendered here: the text part is shown, and the HTML as its source text
// (textContent only), so a hostile document name in a mail cannot run in the app.

import { h, mount, showError, time } from "../ui.js";

export const OUTBOX_PATH = "/outbox";

export async function renderOutbox(main, ctx) {
  document.title = "Outbox · DocuServe (local)";
  if (!ctx.config.local) {
    mount(main, h("h1", {}, "Outbox"),
      h("p", {}, "The outbox exists only on the local stack; here mail is delivered by e-mail. ",
        h("a", { href: "/", "data-link": true }, "Back to DocuServe")));
    ctx.focusMain();
    return;
  }
  const message = h("div", { class: "message" });
  const listing = h("div", { "aria-busy": "true" }, h("p", { class: "muted" }, "Loading mail…"));
  const refresh = h("button", { type: "button", onclick: () => load() }, "Refresh");
  mount(main,
    h("h1", {}, "Outbox"),
    h("p", { class: "muted" },
      "Every mail the local stack sent (invitations, link downloads, codes, alerts), newest first. ",
      "It lives in memory and is gone when the stack stops."),
    h("div", { class: "actions" }, refresh),
    message,
    listing);
  ctx.focusMain();

  async function load() {
    showError(message, null);
    listing.setAttribute("aria-busy", "true");
    let mails;
    try {
      const response = await fetch("/_local/outbox", { cache: "no-store", credentials: "omit" });
      if (!response.ok) throw new Error(`The outbox answered HTTP ${response.status}.`);
      mails = await response.json();
    } catch (error) {
      listing.setAttribute("aria-busy", "false");
      showError(message, error);
      return;
    }
    if (ctx.view.stale()) return;
    listing.setAttribute("aria-busy", "false");
    if (!mails.length) {
      mount(listing, h("p", { class: "muted" }, "No mail has been sent yet."));
      return;
    }
    mount(listing, h("ol", { class: "outbox stack", "aria-label": `${mails.length} mails, newest first` },
      mails.map((mail) => h("li", { class: "card mail" },
        h("h2", { class: "mail-subject" }, mail.subject || "(no subject)"),
        h("p", { class: "muted" }, "To ", h("strong", { class: "mail-to" }, mail.to), mail.at ? [" · ", time(mail.at)] : null),
        h("pre", { class: "mail-text" }, mail.text),
        mail.html ? h("details", {},
          h("summary", {}, "HTML version (source)"),
          h("pre", { class: "mail-html" }, mail.html)) : null))));
  }

  await load();
}
