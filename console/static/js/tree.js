// tree.js owns the side panel: the tenant tree (choosing a tenant narrows
// the instances table) and the catalog tree (service → environment → model →
// tier → resource), as nested lists and native <details> disclosures, so
// the keyboard and screen readers work without scripting of their own.

import { gql } from "./api.js";
import { h, replace } from "./dom.js";

const TENANTS = `query Tenants { tenants(first: 100) { nodes { id name kind parentId } } }`;

const CATALOG = `query Catalog {
  services(first: 20) { nodes { id name
    environments(first: 10) { nodes { id name type
      models(first: 10) { nodes { id name modelType
        tiers(first: 10) { nodes { id name
          resources(first: 20) { nodes { id name key } } } } } } } } } }
}`;

// renderTenants loads the tenants in scope into el as a tree of buttons;
// onSelect(tenant or null) hears the choice. The pressed button is the
// current one.
export async function renderTenants(el, onSelect) {
  const { tenants } = await gql(TENANTS);
  const ids = new Set(tenants.nodes.map((t) => t.id));
  const children = new Map();
  for (const t of tenants.nodes) {
    const parent = t.parentId && ids.has(t.parentId) ? t.parentId : "";
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(t);
  }
  const buttons = [];
  const choose = (btn, tenant) => {
    for (const b of buttons) b.setAttribute("aria-pressed", String(b === btn));
    onSelect(tenant);
  };
  const button = (label, tenant, extra) => {
    const b = h("button", { type: "button", class: "node", "aria-pressed": String(!tenant), "data-tenant": tenant ? tenant.id : "" }, label, extra);
    b.addEventListener("click", () => choose(b, tenant));
    buttons.push(b);
    return b;
  };
  const list = (parent) => {
    const kids = children.get(parent);
    if (!kids) return null;
    return h("ul", {}, kids.map((t) => h("li", {}, button(t.name, t, h("span", { class: "muted" }, " " + t.kind.toLowerCase())), list(t.id))));
  };
  replace(el, h("ul", {}, h("li", {}, button("All tenants", null), list(""))));
}

// renderCatalog loads the catalog you can see into el.
export async function renderCatalog(el) {
  const { services } = await gql(CATALOG);
  const node = (label, kind, kids) =>
    kids && kids.length
      ? h("li", {}, h("details", { open: kind === "service" }, h("summary", {}, label, h("span", { class: "muted" }, " " + kind)), h("ul", {}, kids)))
      : h("li", {}, label, h("span", { class: "muted" }, " " + kind));
  const resource = (r) => node(r.name, "resource", null);
  const tier = (t) => node(t.name, "tier", t.resources.nodes.map(resource));
  const model = (m) => node(m.name, "model", m.tiers.nodes.map(tier));
  const environment = (e) => node(e.name, e.type.toLowerCase(), e.models.nodes.map(model));
  const tree = services.nodes.map((s) => node(s.name, "service", s.environments.nodes.map(environment)));
  replace(el, tree.length ? h("ul", {}, tree) : h("p", { class: "muted" }, "No services."));
}
