package proxy_test

import (
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/demosite"
	"github.com/ampload/amp/internal/testenv"
	"github.com/ampload/amp/proxy"
	"github.com/chromedp/chromedp"
)

// TestChromiumSession drives headless Chromium through the forward proxy: it
// logs in to the demo site, writes an article and opens it. The recording must
// hold that visit as one session, in order, static assets included.
func TestChromiumSession(t *testing.T) {
	testenv.Chromium(t) // skip (or fail under CI) without a browser, before starting anything
	for _, skipStatic := range []bool{false, true} {
		t.Run(map[bool]string{false: "with static", true: "skip static"}[skipStatic], func(t *testing.T) {
			browseAndCheck(t, skipStatic)
		})
	}
}

func browseAndCheck(t *testing.T, skipStatic bool) {
	site := httptest.NewServer(demosite.New(demosite.Config{}))
	defer site.Close()
	cfg := proxy.DefaultConfig()
	// Chromium's own background requests (time, component updates) pass
	// through unrecorded, as a user would configure it.
	cfg.IncludeHosts = []string{strings.TrimPrefix(site.URL, "http://")}
	cfg.SkipStatic = skipStatic
	tr := newTestRecorder(t, cfg)

	actx, acancel := testenv.Browser(t, 60*time.Second, chromedp.WindowSize(1024, 768),
		chromedp.ProxyServer("http://"+tr.Addr),
		// Chromium sends loopback traffic around proxies unless told not to.
		chromedp.Flag("proxy-bypass-list", "<-loopback>"))
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()

	err := chromedp.Do(bctx,
		chromedp.Navigate(site.URL+"/login"),
		chromedp.WaitVisible(`input[name="username"]`),
		chromedp.SendKeys(`input[name="username"]`, "ada"),
		chromedp.SendKeys(`input[name="password"]`, "secret"),
		chromedp.Submit(`input[name="password"]`),
		chromedp.WaitVisible(`a[href="/articles/new"]`),
		chromedp.Navigate(site.URL+"/articles/new"),
		chromedp.WaitVisible(`input[name="title"]`),
		chromedp.SendKeys(`input[name="title"]`, "Recorded by amp"),
		chromedp.SendKeys(`textarea[name="body"]`, "A session through the proxy."),
		chromedp.Submit(`input[name="title"]`),
		chromedp.WaitVisible(`article[data-article-id] h1`),
	)
	var articleURL, title string
	if err == nil {
		articleURL, err = chromedp.Run(bctx, chromedp.Location())
	}
	if err == nil {
		err = chromedp.Do(bctx, chromedp.Navigate(site.URL+"/articles"), chromedp.WaitVisible(`ul.articles`), chromedp.Navigate(articleURL))
	}
	if err == nil {
		title, err = chromedp.Run(bctx, chromedp.Text(`article[data-article-id] h1`))
	}
	if err != nil {
		t.Fatalf("browsing through the proxy: %v", err)
	}
	if !regexp.MustCompile(`/articles/[^/]+$`).MatchString(articleURL) || !strings.Contains(title, "Recorded by amp") {
		t.Fatalf("article page %s titled %q", articleURL, title)
	}
	bcancel()
	acancel()

	rec := tr.Stop(t)
	if len(rec.Sessions) != 1 {
		for _, s := range rec.Sessions {
			for _, e := range s.Exchanges {
				t.Logf("session %s: %s %s", s.ID, e.Request.Method, e.Request.URL)
			}
		}
		t.Fatalf("%d sessions, want 1", len(rec.Sessions))
	}
	articlePath := strings.TrimPrefix(articleURL, site.URL)
	want := []string{"GET /login", "POST /login", "GET /articles", "GET /articles/new", "POST /articles",
		"GET " + articlePath, "GET /articles", "GET " + articlePath}
	var got []string
	static := 0
	for _, e := range rec.Sessions[0].Exchanges {
		u, err := url.Parse(e.Request.URL)
		if err != nil || u.Host != strings.TrimPrefix(site.URL, "http://") {
			t.Errorf("exchange with another host: %s", e.Request.URL)
			continue
		}
		if strings.HasPrefix(u.Path, "/static/") {
			static++
			continue
		}
		got = append(got, e.Request.Method+" "+u.RequestURI())
		if e.Flags != 0 || e.Response.Status >= 400 {
			t.Errorf("%s %s: status %d flags %v", e.Request.Method, e.Request.URL, e.Response.Status, e.Flags)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("session tasks\n got %q\nwant %q", got, want)
	}
	if (static > 0) == skipStatic {
		t.Errorf("%d static assets recorded with SkipStatic %v", static, skipStatic)
	}
	// The login form was recorded as the browser sent it.
	for _, e := range rec.Sessions[0].Exchanges {
		if e.Request.Method == "POST" && strings.HasSuffix(e.Request.URL, "/login") {
			form, _ := url.ParseQuery(string(e.Request.Body))
			if form.Get("username") != "ada" || form.Get("password") != "secret" || form.Get("csrf_token") == "" {
				t.Errorf("login form recorded as %q", e.Request.Body)
			}
		}
	}
}
