// instances.js owns the instances table: loading it (narrowed to the chosen
// tenant), applying live status changes to its rows and announcing them in
// the live-activity log, and the row actions (start, stop, restart, delete)
// behind a confirmation dialog.

import { gql, describe, idempotencyKey } from "./api.js";
import { $, h, replace, statusBadge, timeEl } from "./dom.js";

// FIELDS are the instance fields a row shows.
export const FIELDS = `fragment Row on ResourceInstance {
  id status cloudProvider region networkType replicas version createdAt updatedAt
  resource { name } tenant { id name }
}`;

const LIST = `query Instances($f: ResourceInstanceFilter) {
  instances(first: 100, filter: $f, orderBy: {field: CREATED_AT, direction: DESC}) { totalCount nodes { ...Row } }
} ${FIELDS}`;

// ACTIONS are the row actions: the mutation, the statuses it applies to,
// and the words of its confirmation.
const ACTIONS = [
  { name: "start", mutation: "startInstance", when: ["STOPPED"], verb: "Start" },
  { name: "stop", mutation: "stopInstance", when: ["RUNNING"], verb: "Stop" },
  { name: "restart", mutation: "restartInstance", when: ["RUNNING"], verb: "Restart" },
  { name: "delete", mutation: "deleteInstance", when: ["RUNNING", "STOPPED", "FAILED", "QUARANTINED"], verb: "Delete",
    warn: (inst) => (inst.status === "QUARANTINED" ? "It is deleted at once, for good." :
      "It is quarantined first: an admin can restore it until its grace period ends.") },
];

const rows = new Map(); // instance ID → {inst, tr}
let tenantId = null; // the chosen tenant, or null for all
let total = 0; // how many instances match, across pages
let onOpen = () => {};
let onChange = () => {};

// init wires the table: open(id) shows an instance's details; change(id)
// hears every change of an instance.
export function init({ open, change }) {
  onOpen = open;
  onChange = change;
}

// load (re)loads the table, narrowed to tenant (an ID, or null for all).
export async function load(tenant = tenantId) {
  tenantId = tenant;
  const f = tenantId ? { tenantId } : null;
  try {
    const { instances } = await gql(LIST, { f });
    rows.clear();
    replace($("instances").tBodies[0], instances.nodes.map((i) => row(i)));
    total = instances.totalCount;
    caption();
    $("instances-error").textContent = "";
  } catch (e) {
    $("instances-error").textContent = describe(e);
  }
}

// upsert shows inst (a Row) unless the row already shows a newer version.
export function upsert(inst) {
  const r = rows.get(inst.id);
  if (r && r.inst.version > inst.version) return;
  if (!r && tenantId && inst.tenant && inst.tenant.id !== tenantId) return;
  place(inst);
  onChange(inst.id);
}

// applyChange applies one instanceStatusChanged payload: the rows move in
// the order of the changes, and the activity log announces it.
export function applyChange(c) {
  const r = rows.get(c.instanceId);
  announce(c, r ? r.inst : c.instance);
  if (!c.instance) return remove(c.instanceId); // deleted since
  const inst = { ...c.instance, status: c.status };
  if (r) inst.version = Math.max(r.inst.version, inst.version);
  if (r || !tenantId || c.instance.tenant.id === tenantId) {
    place(inst);
  }
  onChange(c.instanceId);
}

// applyDeleted applies one INSTANCE_DELETED audit event: the row goes, and
// the activity log says so.
export function applyDeleted(ev) {
  const r = rows.get(ev.instanceId);
  announce({ instanceId: ev.instanceId, at: ev.time, deleted: true }, r && r.inst);
  remove(ev.instanceId);
}

function remove(id) {
  const r = rows.get(id);
  if (r) {
    r.tr.remove();
    rows.delete(id);
    total--;
    caption();
  }
  onChange(id);
}

// announce adds a line to the live-activity log (role="log", read out by
// screen readers), newest first, keeping the last 50.
function announce(c, inst) {
  const log = $("activity");
  const what = c.deleted ? "deleted" : c.previousStatus ? `${c.previousStatus} → ${c.status}` : `created, ${c.status}`;
  const name = inst && inst.resource ? ` (${inst.resource.name})` : "";
  log.prepend(h("li", { "data-instance": c.instanceId }, timeEl(c.at), " ", h("span", { class: "mono" }, c.instanceId), name, ": ", what));
  while (log.children.length > 50) log.lastElementChild.remove();
}

function caption() {
  $("instances-caption").textContent = `${total} instance${total === 1 ? "" : "s"}` + (tenantId ? " of the chosen tenant" : " you can see");
}

// place shows inst: a new row on top, or the cells of its row updated in
// place, so keyboard focus stays in the row (on the same action if it still
// applies, else on the instance's ID button, which is never replaced).
function place(inst) {
  const old = rows.get(inst.id);
  const tr = row(inst);
  if (!old) {
    $("instances").tBodies[0].prepend(tr);
    total++;
    caption();
    return;
  }
  const focused = old.tr.contains(document.activeElement) ? document.activeElement : null;
  const action = focused && focused.dataset.action;
  const cells = [...tr.cells];
  for (let i = 1; i < cells.length; i++) old.tr.cells[i].replaceWith(cells[i]); // the ID cell stays
  rows.set(inst.id, { inst, tr: old.tr });
  if (focused && !old.tr.contains(focused)) {
    (old.tr.querySelector(`[data-action="${action}"]`) || old.tr.querySelector("th button")).focus();
  }
}

function row(inst) {
  const tr = h("tr", { "data-id": inst.id },
    h("th", { scope: "row" }, h("button", { type: "button", class: "link mono", title: "Show operations and events", onclick: () => onOpen(inst.id) }, inst.id)),
    h("td", {}, inst.resource ? inst.resource.name : ""),
    h("td", {}, inst.tenant ? inst.tenant.name : ""),
    h("td", {}, `${inst.cloudProvider} ${inst.region}`),
    h("td", { "data-col": "status", "data-status": inst.status }, statusBadge(inst.status)),
    h("td", {}, timeEl(inst.updatedAt)),
    h("td", { class: "actions" }, ACTIONS.filter((a) => a.when.includes(inst.status)).map((a) =>
      h("button", { type: "button", "data-action": a.name, class: a.name === "delete" ? "danger" : null,
        "aria-label": `${a.verb} ${inst.id}`, onclick: () => act(a, inst) }, a.verb))));
  rows.set(inst.id, { inst, tr });
  return tr;
}

// act asks for confirmation, then runs the action's mutation.
async function act(a, inst) {
  const name = inst.resource ? `${inst.resource.name} ${inst.id}` : inst.id;
  if (!(await confirm(`${a.verb} ${inst.id}?`, `${a.verb} instance ${name}, now ${inst.status}? ${a.warn ? a.warn(inst) : ""}`))) return;
  try {
    const d = await gql(`mutation Act($input: InstanceActionInput!) { ${a.mutation}(input: $input) { instance { ...Row } } } ${FIELDS}`,
      { input: { id: inst.id, idempotencyKey: idempotencyKey() } });
    upsert(d[a.mutation].instance);
    $("instances-error").textContent = "";
  } catch (e) {
    $("instances-error").textContent = describe(e);
  }
}

// confirm shows the modal confirmation dialog (focus starts on Cancel) and
// resolves to whether it was confirmed.
function confirm(title, text) {
  const dlg = $("confirm");
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  $("confirm-ok").textContent = title.split(" ")[0];
  dlg.returnValue = "";
  dlg.showModal();
  return new Promise((resolve) => dlg.addEventListener("close", () => resolve(dlg.returnValue === "ok"), { once: true }));
}
