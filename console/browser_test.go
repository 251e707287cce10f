package console_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/store"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// chromium returns the path of the browser the test drives: $CAIRN_CHROMIUM,
// else Debian's chromium. It skips the test, saying why, when there is none
// (`make deps` installs it).
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CAIRN_CHROMIUM"), "/usr/bin/chromium", "chromium"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	msg := "console browser test skipped: no Chromium (install Debian's chromium: apt-get install -y chromium, or run make deps; or set CAIRN_CHROMIUM)"
	fmt.Println(msg)
	t.Skip(msg)
	return ""
}

// page is one headless Chromium tab, with what its scripts threw or logged
// as errors.
type page struct {
	t    *testing.T
	ctx  context.Context
	mu   sync.Mutex
	errs []string // guarded by mu
}

// newPage starts Chromium with the flags this closed network needs and a
// fresh profile, and opens a 1280×900 tab. The browser stops at the end of
// the test.
func newPage(t *testing.T, path string) *page {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	p := &page{t: t, ctx: ctx}
	if err := chromedp.Listen(ctx, func(ev any) {
		p.mu.Lock()
		defer p.mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			p.errs = append(p.errs, (&chromedp.ExceptionError{ExceptionDetails: ev.ExceptionDetails}).Error())
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				p.errs = append(p.errs, "console.error: "+strings.Join(parts, " "))
			}
		}
	}); err != nil {
		t.Fatalf("starting Chromium (%s): %v", path, err)
	}
	return p
}

// do runs the steps, failing the test with what the page reported if one
// fails or takes longer than timeout.
func (p *page) do(what string, timeout time.Duration, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("%s: %v\npage errors: %v", what, err, p.errors())
	}
}

// until waits up to timeout for the JavaScript expression to be truthy.
func (p *page) until(what string, timeout time.Duration, expr string) {
	p.t.Helper()
	p.do(what, timeout+time.Second, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond)))
}

// js is a step that evaluates a JavaScript expression.
func js(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](expr)
}

// eval evaluates a JavaScript expression.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("evaluating %s: %v\npage errors: %v", expr, err, p.errors())
	}
	return v
}

func (p *page) errors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.errs...)
}

// rowStatus is a JavaScript expression: the status an instance's row shows.
func rowStatus(id string) string {
	return fmt.Sprintf(`document.querySelector('#instances tr[data-id=%q] [data-col=status]')?.dataset.status`, id)
}

// logged is a JavaScript expression: whether the live-activity log has a
// line about the instance containing text.
func logged(id, text string) string {
	return fmt.Sprintf(`[...document.querySelectorAll('#activity li[data-instance=%q]')].some(li => li.textContent.includes(%q))`, id, text)
}

// TestConsole drives the console in headless Chromium as alice: sign in
// (after a refused password), narrow the table to a tenant, create an
// instance and see it go DEPLOYING → RUNNING live, stop it with the keyboard
// (confirming) and see STOPPING → STOPPED, start it while the websocket is
// down and see the change arrive when it reconnects (resumed with after:),
// read its operations and events, keep a screenshot, and delete it.
func TestConsole(t *testing.T) {
	t.Parallel()
	browser := chromium(t)
	e := serve(t)
	p := newPage(t, browser)
	const wait = 10 * time.Second

	p.do("open the console", 20*time.Second, chromedp.Navigate(e.url+"/console"), chromedp.WaitVisible(chromedp.ID("signin-email")))
	p.do("a wrong password", wait,
		chromedp.SendKeys(chromedp.ID("signin-email"), store.DemoAlice),
		chromedp.SendKeys(chromedp.ID("signin-password"), "wrong-password"),
		chromedp.Click(chromedp.CSS("#signin-form button[type=submit]")))
	p.until("the refusal", wait, `document.getElementById("signin-error").textContent.startsWith("UNAUTHENTICATED: ")`)
	p.do("sign in", wait,
		js(`document.getElementById("signin-password").value = ""`),
		chromedp.SendKeys(chromedp.ID("signin-password"), store.DemoPassword),
		chromedp.Click(chromedp.CSS("#signin-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("console-view")))
	// A mark that a reload would wipe: every change below must come live.
	eval[chromedp.Void](p, `window.notReloaded = true`)
	if who := eval[string](p, `document.getElementById("who").textContent`); !strings.Contains(who, store.DemoAlice) || !strings.Contains(who, "Customer A") {
		t.Errorf("header shows %q", who)
	}
	p.until("live connection", wait, `document.getElementById("live-state").dataset.state === "connected"`)
	p.until("the demo instances", wait, fmt.Sprintf(`document.querySelectorAll("#instances tbody tr").length === %d`, len(e.demo.InstancesA)))
	p.until("the trees", wait, `document.querySelector('#tenant-tree [data-tenant]') && document.querySelector('#catalog-tree details')`)
	p.do("choose Customer A", wait, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#tenant-tree [data-tenant=%q]`, e.demo.CustomerA))))
	p.until("Customer A's instances", wait, fmt.Sprintf(`document.getElementById("instances-caption").textContent === "%d instances of the chosen tenant"`, len(e.demo.InstancesA)))
	p.do("choose all tenants", wait, chromedp.Click(chromedp.CSS(`#tenant-tree [data-tenant=""]`)))
	p.until("all instances", wait, `document.getElementById("instances-caption").textContent.endsWith("you can see")`)

	// Create an instance of MySQL.
	p.do("fill the create form", wait,
		chromedp.WaitVisible(chromedp.ID("param-mysqlDatabase")),
		js(fmt.Sprintf(`(() => { const s = document.getElementById("create-resource");
			s.value = %q; s.dispatchEvent(new Event("change")); })()`, e.demo.MySQL)),
		chromedp.SendKeys(chromedp.ID("param-mysqlDatabase"), "shop"),
		chromedp.SendKeys(chromedp.ID("param-mysqlUser"), "shop"),
		chromedp.SendKeys(chromedp.ID("param-mysqlPassword"), "s3cret-pw"),
		chromedp.Click(chromedp.CSS("#create-form button[type=submit]")))
	p.until("the created instance", wait, `document.getElementById("create-result").dataset.instanceId`)
	id := eval[string](p, `document.getElementById("create-result").dataset.instanceId`)
	if got := eval[string](p, `document.getElementById("create-result").textContent`); !strings.Contains(got, "DEPLOYING") {
		t.Errorf("create result: %q", got)
	}
	p.until("DEPLOYING → RUNNING, live", wait, rowStatus(id)+` === "RUNNING" && `+logged(id, "DEPLOYING → RUNNING"))
	if got, want := eval[string](p, `document.getElementById("instances-caption").textContent`), fmt.Sprintf("%d instances you can see", len(e.demo.InstancesA)+1); got != want {
		t.Errorf("caption %q, want %q", got, want)
	}

	// Stop it with the keyboard alone: Enter on its Stop button opens the
	// confirmation with the focus on Cancel; Tab moves to Stop, Enter confirms.
	p.do("stop", wait,
		chromedp.Focus(chromedp.CSS(fmt.Sprintf(`#instances tr[data-id=%q] button[data-action=stop]`, id))),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.ID("confirm-ok")))
	if got := eval[string](p, `document.getElementById("confirm-text").textContent`); !strings.Contains(got, "Stop instance MySQL "+id+", now RUNNING?") {
		t.Errorf("confirmation: %q", got)
	}
	if got := eval[string](p, `document.activeElement.id`); got != "confirm-cancel" {
		t.Errorf("the confirmation opened with the focus on %q, want confirm-cancel", got)
	}
	p.do("confirm", wait, chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(kb.Enter))
	p.until("RUNNING → STOPPING → STOPPED, live", wait, rowStatus(id)+` === "STOPPED" && `+logged(id, "RUNNING → STOPPING")+` && `+logged(id, "STOPPING → STOPPED"))

	// The live updates kept the keyboard focus in the instance's row.
	if got := eval[string](p, `document.activeElement.closest("tr")?.dataset.id || document.activeElement.tagName`); got != id {
		t.Errorf("after the stop the focus is on %q, want in the row of %s", got, id)
	}

	// Start it with the websocket down: the row stays STARTING until the
	// console reconnects and resumes after the last change it saw.
	eval[chromedp.Void](p, `window.cairn.live.disconnect()`)
	p.do("start", wait,
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#instances tr[data-id=%q] button[data-action=start]`, id))),
		chromedp.WaitVisible(chromedp.ID("confirm-ok")),
		chromedp.Click(chromedp.ID("confirm-ok")))
	p.until("STARTING from the mutation", wait, rowStatus(id)+` === "STARTING"`)
	for deadline := time.Now().Add(wait); e.instanceStatus(t, e.demo.Alice, id) != "RUNNING"; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not start", id)
		}
	}
	if got := eval[string](p, rowStatus(id)); got != "STARTING" {
		t.Fatalf("offline, the row shows %s", got)
	}
	eval[chromedp.Void](p, `window.cairn.live.connect()`)
	p.until("STARTING → RUNNING, after reconnecting", wait, rowStatus(id)+` === "RUNNING" && `+logged(id, "STARTING → RUNNING"))

	// The operation and event log of the instance.
	p.do("details", wait, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#instances tr[data-id=%q] th button`, id))), chromedp.WaitVisible(chromedp.ID("detail")))
	p.until("operations and events", wait, `[...document.querySelectorAll("#operations tbody tr")].map(r => r.cells[1].textContent + " " + r.cells[2].textContent).join()
		=== "START SUCCEEDED,STOP SUCCEEDED,CREATE SUCCEEDED" && document.querySelectorAll("#events li[data-type]").length === 6`)

	if !eval[bool](p, `window.notReloaded === true`) {
		t.Error("the page reloaded")
	}
	if errs := p.errors(); len(errs) > 0 {
		t.Errorf("the page reported errors: %v", errs)
	}
	screenshot(t, p)

	// Delete it: first into quarantine, then, deleting again, for good; the
	// row goes when the deletion's audit event arrives.
	for _, step := range []struct{ what, warn, until string }{
		{"delete", "an admin can restore it", rowStatus(id) + ` === "QUARANTINED" && ` + logged(id, "RUNNING → QUARANTINED")},
		{"delete again", "deleted at once, for good", `!document.querySelector('#instances tr[data-id="` + id + `"]') && ` + logged(id, "deleted")},
	} {
		p.do(step.what, wait,
			chromedp.Click(chromedp.CSS(fmt.Sprintf(`#instances tr[data-id=%q] button[data-action=delete]`, id))),
			chromedp.WaitVisible(chromedp.ID("confirm-ok")))
		if got := eval[string](p, `document.getElementById("confirm-text").textContent`); !strings.Contains(got, step.warn) {
			t.Errorf("%s: confirmation %q does not warn %q", step.what, got, step.warn)
		}
		p.do(step.what+": confirm", wait, chromedp.Click(chromedp.ID("confirm-ok")))
		p.until(step.what+": live", wait, step.until)
	}
	if errs := p.errors(); len(errs) > 0 {
		t.Errorf("the page reported errors: %v", errs)
	}
}

// screenshot keeps a PNG of the page: in $CAIRN_ARTIFACTS_DIR (else the
// test's temporary folder), and as docs/console.png when
// CAIRN_UPDATE_SCREENSHOT=1.
func screenshot(t *testing.T, p *page) {
	t.Helper()
	// Scroll back up, and let no caret or focus ring vary between runs.
	eval[chromedp.Void](p, `document.activeElement && document.activeElement.blur(), window.scrollTo(0, 0)`)
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("CAIRN_ARTIFACTS_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	paths := []string{filepath.Join(dir, "console.png")}
	if os.Getenv("CAIRN_UPDATE_SCREENSHOT") == "1" {
		paths = append(paths, filepath.Join("..", "docs", "console.png"))
	}
	for _, path := range paths {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
	}
}
