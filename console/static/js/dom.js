// dom.js owns element building and formatting: every module builds its
// markup through h(), which sets text (never HTML), so data from the API
// cannot inject markup.

// h returns a new element: h("td", {class: "x", "data-col": "status"}, "RUNNING").
// Attributes whose value is null, undefined or false are left out; on* are
// listeners; children are nodes or strings (null is skipped).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c != null) el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

// $ returns the element with the given id.
export const $ = (id) => document.getElementById(id);

// replace empties el and appends children.
export function replace(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c != null));
}

// time formats an RFC 3339 timestamp for people, in the browser's locale.
export function time(s) {
  if (!s) return "";
  const d = new Date(s);
  return d.toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });
}

// timeEl is a <time> element for an RFC 3339 timestamp.
export const timeEl = (s) => (s ? h("time", { datetime: s }, time(s)) : "");

// statusBadge is an instance or operation status, styled by its value.
export const statusBadge = (s) => h("span", { class: "status s-" + String(s).toLowerCase() }, s);
