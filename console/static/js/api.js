// api.js owns GraphQL over HTTP: one POST /graphql per call, with the
// session's bearer token. Errors come back as ApiError with the GraphQL error
// code (extensions.code) and Cairn's message, ready to show to people.

let token = "";
let onUnauthenticated = () => {};

// setToken sets the bearer token sent with every call ("" for none).
export function setToken(t) {
  token = t || "";
}

// onSessionLost registers what to do when Cairn no longer accepts the token.
export function onSessionLost(fn) {
  onUnauthenticated = fn;
}

// ApiError is a GraphQL error: code is its extensions.code.
export class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

// gql runs a query or mutation and returns its data; it throws ApiError with
// the first error's code and message.
export async function gql(query, variables = {}) {
  const headers = { "Content-Type": "application/json", Accept: "application/graphql-response+json, application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  let res;
  try {
    res = await fetch("/graphql", { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  } catch {
    throw new ApiError("UNAVAILABLE", "Cairn cannot be reached; check your connection and try again.");
  }
  let body = null;
  try {
    body = await res.json();
  } catch {
    throw new ApiError("INTERNAL", `Cairn answered ${res.status} without a GraphQL response.`);
  }
  const err = body.errors && body.errors[0];
  if (err) {
    const code = (err.extensions && err.extensions.code) || (res.status === 401 ? "UNAUTHENTICATED" : "INTERNAL");
    if (code === "UNAUTHENTICATED" && token) onUnauthenticated(err.message);
    throw new ApiError(code, err.message);
  }
  return body.data;
}

// describe is an error as one line for people: "CONFLICT: …".
export const describe = (e) => (e instanceof ApiError ? `${e.code}: ${e.message}` : String(e && e.message ? e.message : e));

// idempotencyKey is a fresh random key, so that retrying a mutation (a double
// click, a lost answer) does not do it twice.
export function idempotencyKey() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
