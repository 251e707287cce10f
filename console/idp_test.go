package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/auth/oidctest"
	"github.com/cairn-dev/cairn/store"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// TestConsoleIdentityProvider signs in through an identity provider of
// alice's tenant: after alice's password sign-in the console remembers the
// provider; signed out, its button opens the provider's login in a popup,
// and the console reads the token from Cairn's callback.
func TestConsoleIdentityProvider(t *testing.T) {
	t.Parallel()
	browser := chromium(t)
	e := serve(t)
	op := oidctest.Start(t)
	op.AddUser("sub-erin", "erin", "erin-password", "erin@customer-a.example", true)
	var d struct {
		CreateIdentityProvider struct{ IdentityProvider struct{ ID string } }
	}
	e.do(t, e.demo.Alice, `mutation($in: CreateIdentityProviderInput!) { createIdentityProvider(input: $in) { identityProvider { id } } }`,
		map[string]any{"in": map[string]any{"tenantId": e.demo.CustomerA, "name": "Test OP", "type": "OIDC", "issuerURL": op.Issuer,
			"clientId": "console", "clientSecret": "console-secret", "loginButtonText": "Sign in with Test OP"}}, &d)
	idp := d.CreateIdentityProvider.IdentityProvider.ID
	op.AddClient("console", "console-secret", e.url+"/auth/"+idp+"/callback")

	p := newPage(t, browser)
	const wait = 10 * time.Second
	p.do("sign in with a password", 20*time.Second, chromedp.Navigate(e.url+"/console/"),
		chromedp.WaitVisible(chromedp.ID("signin-email")),
		chromedp.SendKeys(chromedp.ID("signin-email"), store.DemoAlice),
		chromedp.SendKeys(chromedp.ID("signin-password"), store.DemoPassword),
		chromedp.Click(chromedp.CSS("#signin-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("console-view")))
	p.until("the provider remembered", wait, `(localStorage.getItem("cairn.identityProviders") || "").includes("Test OP")`)
	p.do("sign out", wait, chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.CSS("#idp-list button")))
	if got := eval[string](p, `document.querySelector("#idp-list button").textContent`); got != "Sign in with Test OP" {
		t.Errorf("provider button: %q", got)
	}

	popup := chromedp.WaitNewTarget(p.ctx, func(info *target.Info) bool {
		return strings.Contains(info.URL, "/auth/"+idp+"/login") || strings.HasPrefix(info.URL, op.Issuer)
	})
	p.do("click the provider's button", wait, chromedp.Click(chromedp.CSS("#idp-list button")))
	var id target.ID
	select {
	case id = <-popup:
	case <-time.After(wait):
		t.Fatalf("no popup opened; page errors: %v", p.errors())
	}
	pctx, cancel := chromedp.NewContext(p.ctx, chromedp.WithTargetID(id))
	defer cancel()
	ctx, cancelWait := context.WithTimeout(pctx, wait)
	defer cancelWait()
	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "erin"),
		chromedp.SendKeys(chromedp.ID("password"), "erin-password"),
		chromedp.Submit(chromedp.ID("password")),
	); err != nil {
		t.Fatalf("the provider's login form: %v", err)
	}
	p.until("signed in as erin", wait, `!document.getElementById("console-view").hidden && document.getElementById("who").textContent.includes("erin@customer-a.example")`)
	p.until("erin's console", wait, `/^\d+ instances you can see$/.test(document.getElementById("instances-caption").textContent) &&
		document.getElementById("live-state").dataset.state === "connected"`)
	if errs := p.errors(); len(errs) > 0 {
		t.Errorf("the page reported errors: %v", errs)
	}
}
