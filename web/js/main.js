// Entry point: load config.json, then route between the partner page (/s/{token}, no account)
// and the members' screens (sign-in, workspaces, a workspace, a document).

import { Api } from "./api.js";
import { Auth } from "./auth.js";
import { h, mount } from "./ui.js";
import { isAdmin, renderAdmin } from "./views/admin.js";
import { renderDocument } from "./views/document.js";
import { OUTBOX_PATH, renderOutbox } from "./views/outbox.js";
import { renderPartner } from "./views/partner.js";
import { renderRequestPartner } from "./views/request_partner.js";
import { renderSignIn } from "./views/signin.js";
import { renderWorkspace } from "./views/workspace.js";
import { renderWorkspaces } from "./views/workspaces.js";

const main = document.getElementById("main");
const account = document.getElementById("account");

async function loadConfig() {
  const response = await fetch("/config.json", { cache: "no-store", credentials: "omit" });
  if (!response.ok) throw new Error(`config.json answered HTTP ${response.status}`);
  return response.json();
}

/** Client-side navigation without a page load. */
function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  route();
}

let ctx;
let renderCount = 0;

/** A partner's page (a share link, an upload request): no account, no session needed. */
const isPartnerPage = () => /^\/[sr]\//.test(location.pathname);

function renderAccount() {
  // The local stack's outbox is open to anyone at the machine: partners read their codes there too.
  const outbox = ctx && ctx.config.local ? h("a", { href: OUTBOX_PATH, "data-link": true }, "Outbox") : null;
  if (!ctx || isPartnerPage() || !ctx.auth.signedIn) {
    mount(account, outbox);
    return;
  }
  const signOut = async () => {
    await ctx.auth.signOut();
    navigate("/", { replace: true });
  };
  mount(account,
    outbox,
    isAdmin(ctx.auth) ? h("a", { href: "/admin", "data-link": true }, "Admin") : null,
    h("span", { class: "who" }, ctx.auth.user.email),
    h("button", { type: "button", class: "link", onclick: signOut }, "Sign out"));
}

async function route() {
  const render = ++renderCount;
  const path = location.pathname;
  // Only the newest render may touch the page; a slow earlier one finds itself stale.
  const view = { stale: () => render !== renderCount };
  renderAccount();
  let match;
  if ((match = path.match(/^\/s\/([^/]+)\/?$/))) {
    document.title = "Shared document · DocuServe";
    return renderPartner(main, { ...ctx, view }, decodeURIComponent(match[1]));
  }
  if ((match = path.match(/^\/r\/([^/]+)\/?$/))) {
    document.title = "Send files · DocuServe";
    return renderRequestPartner(main, { ...ctx, view }, decodeURIComponent(match[1]));
  }
  if (path === OUTBOX_PATH) {
    return renderOutbox(main, { ...ctx, view });
  }
  if (!ctx.auth.signedIn) {
    document.title = "Sign in · DocuServe";
    return renderSignIn(main, { ...ctx, view });
  }
  if ((match = path.match(/^\/w\/([^/]+)\/?$/))) {
    return renderWorkspace(main, { ...ctx, view }, decodeURIComponent(match[1]));
  }
  if (/^\/admin(\/.*)?$/.test(path)) {
    return renderAdmin(main, { ...ctx, view });
  }
  if ((match = path.match(/^\/d\/([^/]+)\/?$/))) {
    return renderDocument(main, { ...ctx, view }, decodeURIComponent(match[1]));
  }
  document.title = "Workspaces · DocuServe";
  return renderWorkspaces(main, { ...ctx, view });
}

function focusMain() {
  // Move focus to the new screen so keyboard and screen-reader users start at its top.
  const heading = main.querySelector("h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: true });
  }
}

async function start() {
  try {
    const config = await loadConfig();
    const auth = new Auth(config);
    const api = new Api(config, auth);
    ctx = { config, auth, api, navigate, focusMain };
    auth.onChange((signedIn) => {
      renderAccount();
      if (!signedIn && !isPartnerPage()) route();
    });
  } catch (error) {
    mount(main, h("h1", {}, "DocuServe is not available"),
      h("p", { class: "error", role: "alert" }, "The app's configuration could not be loaded. Try again later."));
    return;
  }
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-link]");
    if (!link || event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(link.getAttribute("href"));
  });
  window.addEventListener("popstate", route);
  // A new tab may get its session from an open one (auth.js); partner pages need none.
  if (!isPartnerPage()) await ctx.auth.ready;
  await route();
}

start();
