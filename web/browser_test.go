package web_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/ampload/amp/internal/testenv"
	"github.com/ampload/amp/web"
)

// TestBrowserEndToEnd drives the UI in headless Chromium as a user would:
// start a replay of the demo site from the form, watch the request count
// rise and the charts draw, edit the users from 5 to 20 and see the count
// follow, stop, and download the statistics CSV. It saves a screenshot of
// the running page to $TMPDIR/amp-web-ui.png.
func TestBrowserEndToEnd(t *testing.T) {
	t.Parallel()
	s, srv, _ := newTestServer(t, func(c *web.Config) {
		c.Defaults.Users = 5
		c.Defaults.Rate = 5
	})

	actx, _ := testenv.Browser(t, 60*time.Second, chromedp.WindowSize(1440, 1000))
	problems := &testenv.PageProblems{}
	bctx, bcancel := chromedp.NewContext(actx, chromedp.WithListener(problems.Listen))
	defer bcancel()

	poll := func(what, expr string) {
		t.Helper()
		if _, err := chromedp.Run(bctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(15*time.Second), chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
	}
	eval := func(expr string) float64 {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[float64](expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return v
	}
	const requests = `Number(document.querySelector("#stats-table tfoot td.reqs")?.textContent.replaceAll(",", "") || 0)`
	const users = `Number(document.querySelector("#kpi-users").textContent.replaceAll(",", ""))`

	// The page opens with the start form, pre-filled from the defaults.
	if err := chromedp.Do(bctx, chromedp.Navigate(srv.URL), chromedp.WaitVisible(chromedp.CSS("#start-dialog"))); err != nil {
		t.Fatal(err)
	}
	poll("the form to be filled", `document.querySelector("#start-form [name=host]").value.startsWith("http://127.0.0.1:")`)
	if n := eval(`Number(document.querySelector("#start-form [name=user_count]").value)`); n != 5 {
		t.Fatalf("the form offers %v users, want the default 5", n)
	}
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS("#start-submit"))); err != nil {
		t.Fatal(err)
	}

	// The request count rises in the table.
	poll("requests in the table", requests+` > 0`)
	first := eval(requests)
	poll("the request count to rise", requests+` > `+ftoa(first))
	poll("5 users", users+` === 5`)

	// The charts draw: lines with several points in the SVGs.
	poll("the charts to draw", `["#chart-rps", "#chart-lat", "#chart-users"].every(id =>
		[...document.querySelectorAll(id + " svg path.series")].some(p => (p.getAttribute("d").match(/L/g) || []).length >= 2))`)

	// Edit: users 5 → 20.
	if err := chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS("#btn-edit"), chromedp.NodeEnabled),
		chromedp.WaitVisible(chromedp.CSS("#edit-dialog")),
		chromedp.SetValue(chromedp.CSS(`#edit-form [name=user_count]`), "20"),
		chromedp.SetValue(chromedp.CSS(`#edit-form [name=spawn_rate]`), "20"),
		chromedp.Click(chromedp.CSS("#edit-submit")),
	); err != nil {
		t.Fatal(err)
	}
	poll("the user count to follow to 20", users+` === 20`)
	poll("the users chart to reach 20", `[...document.querySelectorAll("#chart-users svg .axis text")].some(t => Number(t.textContent) >= 20)`)
	if st := s.Result(); st.Users < 20 {
		t.Errorf("the collector saw at most %d users, want 20", st.Users)
	}

	// A screenshot of the running page, as a test artifact.
	shot, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(os.TempDir(), "amp-web-ui.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the running page: %s", path)

	shots := os.Getenv("AMP_WEB_SCREENSHOTS") // a directory: save every tab, to look at the page
	snap := func(name string) {
		if shots == "" {
			return
		}
		b, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
		if err == nil {
			err = os.WriteFile(filepath.Join(shots, name+".png"), b, 0o644)
		}
		if err != nil {
			t.Error(err)
		}
	}

	// Stop.
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS("#btn-stop"), chromedp.NodeEnabled)); err != nil {
		t.Fatal(err)
	}
	poll("the state to show stopped", `document.querySelector("#state").textContent === "Stopped"`)
	poll("the users to drop to 0", users+` === 0`)
	select {
	case <-s.Done():
	default:
		t.Error("the page shows Stopped but the run has not finished")
	}

	// The recording has an article the site lacks: the Failures tab lists it.
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`.tabs [data-tab=failures]`))); err != nil {
		t.Fatal(err)
	}
	poll("failures listed", `[...document.querySelectorAll("#failures-table tbody tr")].some(r => r.textContent.includes("HTTP 404 (recorded 200)"))`)
	snap("failures")

	// Download the statistics CSV through the browser.
	dir := t.TempDir()
	if _, err := chromedp.CallBrowser(bctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: ptr(true),
	}); err != nil {
		t.Fatal(err)
	}
	done := make(chan string, 1)
	go func() {
		for ev, err := range chromedp.BrowserEvents(bctx, browser.DownloadProgress) {
			if err != nil {
				return
			}
			if ev.State == browser.DownloadProgressStateCompleted {
				done <- ev.GUID
				return
			}
		}
	}()
	if err := chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS(`.tabs [data-tab=downloads]`)),
		chromedp.WaitVisible(chromedp.CSS("#dl-requests")),
		chromedp.Click(chromedp.CSS("#dl-requests")),
	); err != nil {
		t.Fatal(err)
	}
	var guid string
	select {
	case guid = <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("the CSV download did not complete")
	}
	csv, err := os.ReadFile(filepath.Join(dir, guid))
	if err != nil {
		t.Fatal(err)
	}
	if firstLine(string(csv)) != locustHeader {
		t.Errorf("downloaded CSV header\n%q\nwant Locust's\n%q", firstLine(string(csv)), locustHeader)
	}
	if !strings.Contains(string(csv), ",Aggregated,") {
		t.Errorf("downloaded CSV has no Aggregated row:\n%s", csv)
	}

	snap("downloads")
	for _, tab := range []string{"sessions", "correlations"} {
		if shots == "" {
			break
		}
		if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(".tabs [data-tab="+tab+"]")), chromedp.Sleep(300*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		snap(tab)
	}
	if shots != "" {
		if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(".tabs [data-tab=dashboard]")), chromedp.Click(chromedp.CSS("#btn-new")), chromedp.Sleep(300*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		snap("start-form")
	}

	if list := problems.List(); len(list) > 0 {
		t.Errorf("page problems: %v", list)
	}
}

func ptr[T any](v T) *T { return &v }

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
