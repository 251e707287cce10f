// session.js owns the session: password sign-in (the signIn mutation), the
// identity providers' buttons and their popup sign-in (/auth/{idp}/login,
// whose callback answers the token as JSON), and the token kept in this
// tab's sessionStorage until sign-out or expiry.

import { gql } from "./api.js";

const TOKEN_KEY = "cairn.session";
const IDPS_KEY = "cairn.identityProviders"; // remembered per browser: [{id, label, loginPath}]

// current returns the stored session {token, expiresAt} if it has not expired.
export function current() {
  try {
    const s = JSON.parse(sessionStorage.getItem(TOKEN_KEY));
    if (s && s.token && Date.parse(s.expiresAt) > Date.now()) return s;
  } catch {
    /* no session */
  }
  return null;
}

function keep(token, expiresAt) {
  sessionStorage.setItem(TOKEN_KEY, JSON.stringify({ token, expiresAt }));
  return { token, expiresAt };
}

// signIn signs in with a password; it throws ApiError (UNAUTHENTICATED for
// a wrong email or password).
export async function signIn(email, password) {
  const d = await gql(
    `mutation SignIn($input: SignInInput!) { signIn(input: $input) { token expiresAt } }`,
    { input: { email, password } },
  );
  return keep(d.signIn.token, d.signIn.expiresAt);
}

// signOut forgets the session.
export function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
}

// viewer returns the signed-in user, home tenant and roles.
export async function viewer() {
  const d = await gql(`query Viewer { viewer { user { id email name } tenant { id name kind } roleBindings { tenantId role } } }`);
  return d.viewer;
}

// rememberProviders keeps the enabled identity providers of the user's
// tenant, so the sign-in page can offer them next time. Users who may not
// list them keep the buttons they had.
export async function rememberProviders(tenantId) {
  try {
    const d = await gql(
      `query Providers($f: IdentityProviderFilter) { identityProviders(first: 20, filter: $f) { nodes { id name loginButtonText loginPath } } }`,
      { f: { tenantId, disabled: false } },
    );
    const list = d.identityProviders.nodes.map((p) => ({ id: p.id, label: p.loginButtonText || p.name, loginPath: p.loginPath }));
    localStorage.setItem(IDPS_KEY, JSON.stringify(list));
  } catch {
    /* FORBIDDEN: keep what we had */
  }
}

// providers returns the remembered identity providers.
export function providers() {
  try {
    return JSON.parse(localStorage.getItem(IDPS_KEY)) || [];
  } catch {
    return [];
  }
}

// signInWith signs in through an identity provider in a popup: the popup
// goes through the provider and lands on Cairn's callback, on this origin,
// whose JSON answer carries the token. It resolves to the session, or
// rejects with the callback's error or when the popup is closed.
export function signInWith(p) {
  const popup = window.open(p.loginPath, "cairn-signin", "popup,width=520,height=700");
  if (!popup) return Promise.reject(new Error("The browser blocked the sign-in window; allow popups for Cairn."));
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (popup.closed) {
        clearInterval(timer);
        reject(new Error("The sign-in window was closed."));
        return;
      }
      let body;
      try {
        // Throws while the popup is at the provider (another origin).
        if (!popup.location.pathname.endsWith("/callback") || popup.document.readyState !== "complete") return;
        // Browsers show a JSON answer in a <pre> (with their own controls).
        const pre = popup.document.querySelector("pre");
        body = JSON.parse((pre || popup.document.body).textContent);
      } catch {
        return;
      }
      clearInterval(timer);
      popup.close();
      if (body.token) resolve(keep(body.token, body.expiresAt));
      else reject(new Error((body.errors && body.errors[0] && body.errors[0].message) || "The identity provider did not sign you in."));
    }, 250);
  });
}
