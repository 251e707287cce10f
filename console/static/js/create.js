// create.js owns the "Create an instance" form: the ACTIVE subscriptions
// you can see, their tier's resources, clouds and regions, one input per
// input parameter of the chosen resource, and the createInstance mutation.

import { gql, describe, idempotencyKey } from "./api.js";
import { $, h, replace } from "./dom.js";
import { FIELDS, upsert } from "./instances.js";

const OPTIONS = `query CreateOptions {
  serviceSubscriptions(first: 50, filter: {status: ACTIVE}) { nodes { id
    tenant { name } service { name }
    tier { name awsRegions gcpRegions azureRegions
      resources(first: 20) { nodes { id name internal
        inputParameters { key name description type required defaultValue options } } } } } }
}`;

const CREATE = `mutation Create($input: CreateInstanceInput!) { createInstance(input: $input) { instance { ...Row } } } ${FIELDS}`;

let subs = []; // the ACTIVE subscriptions, as OPTIONS reads them

// init loads the choices and wires the form; the section hides when there
// is no ACTIVE subscription to create instances under.
export async function init() {
  const { serviceSubscriptions } = await gql(OPTIONS);
  subs = serviceSubscriptions.nodes.filter((s) => s.tier);
  $("create").hidden = subs.length === 0;
  replace($("create-subscription"), subs.map((s) =>
    h("option", { value: s.id }, `${s.service ? s.service.name : ""} ${s.tier.name} — ${s.tenant ? s.tenant.name : ""} (${s.id})`)));
  $("create-subscription").onchange = onSubscription;
  $("create-resource").onchange = onResource;
  $("create-cloud").onchange = onCloud;
  $("create-form").onsubmit = submit;
  onSubscription();
}

const sub = () => subs.find((s) => s.id === $("create-subscription").value);
const resource = () => sub()?.tier.resources.nodes.find((r) => r.id === $("create-resource").value);

function onSubscription() {
  const s = sub();
  if (!s) return;
  replace($("create-resource"), s.tier.resources.nodes.filter((r) => !r.internal).map((r) => h("option", { value: r.id }, r.name)));
  const clouds = [["aws", s.tier.awsRegions], ["gcp", s.tier.gcpRegions], ["azure", s.tier.azureRegions]].filter(([, r]) => r.length);
  replace($("create-cloud"), clouds.map(([c]) => h("option", { value: c }, c)));
  onResource();
  onCloud();
}

function onCloud() {
  const s = sub();
  const regions = s ? s.tier[$("create-cloud").value + "Regions"] || [] : [];
  replace($("create-region"), regions.map((r) => h("option", { value: r }, r)));
}

// onResource shows one labelled input per input parameter.
function onResource() {
  const r = resource();
  replace($("create-params"), (r ? r.inputParameters : []).map((p) => {
    const id = "param-" + p.key;
    const hint = p.description ? h("small", { id: id + "-hint" }, p.description) : null;
    const common = { id, name: p.key, required: p.required, "aria-describedby": hint ? id + "-hint" : null, "data-type": p.type };
    let input;
    if (p.options && p.options.length) {
      input = h("select", common, p.options.map((o) => h("option", { value: o, selected: o === p.defaultValue }, o)));
    } else if (p.type === "Boolean") {
      input = h("input", { ...common, type: "checkbox", checked: p.defaultValue === "true" });
    } else {
      const type = p.type === "Password" ? "password" : p.type === "Number" || p.type === "Float64" ? "number" : "text";
      input = h("input", { ...common, type, value: p.defaultValue, autocomplete: p.type === "Password" ? "new-password" : "off",
        step: p.type === "Float64" ? "any" : null });
    }
    return h("p", {}, h("label", { for: id }, p.name, p.required ? h("span", { "aria-hidden": "true" }, " *") : null), input, hint);
  }));
}

// params reads the parameter inputs into requestParams, typed as declared.
function params() {
  const out = {};
  for (const el of $("create-params").querySelectorAll("input, select")) {
    const t = el.dataset.type;
    if (t === "Boolean") out[el.name] = el.checked;
    else if (el.value === "") continue;
    else if (t === "Number" || t === "Float64") out[el.name] = Number(el.value);
    else out[el.name] = el.value;
  }
  return out;
}

async function submit(ev) {
  ev.preventDefault();
  const form = $("create-form");
  const result = $("create-result");
  $("create-error").textContent = "";
  result.textContent = "";
  if (!form.reportValidity()) return;
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const d = await gql(CREATE, { input: {
      subscriptionId: $("create-subscription").value, resourceId: $("create-resource").value,
      cloudProvider: $("create-cloud").value, region: $("create-region").value, networkType: $("create-network").value,
      requestParams: params(), idempotencyKey: idempotencyKey(),
    } });
    const inst = d.createInstance.instance;
    upsert(inst);
    result.dataset.instanceId = inst.id;
    result.textContent = `Created ${inst.id}; it is ${inst.status}. Its status changes below as it deploys.`;
    for (const el of form.querySelectorAll("input[type=password]")) el.value = "";
  } catch (e) {
    $("create-error").textContent = describe(e);
  } finally {
    button.disabled = false;
  }
}
