// app.js owns start-up and the two views: the sign-in form until there is a
// session, then the console (trees, instances, live status, details). It
// keeps one live subscription to instanceStatusChanged and its cursor, so a
// reconnect resumes after the last change it saw; and one to the
// INSTANCE_DELETED audit events, likewise.

import { gql, setToken, onSessionLost, describe } from "./api.js";
import { $, h, replace } from "./dom.js";
import { Live } from "./live.js";
import * as session from "./session.js";
import * as tree from "./tree.js";
import * as instances from "./instances.js";
import * as create from "./create.js";
import * as detail from "./detail.js";

const STATUS_CHANGED = `subscription Live($after: String) {
  instanceStatusChanged(after: $after) {
    instanceId previousStatus status at cursor
    instance { ...Row }
  }
} ${instances.FIELDS}`;

// Deletions are audit events without a status: a second subscription.
const DELETED = `subscription Deleted($after: String) {
  auditEventAdded(filter: {types: ["INSTANCE_DELETED"]}, after: $after) { instanceId time cursor }
}`;

const LIVE_WORDS = { connecting: "Live: connecting…", connected: "Live", reconnecting: "Live: reconnecting…", offline: "Live: offline" };

let live = null;
let cursor = null; // the cursor of the last status change seen
let deletedCursor = null; // the cursor of the last deletion seen
let signedIn = false; // from start() to signOut()

// The console's state, for DevTools and the browser test: the live client
// (disconnect()/connect() simulate a dropped connection).
window.cairn = { get live() { return live; }, get cursor() { return cursor; } };

function showSignIn(message = "") {
  $("console-view").hidden = true;
  $("who").hidden = $("signout").hidden = $("live-state").hidden = true;
  $("signin-view").hidden = false;
  $("signin-error").textContent = message;
  const idps = session.providers();
  $("idp-list").hidden = idps.length === 0;
  // The same providers keep their buttons: a late sign-out (a request that
  // was in flight) must not swap the button under the user's pointer.
  const list = $("idp-list").querySelector("ul");
  const key = JSON.stringify(idps);
  if (list.dataset.providers !== key) {
    list.dataset.providers = key;
    replace(list, idps.map((p) =>
      h("li", {}, h("button", { type: "button", onclick: () => signInWith(p) }, p.label))));
  }
  $("signin-email").focus();
}

async function signInWith(p) {
  try {
    await session.signInWith(p);
    await start();
  } catch (e) {
    $("signin-error").textContent = describe(e);
  }
}

// signOut ends the session; message says why, when it was not asked for.
function signOut(message = "") {
  signedIn = false;
  if (live) live.disconnect();
  live = null;
  cursor = deletedCursor = null;
  session.signOut();
  setToken("");
  showSignIn(message);
}

// start opens the console for the stored session.
async function start() {
  const s = session.current();
  if (!s) return showSignIn();
  signedIn = true;
  setToken(s.token);
  let me;
  try {
    me = await session.viewer();
  } catch (e) {
    return signOut(describe(e));
  }
  if (!me || !me.user) return signOut("Sign in with a user to use the console.");
  $("signin-view").hidden = true;
  $("console-view").hidden = false;
  $("who").hidden = $("signout").hidden = $("live-state").hidden = false;
  $("who").textContent = `${me.user.name} (${me.user.email}) · ${me.tenant ? me.tenant.name : ""}`;
  session.rememberProviders(me.tenant && me.tenant.id);
  $("main").focus();

  // The newest event's cursor, read before the table, makes the
  // subscription replay whatever changes while the table loads.
  try {
    const d = await gql(`query Newest { auditEvents(first: 1) { nodes { cursor } } }`);
    cursor = deletedCursor = d.auditEvents.nodes.length ? d.auditEvents.nodes[0].cursor : null;
  } catch {
    cursor = deletedCursor = null;
  }
  await Promise.all([
    instances.load(null),
    tree.renderTenants($("tenant-tree"), (t) => instances.load(t ? t.id : null)).catch((e) => replace($("tenant-tree"), h("p", { class: "error" }, describe(e)))),
    tree.renderCatalog($("catalog-tree")).catch((e) => replace($("catalog-tree"), h("p", { class: "error" }, describe(e)))),
    create.init().catch((e) => ($("create-error").textContent = describe(e))),
  ]);

  live = new Live({
    token: () => (session.current() || {}).token || "",
    onState: (st) => {
      $("live-state").textContent = LIVE_WORDS[st];
      $("live-state").dataset.state = st;
    },
    onRefused: (msg) => signOut(msg),
  });
  live.subscribe(STATUS_CHANGED, () => ({ after: cursor }), (d) => {
    const c = d.instanceStatusChanged;
    cursor = c.cursor;
    instances.applyChange(c);
  }, (errors) => ($("instances-error").textContent = "Live status: " + errors.map((e) => e.message).join("; ")));
  live.subscribe(DELETED, () => ({ after: deletedCursor }), (d) => {
    deletedCursor = d.auditEventAdded.cursor;
    instances.applyDeleted(d.auditEventAdded);
  }, (errors) => ($("instances-error").textContent = "Live deletions: " + errors.map((e) => e.message).join("; ")));
  live.connect();
}

instances.init({ open: detail.show, change: detail.changed });
// A request that was in flight when the user signed out answers
// UNAUTHENTICATED: there is no session left to lose.
onSessionLost((msg) => {
  if (signedIn) signOut(msg);
});
$("signin-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.target;
  if (!form.reportValidity()) return;
  $("signin-error").textContent = "";
  try {
    await session.signIn(form.email.value.trim(), form.password.value);
    form.password.value = "";
    await start();
  } catch (e) {
    $("signin-error").textContent = describe(e);
  }
});
$("signout").addEventListener("click", () => signOut());
$("refresh").addEventListener("click", () => instances.load());
$("detail-close").addEventListener("click", detail.hide);
start();
