// detail.js owns the selected instance's panel: its properties, its
// operations and its audit events (newest first). It reloads when the
// instance changes, so the logs follow the live status.

import { gql, describe } from "./api.js";
import { $, h, replace, statusBadge, timeEl } from "./dom.js";

const DETAIL = `query Detail($id: ID!) { instance(id: $id) {
  id status cloudProvider region networkType replicas version requestParams resultParams createdAt updatedAt
  resource { name } tenant { name }
  operations { id action status createdAt finishedAt error }
  events(first: 30) { nodes { id time source type message previousStatus status } }
} }`;

let shown = null; // the ID of the instance shown, or null
let pending = 0; // a reload already scheduled

// show opens the panel on instance id and moves focus to its heading.
export async function show(id) {
  shown = id;
  $("detail").hidden = false;
  await reload();
  $("detail-title").focus();
}

// hide closes the panel.
export function hide() {
  shown = null;
  $("detail").hidden = true;
}

// changed reloads the panel soon if it shows instance id (changes come in
// bursts: one reload for a burst).
export function changed(id) {
  if (id !== shown || pending) return;
  pending = setTimeout(() => {
    pending = 0;
    reload();
  }, 150);
}

async function reload() {
  const id = shown;
  let inst;
  try {
    inst = (await gql(DETAIL, { id })).instance;
  } catch (e) {
    replace($("detail-props"), h("dt", {}, "Error"), h("dd", { class: "error" }, describe(e)));
    return;
  }
  if (id !== shown) return;
  $("detail-title").textContent = inst ? `${inst.resource ? inst.resource.name + " " : ""}${inst.id}` : `${id} (deleted)`;
  $("detail-title").tabIndex = -1;
  if (!inst) {
    replace($("detail-props"));
    replace($("operations").tBodies[0]);
    replace($("events"));
    return;
  }
  const prop = (k, v) => [h("dt", {}, k), h("dd", {}, v)];
  replace($("detail-props"),
    prop("Status", statusBadge(inst.status)), prop("Tenant", inst.tenant ? inst.tenant.name : ""),
    prop("Cloud", `${inst.cloudProvider} ${inst.region} (${inst.networkType.toLowerCase()})`), prop("Replicas", inst.replicas),
    prop("Endpoint", inst.resultParams.endpoint || "—"), prop("Parameters", h("code", {}, JSON.stringify(inst.requestParams))),
    prop("Created", timeEl(inst.createdAt)), prop("Version", inst.version));
  replace($("operations").tBodies[0], inst.operations.length ? inst.operations.map((o) =>
    h("tr", { "data-operation": o.id },
      h("th", { scope: "row", class: "mono" }, o.id), h("td", {}, o.action), h("td", { "data-col": "status" }, statusBadge(o.status)),
      h("td", {}, timeEl(o.createdAt)), h("td", {}, timeEl(o.finishedAt)), h("td", {}, o.error || ""))) :
    h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No operations.")));
  replace($("events"), inst.events.nodes.length ? inst.events.nodes.map((e) =>
    h("li", { "data-type": e.type }, timeEl(e.time), " ", h("span", { class: "muted" }, e.source.toLowerCase()), " ", e.message)) :
    h("li", { class: "muted" }, "No events."));
}
