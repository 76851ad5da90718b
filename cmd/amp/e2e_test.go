package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/demosite"
	"github.com/ampload/amp/internal/testenv"
	"github.com/chromedp/chromedp"
)

// TestBrowserRecordAndReplay is amp's promise end to end: a real browser
// logs in to the demo site, writes an article and comments on it (through
// the page's JavaScript, with the CSRF token of a meta tag) while amp record
// records it; then amp replay plays that recording as 20 users against a
// fresh demo site, where every session id, CSRF token and article id differs,
// without a failure.
func TestBrowserRecordAndReplay(t *testing.T) {
	recorded := httptest.NewServer(demosite.New(demosite.Config{}))
	defer recorded.Close()
	rec := filepath.Join(t.TempDir(), "browser.amp")

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"amp", "record", "-o", rec, "--listen", "127.0.0.1:0", "--no-mitm", "-q",
			"--include-host", strings.TrimPrefix(recorded.URL, "http://")}, &stdout, &stderr)
	}()
	addr := regexp.MustCompile(`forward proxy on (http://127\.0\.0\.1:\d+)`)
	deadline := time.Now().Add(10 * time.Second)
	for addr.FindStringSubmatch(stdout.String()) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("amp record did not start: %q %q", stdout.String(), stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	proxyURL := addr.FindStringSubmatch(stdout.String())[1]

	actx, closeBrowser := testenv.Browser(t, 30*time.Second, chromedp.ProxyServer(proxyURL),
		chromedp.Flag("proxy-bypass-list", "<-loopback>")) // else Chromium goes around the proxy for 127.0.0.1
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	base := recorded.URL
	err := chromedp.Do(bctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(`input[name="username"]`),
		chromedp.SendKeys(`input[name="username"]`, "ada"),
		chromedp.SendKeys(`input[name="password"]`, "lovelace"),
		chromedp.Submit(`input[name="password"]`),
		chromedp.WaitVisible(`a[href="/articles/new"]`),
		chromedp.Navigate(base+"/articles/new"),
		chromedp.WaitVisible(`input[name="title"]`),
		chromedp.SendKeys(`input[name="title"]`, "Replayed by amp"),
		chromedp.SendKeys(`textarea[name="body"]`, "Written once in a browser."),
		chromedp.Submit(`input[name="title"]`),
		chromedp.WaitVisible(`#comment-form`),
		chromedp.SendKeys(`#comment-form textarea[name="text"]`, "A comment from the page's script."),
		chromedp.Click(`#comment-form button[type="submit"]`), // the page's script posts it with fetch
		chromedp.WaitVisible(`#comments li`),
	)
	if err != nil {
		t.Fatalf("browsing through amp record: %v", err)
	}
	cancel()
	closeBrowser()
	stop() // Ctrl-C: amp record finishes and closes the file
	if code := <-done; code != 0 {
		t.Fatalf("amp record exited %d: %s", code, stderr.String())
	}

	recording, err := capture.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	var comment, login bool
	for _, s := range recording.Sessions {
		for _, e := range s.Exchanges {
			comment = comment || (e.Request.Method == "POST" && strings.HasSuffix(e.Request.URL, "/comments") && e.Response.Status == 201)
			login = login || (e.Request.Method == "POST" && strings.HasSuffix(e.Request.URL, "/login") && e.Response.Status == 303)
		}
	}
	if len(recording.Sessions) != 1 || !comment || !login {
		t.Fatalf("%d sessions, login recorded %v, comment recorded %v", len(recording.Sessions), login, comment)
	}

	target := httptest.NewServer(demosite.New(demosite.Config{}))
	defer target.Close()
	out := filepath.Join(t.TempDir(), "result.json")
	r := runAmp(t, "replay", rec, "--host", target.URL, "--users", "20", "--rate", "100", "--iterations", "60",
		"--think", "none", "--quiet", "--json", out)
	if r.code != 0 {
		t.Fatalf("amp replay exited %d: %s", r.code, r.stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Requests, Failures int64
		Errors             []struct{ Method, Name, Reason string }
	}
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	if want := int64(60 * recording.Exchanges()); res.Failures != 0 || res.Requests != want {
		t.Fatalf("replay of the browser's session: %d requests (want %d), %d failures: %+v", res.Requests, want, res.Failures, res.Errors)
	}
}
