package replay

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/demosite"
	"github.com/ampload/amp/stats"
)

// rx is one recorded exchange of a check test: the request, and the
// response as recorded.
type rx struct {
	method, path string
	status       int
	header       []string // "Name: value"
	body         string
}

// live is what the replay target answers for one path.
type live struct {
	status int
	header []string
	body   string
}

// checkRecording makes a one-session recording of shop.example from xs.
func checkRecording(xs ...rx) *capture.Recording {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var exs []*capture.Exchange
	for i, x := range xs {
		var h capture.Headers
		for _, f := range x.header {
			name, value, _ := strings.Cut(f, ":")
			h = append(h, capture.Header{Name: name, Value: strings.TrimSpace(value)})
		}
		exs = append(exs, &capture.Exchange{
			Session: "1", Start: t0.Add(time.Duration(i) * 10 * time.Millisecond), Duration: time.Millisecond,
			Request:  capture.Request{Method: x.method, URL: "http://shop.example" + x.path},
			Response: capture.Response{Status: x.status, Header: h, Body: []byte(x.body), BodySize: int64(len(x.body))},
		})
	}
	return &capture.Recording{Sessions: capture.GroupSessions(exs)}
}

// liveServer answers "METHOD /path" with the given responses.
func liveServer(t *testing.T, answers map[string]live) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := answers[r.Method+" "+r.URL.RequestURI()]
		if !ok {
			http.NotFound(w, r)
			return
		}
		for _, f := range a.header {
			name, value, _ := strings.Cut(f, ":")
			w.Header().Add(name, strings.TrimSpace(value))
		}
		w.WriteHeader(a.status)
		_, _ = w.Write([]byte(a.body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// replayOnce replays rec once as one user against srv.
func replayOnce(t *testing.T, rec *capture.Recording, srv *httptest.Server, mod func(*Config)) *stats.Result {
	t.Helper()
	cfg := fastConfig(srv.URL)
	cfg.Users, cfg.Iterations = 1, 1
	if mod != nil {
		mod(&cfg)
	}
	res, _ := runReplay(t, rec, cfg)
	return res
}

func page(title, extra string) string {
	return "<!doctype html><html><head><meta charset=utf-8><title>" + title + "</title></head><body>" + extra + "</body></html>"
}

func gz(s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	return b.String()
}

const (
	ctHTML = "Content-Type: text/html; charset=utf-8"
	ctJSON = "Content-Type: application/json"
)

// TestChecksDiffer: each kind of difference from the recording marks the
// task failed with a reason of its own kind.
func TestChecksDiffer(t *testing.T) {
	t.Parallel()
	articleForm := `<form method=post action="/articles"><input type=hidden name=csrf value=x><input name=title><textarea name=body></textarea><button>Save</button></form>`
	loginForm := `<form method=post action="/login"><input type=hidden name=csrf value=y><input name=username><input type=password name=password></form>`
	big := page("Orders", strings.Repeat("<p>an order line</p>\n", 400))
	tests := []struct {
		name   string
		rec    rx
		times  int // the exchange is recorded this many times (default 1)
		live   live
		reason string
		sample string // what the live response had
	}{
		{
			name:   "a 200 where a 302 was recorded: the form shown again",
			rec:    rx{"POST", "/login", 302, []string{"Location: /dashboard"}, ""},
			live:   live{200, []string{ctHTML}, page("Log in", loginForm)},
			reason: "differs: status 200, recorded 302",
		},
		{
			name:   "a login-failed page where the dashboard was recorded",
			rec:    rx{"POST", "/login", 200, []string{ctHTML}, page("Dashboard", "<p>Welcome</p>")},
			live:   live{200, []string{ctHTML}, page("Log in", "<p>Wrong password</p>")},
			reason: `differs: title, recorded "Dashboard"`, sample: "Log in",
		},
		{
			name:   "a redirect to another place",
			rec:    rx{"POST", "/articles", 302, []string{"Location: http://shop.example/articles/17"}, ""},
			live:   live{302, []string{"Location: /login?next=/articles"}, ""},
			reason: `differs: redirect, recorded "/articles/17"`, sample: "/login",
		},
		{
			name:   "a JSON error in place of the login answer",
			rec:    rx{"POST", "/api/login", 200, []string{ctJSON}, `{"token":"abc","user":{"name":"ada","id":1}}`},
			live:   live{200, []string{ctJSON}, `{"error":"bad credentials"}`},
			reason: `differs: json "token" missing, recorded string`,
		},
		{
			name:   "a JSON member of another kind",
			rec:    rx{"GET", "/api/me", 200, []string{ctJSON}, `{"token":"abc","user":{"name":"ada","id":1}}`},
			live:   live{200, []string{ctJSON}, `{"token":"abc","user":"ada"}`},
			reason: `differs: json "user" is string, recorded object`,
		},
		{
			name:   "a member missing at the second level",
			rec:    rx{"GET", "/api/me", 200, []string{ctJSON}, `{"user":{"name":"ada","id":1}}`},
			live:   live{200, []string{ctJSON}, `{"user":{"id":2}}`},
			reason: `differs: json "user.name" missing, recorded string`,
		},
		{
			name:   "an array where an object was recorded",
			rec:    rx{"GET", "/api/me", 200, []string{ctJSON}, `{"user":"ada"}`},
			live:   live{200, []string{ctJSON}, `[]`},
			reason: `differs: json array, recorded object`,
		},
		{
			name:   "a body that is not JSON",
			rec:    rx{"GET", "/api/me", 200, []string{ctJSON}, `{"user":"ada"}`},
			live:   live{200, []string{ctJSON}, `{"user":`},
			reason: `differs: json body is not JSON`, sample: `{"user":`,
		},
		{
			name:   "a small body where a large one was recorded",
			rec:    rx{"GET", "/orders", 200, []string{"Content-Type: text/plain"}, strings.Repeat("x", 8000)},
			times:  2, // a size is compared where the recording shows it stable
			live:   live{200, []string{"Content-Type: text/plain"}, "session expired"},
			reason: "differs: body under 1/4 of the recorded size, recorded 7.8 KiB", sample: "15 B",
		},
		{
			name:   "a small page of the same title where a large one was recorded",
			rec:    rx{"GET", "/orders", 200, []string{ctHTML}, big},
			times:  3,
			live:   live{200, []string{ctHTML}, page("Orders", "<p>Please log in again.</p>")},
			reason: "differs: body under 1/4 of the recorded size, recorded 8.3 KiB", sample: "122 B",
		},
		{
			name:   "the login form in place of the article form",
			rec:    rx{"GET", "/articles/new", 200, []string{ctHTML}, page("Write", articleForm)},
			live:   live{200, []string{ctHTML}, page("Write", loginForm)},
			reason: "differs: forms, recorded /articles{body,title}", sample: "/login{password,username}",
		},
		{
			name:   "the login page where a query-routed page was recorded (MediaWiki's index.php?title=X&action=edit)",
			rec:    rx{"GET", "/index.php?title=Notes&action=edit", 200, []string{ctHTML}, page("Editing Notes - CkWiki", "")},
			live:   live{200, []string{ctHTML}, page("Log in - CkWiki", "")},
			reason: `differs: title, recorded "Editing Notes - CkWiki"`, sample: "Log in - CkWiki",
		},
		{
			name:   "HTML where JSON was recorded",
			rec:    rx{"GET", "/api/me", 200, []string{ctJSON}, `{"user":"ada"}`},
			live:   live{200, []string{ctHTML}, page("Log in", "")},
			reason: "differs: content type, recorded application/json", sample: "text/html",
		},
		{
			name:   "a page without a title where one was recorded",
			rec:    rx{"GET", "/dashboard", 200, []string{ctHTML}, page("Dashboard", "")},
			live:   live{200, []string{ctHTML}, "<html><body>Gateway says hello</body></html>"},
			reason: `differs: no title, recorded "Dashboard"`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			xs := []rx{tc.rec}
			for len(xs) < tc.times {
				xs = append(xs, tc.rec)
			}
			rec := checkRecording(xs...)
			srv := liveServer(t, map[string]live{tc.rec.method + " " + tc.rec.path: tc.live})
			res := replayOnce(t, rec, srv, nil)
			if res.Failures != int64(len(xs)) || len(res.Errors) != 1 || res.Errors[0].Reason != tc.reason || res.Errors[0].Sample != tc.sample {
				t.Fatalf("%d failures (%s, sample %q), want %d × %q (sample %q)", res.Failures, describeFailures(res),
					sampleOf(res), len(xs), tc.reason, tc.sample)
			}
			// Status-class judging (--checks=status) lets all of them pass.
			res = replayOnce(t, rec, srv, func(c *Config) { c.CheckMode = CheckStatus })
			if res.Failures != 0 {
				t.Fatalf("--checks=status: %d failures: %s", res.Failures, describeFailures(res))
			}
		})
	}
}

func sampleOf(r *stats.Result) string {
	if len(r.Errors) == 0 {
		return ""
	}
	return r.Errors[0].Sample
}

// TestChecksNoFalsePositives: what legitimately differs between a recording
// and a faithful replay on a real application passes.
func TestChecksNoFalsePositives(t *testing.T) {
	t.Parallel()
	rows := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteString(`<tr><td>Post</td><td><form method=post action="/posts/` + string(rune('0'+i%10)) + `/delete"><input type=hidden name=csrf value=z><button>Delete</button></form></td></tr>`)
		}
		return b.String()
	}
	tests := []struct {
		name string
		rec  []rx
		live map[string]live
	}{
		{
			name: "ids in a redirect, a slug made unique, Set-Cookie and Date",
			rec: []rx{
				{"POST", "/articles", 302, []string{"Location: http://shop.example/articles/17/edit/", "Set-Cookie: sid=a", "Date: Thu, 01 Jan 2026 00:00:00 GMT"}, ""},
				{"POST", "/posts", 303, []string{"Location: /blog/hello-world/"}, ""},
				{"POST", "/items", 302, []string{"Location: /items/5f2b9c0e1a7d44e1/"}, ""},
			},
			live: map[string]live{
				"POST /articles": {302, []string{"Location: /articles/90210/edit/", "Set-Cookie: sid=b"}, ""},
				"POST /posts":    {303, []string{"Location: http://127.0.0.1/blog/hello-world-2/"}, ""},
				"POST /items":    {302, []string{"Location: /items/0a1b2c3d4e5f6789/"}, ""},
			},
		},
		{
			name: "numbers and ids in a title, other white space and case",
			rec: []rx{
				{"GET", "/order", 200, []string{ctHTML}, page("Order 17 – Shop", "")},
				{"GET", "/ticket", 200, []string{ctHTML}, page("Ticket xQmBzKpaWq", "")},
			},
			live: map[string]live{
				"GET /order":  {200, []string{ctHTML}, page("\n  ORDER   90210 – Shop\n", "")},
				"GET /ticket": {200, []string{ctHTML}, page("Ticket PlKoMnJiUh", "")},
			},
		},
		{
			name: "a count that comes and goes in a title",
			rec:  []rx{{"GET", "/unread", 200, []string{ctHTML}, page("Unread - Miniflux", "")}},
			live: map[string]live{"GET /unread": {200, []string{ctHTML}, page("Unread (2) - Miniflux", "")}},
		},
		{
			name: "the title of an object's page names the object",
			rec:  []rx{{"GET", "/articles/17", 200, []string{ctHTML}, page("My trip to Paris | Blog", "")}},
			live: map[string]live{"GET /articles/17": {200, []string{ctHTML}, page("Notes on the Engine | Blog", "")}},
		},
		{
			name: "a title that was not stable for the endpoint when recorded",
			rec: []rx{
				{"GET", "/search?q=tea", 200, []string{ctHTML}, page("tea – Search", "")},
				{"GET", "/search?q=cups", 200, []string{ctHTML}, page("cups – Search", "")},
			},
			live: map[string]live{
				"GET /search?q=tea":  {200, []string{ctHTML}, page("Results – Search", "")},
				"GET /search?q=cups": {200, []string{ctHTML}, page("Results – Search", "")},
			},
		},
		{
			name: "compressed live pages, and a compressed recording",
			rec: []rx{
				{"GET", "/dashboard", 200, []string{ctHTML}, page("Dashboard", strings.Repeat("<p>widget</p>", 200))},
				{"GET", "/api/me", 200, []string{ctJSON, "Content-Encoding: gzip"}, gz(`{"user":{"name":"ada"}}`)},
			},
			live: map[string]live{
				"GET /dashboard": {200, []string{ctHTML, "Content-Encoding: gzip"}, gz(page("Dashboard", strings.Repeat("<p>widget</p>", 200)))},
				"GET /api/me":    {200, []string{ctJSON, "Content-Encoding: gzip"}, gz(`{"user":{"name":"bob","id":3}}`)},
			},
		},
		{
			name: "a list that grew, with a delete button per row",
			rec:  []rx{{"GET", "/posts", 200, []string{ctHTML}, page("Posts", "<table>"+rows(3)+"</table>")}},
			live: map[string]live{"GET /posts": {200, []string{ctHTML}, page("Posts", "<table>"+rows(400)+"</table>")}},
		},
		{
			name: "a form with its attributes in another order and other hidden fields",
			rec:  []rx{{"GET", "/new", 200, []string{ctHTML}, page("New", `<form action="/posts/" method="post"><input name="title" type="text"><input type="hidden" name="a" value="1"></form>`)}},
			live: map[string]live{"GET /new": {200, []string{ctHTML}, page("New", `<FORM METHOD=POST ACTION='/posts/'><INPUT TYPE=hidden NAME=b><input type="text" name="title" value=""></FORM>`)}},
		},
		{
			name: "JSON with extra members, nulls, empty lists and maps keyed by ids",
			rec: []rx{
				{"GET", "/api/a", 200, []string{ctJSON}, `{"user":{"name":"ada","avatar":null},"orders":[{"id":1,"total":3}],"byId":{"17":{"x":1}}}`},
				{"GET", "/api/list", 200, []string{ctJSON}, `[{"id":1,"name":"a"}]`},
				{"GET", "/api/empty", 200, []string{ctJSON}, `[]`},
			},
			live: map[string]live{
				"GET /api/a":     {200, []string{ctJSON}, `{"user":{"name":"bob","avatar":"x.png","admin":false},"orders":[],"byId":{"99":{"y":2}},"new":1}`},
				"GET /api/list":  {200, []string{ctJSON}, `[]`},
				"GET /api/empty": {200, []string{ctJSON}, `[{"id":1}]`},
			},
		},
		{
			name: "a body far smaller than the one recorded once (a list, say)",
			rec:  []rx{{"GET", "/orders", 200, []string{ctHTML}, page("Orders", strings.Repeat("<p>an order</p>", 500))}},
			live: map[string]live{"GET /orders": {200, []string{ctHTML}, page("Orders", "<p>No orders yet.</p>")}},
		},
		{
			name: "bodies of sizes that varied when recorded",
			rec: []rx{
				{"GET", "/feed", 200, []string{"Content-Type: text/plain"}, strings.Repeat("x", 2000)},
				{"GET", "/feed", 200, []string{"Content-Type: text/plain"}, strings.Repeat("x", 9000)},
			},
			live: map[string]live{"GET /feed": {200, []string{"Content-Type: text/plain"}, "x"}},
		},
		{
			name: "a title with today's date",
			rec:  []rx{{"GET", "/calendar", 200, []string{ctHTML}, page("Calendar – Tuesday, 1 December 2026", "")}},
			live: map[string]live{"GET /calendar": {200, []string{ctHTML}, page("Calendar – Fri, 1 January 2027", "")}},
		},
		{
			name: "a 304 where a 200 was recorded",
			rec:  []rx{{"GET", "/logo.png", 200, []string{"Content-Type: image/png"}, strings.Repeat("p", 5000)}},
			live: map[string]live{"GET /logo.png": {304, nil, ""}},
		},
		{
			name: "an SVG title in the body",
			rec:  []rx{{"GET", "/home", 200, []string{ctHTML}, page("Home", `<svg><title>icon 1</title></svg>`)}},
			live: map[string]live{"GET /home": {200, []string{ctHTML}, page("Home", `<svg><title>other icon</title></svg>`)}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := replayOnce(t, checkRecording(tc.rec...), liveServer(t, tc.live), nil)
			if res.Failures != 0 || res.Requests != int64(len(tc.rec)) {
				t.Fatalf("%d requests, %d failures: %s", res.Requests, res.Failures, describeFailures(res))
			}
		})
	}
}

// TestChecksSentValues: a title that shows values the session sent (a user
// name at login, the name given to an object) matches the live page with
// other values there, as with another account from --data, but not a
// different page.
func TestChecksSentValues(t *testing.T) {
	t.Parallel()
	rec := checkRecording(
		rx{"POST", "/login", 302, []string{"Location: /"}, ""},
		rx{"GET", "/", 200, []string{ctHTML}, page("ada - Dashboard - Gitea", "")},
		rx{"POST", "/repo/create", 302, []string{"Location: /ada/notes-1"}, ""},
		rx{"GET", "/ada/notes-1", 200, []string{ctHTML}, page("ada/Lovelace notes: the engine - Gitea", "")},
	)
	ex := rec.Sessions[0].Exchanges
	ex[0].Request.Header = capture.Headers{{Name: "Content-Type", Value: "application/x-www-form-urlencoded"}}
	ex[0].Request.Body = []byte("_csrf=x1&user_name=ada&password=secret")
	ex[2].Request.Header = capture.Headers{{Name: "Content-Type", Value: "multipart/form-data; boundary=XX"}}
	ex[2].Request.Body = []byte("--XX\r\nContent-Disposition: form-data; name=\"repo_name\"\r\n\r\nLovelace notes: the engine\r\n--XX--\r\n")
	for _, tc := range []struct {
		dashboard, repo string
		failures        int64
	}{
		{"bob - Dashboard - Gitea", "bob/Babbage notes: the mill - Gitea", 0},
		{"Sign In - Gitea", "bob/Babbage notes: the mill - Gitea", 1},
		{"bob - Dashboard - Gitea", "Page Not Found - Gitea", 1},
	} {
		srv := liveServer(t, map[string]live{
			"POST /login":       {302, []string{"Location: /"}, ""},
			"GET /":             {200, []string{ctHTML}, page(tc.dashboard, "")},
			"POST /repo/create": {302, []string{"Location: /ada/notes-1"}, ""},
			"GET /ada/notes-1":  {200, []string{ctHTML}, page(tc.repo, "")},
		})
		if res := replayOnce(t, rec, srv, nil); res.Failures != tc.failures {
			t.Errorf("%q, %q: %d failures, want %d: %s", tc.dashboard, tc.repo, res.Failures, tc.failures, describeFailures(res))
		}
	}
}

// TestChecksDemoFlow: on the demo site the recording is compared for real
// (titles, forms, redirects and JSON shapes are checked), and a replay of
// many users still has no failure.
func TestChecksDemoFlow(t *testing.T) {
	t.Parallel()
	recSrv, _ := newDemo(t, demosite.Config{})
	rec := recordFlow(t, recSrv.URL, "")
	target, _ := newDemo(t, demosite.Config{})
	cfg := fastConfig(target.URL)
	namer, _ := stats.NewNamer(nil)
	plan, err := NewPlan(rec, cfg, namer.Name)
	if err != nil {
		t.Fatal(err)
	}
	var titles, forms, shapes, redirects int
	for _, tk := range plan.Scripts[0].Tasks {
		if e := tk.exp; e != nil {
			titles += b2n(e.checkTitle)
			forms += b2n(e.checkForms && e.formsText != "none")
			shapes += b2n(e.json != nil)
			redirects += b2n(e.hasLoc)
		}
	}
	if titles < 4 || forms < 2 || shapes < 2 || redirects < 2 {
		t.Fatalf("checked: %d titles, %d form sets, %d JSON shapes, %d redirects; want the flow's pages compared", titles, forms, shapes, redirects)
	}
	cfg.Users, cfg.Iterations = 20, 60
	res, _ := runReplay(t, rec, cfg)
	if res.Failures != 0 || res.Requests != int64(60*len(rec.Sessions[0].Exchanges)) {
		t.Fatalf("%d requests, %d failures: %s", res.Requests, res.Failures, describeFailures(res))
	}
	// Logged out (the recorded session cookie is not the server's), the
	// replay differs from the recording, and says so.
	cfg.NoCorrelate = true
	res, _ = runReplay(t, rec, cfg)
	found := false
	for _, e := range res.Errors {
		found = found || strings.HasPrefix(e.Reason, "differs: ")
	}
	if !found {
		t.Fatalf("without correlation no difference was found: %s", describeFailures(res))
	}
}

// TestExplicitChecks: --check expressions on a live server.
func TestExplicitChecks(t *testing.T) {
	t.Parallel()
	rec := checkRecording(
		rx{"POST", "/login", 302, []string{"Location: /dashboard"}, ""},
		rx{"GET", "/cart", 200, []string{ctHTML}, page("Cart", "Total: 3")},
		rx{"GET", "/api/x", 200, []string{ctJSON}, `{"id":7,"a":{"b":"v"},"items":[{"sku":"k1"}]}`},
	)
	srv := liveServer(t, map[string]live{
		"POST /login": {302, []string{"Location: /dashboard"}, ""},
		"GET /cart":   {200, []string{ctHTML, "Content-Encoding: gzip"}, gz(page("Cart", "Total: 5"))},
		"GET /api/x":  {200, []string{ctJSON}, `{"id":8,"a":{"b":"v"},"items":[{"sku":"k2"}],"n":2.0}`},
	})
	tests := []struct {
		expr   string
		reason string // "REASON|SAMPLE"; "" passes
	}{
		{`POST /login: status == 302`, ""},
		{`POST /login: status in 200,302`, ""},
		{`POST /login: status == 200`, `check "POST /login: status == 200" failed|status 302`},
		{`status != 500`, ""},
		{`POST /login: header Location contains /dash`, ""},
		{`POST /login: header Location !contains /login`, ""},
		{`POST /login: header Location contains "/x"`, `check "POST /login: header Location contains \"/x\"" failed|Location: /dashboard`},
		{`POST /login: header X-Missing exists`, `check "POST /login: header X-Missing exists" failed|no X-Missing`},
		{`GET /cart: body contains "Total"`, ""},
		{`GET /cart: body !contains 'Total'`, `check "GET /cart: body !contains 'Total'" failed|`},
		{`/cart: body contains Total: 5`, ""},
		{`GET /api/x: json $.id exists`, ""},
		{`GET /api/x: json $.a.b == "v"`, ""},
		{`GET /api/x: json $.a.b == v`, ""},
		{`GET /api/x: json $.items[0].sku == "k2"`, ""},
		{`GET /api/x: json $.n == 2`, ""},
		{`GET /api/x: json $.id == 7`, `check "GET /api/x: json $.id == 7" failed|$.id = 8`},
		{`GET /api/x: json $.nope exists`, `check "GET /api/x: json $.nope exists" failed|no $.nope`},
		{`GET /api/x: json $.a !exists`, `check "GET /api/x: json $.a !exists" failed|$.a = {"b":"v"}`},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			t.Parallel()
			ck, err := ParseCheck(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			for _, mode := range []CheckMode{CheckAuto, CheckStatus} {
				res := replayOnce(t, rec, srv, func(c *Config) { c.Checks, c.CheckMode = []Check{ck}, mode })
				var reasons []string
				for _, e := range res.Errors {
					reasons = append(reasons, e.Reason+"|"+e.Sample)
				}
				if tc.reason == "" && len(reasons) != 0 || tc.reason != "" && (len(reasons) != 1 || reasons[0] != tc.reason) {
					t.Fatalf("mode %d: failures %q, want %q", mode, reasons, tc.reason)
				}
			}
		})
	}
}

// TestCheckScopeUnknown: a check scoped to an endpoint the recording lacks
// is refused when planning, naming --check.
func TestCheckScopeUnknown(t *testing.T) {
	t.Parallel()
	rec := checkRecording(rx{"POST", "/login", 302, nil, ""})
	for _, expr := range []string{`GET /login: status == 200`, `/logout: status == 200`} {
		ck, err := ParseCheck(expr)
		if err != nil {
			t.Fatal(err)
		}
		cfg := fastConfig("http://127.0.0.1:1")
		cfg.Checks = []Check{ck}
		namer, _ := stats.NewNamer(nil)
		_, err = NewPlan(rec, cfg, namer.Name)
		if err == nil || !strings.HasPrefix(err.Error(), "Checks ") || !strings.Contains(err.Error(), "no endpoint") {
			t.Fatalf("%s: err %v, want a --check error naming the missing endpoint", expr, err)
		}
	}
}

func TestParseCheck(t *testing.T) {
	t.Parallel()
	good := []struct {
		expr                      string
		method, name, what, field string
		op, text                  string
		statuses                  int
	}{
		{`POST /login: status == 302`, "POST", "/login", "status", "", "==", "", 1},
		{`status in 200, 302,303`, "", "", "status", "", "in", "", 3},
		{`GET /cart: body contains "Total: \"x\""`, "GET", "/cart", "body", "", "contains", `Total: "x"`, 0},
		{`/articles/{id}: body !contains 'Error'`, "", "/articles/{id}", "body", "", "!contains", "Error", 0},
		{`header Location contains http://x/y`, "", "", "header", "Location", "contains", "http://x/y", 0},
		{`GET /a:b: header X-A exists`, "GET", "/a:b", "header", "X-A", "exists", "", 0},
		{`GET /api/x: json $.id exists`, "GET", "/api/x", "json", "$.id", "exists", "", 0},
		{`json $.a.b[2]["c d"] == "v"`, "", "", "json", `$.a.b[2]["c d"]`, "==", `"v"`, 0},
		{`json $ != null`, "", "", "json", "$", "!=", "null", 0},
	}
	for _, tc := range good {
		ck, err := ParseCheck(tc.expr)
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		if ck.Method != tc.method || ck.Name != tc.name || ck.What != tc.what || ck.Field != tc.field ||
			ck.Op != tc.op || ck.Text != tc.text || len(ck.Statuses) != tc.statuses {
			t.Errorf("%s: parsed %+v", tc.expr, ck)
		}
	}
	bad := []string{
		``, `: status == 200`, `status`, `status = 200`, `status == 2000`, `status == 200,302`, `status in`,
		`status == ok`, `body`, `body has "x"`, `body contains`, `body contains "x`, `body contains "\q"`,
		`header`, `header Location`, `header Location exists now`, `json id exists`, `json $.a`,
		`json $. exists`, `json $[x] exists`, `json $.a ==`, `json $.a[ exists`, `GET /x: latency < 5`, `p(95)<500`,
	}
	for _, expr := range bad {
		_, err := ParseCheck(expr)
		if err == nil {
			t.Errorf("%q: parsed, want an error", expr)
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "Checks ") || strings.Contains(msg, "\n") {
			t.Errorf("%q: error %q is not one line naming --check", expr, msg)
		}
	}
}

// FuzzParseCheck: the parser never panics, errors are one line naming the
// flag, and what parses evaluates on any JSON body without panicking.
func FuzzParseCheck(f *testing.F) {
	for _, s := range []string{`POST /login: status == 302`, `GET /cart: body contains "Total"`, `json $.a.b[0] == "v"`,
		`header Location !contains /x`, `status in 200,302`, `x: json $["a"] exists`, `json $[`} {
		f.Add(s, `{"a":{"b":["v"]}}`)
	}
	f.Fuzz(func(t *testing.T, expr, body string) {
		ck, err := ParseCheck(expr)
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "Checks ") || strings.ContainsAny(msg, "\n") && !strings.ContainsAny(expr, "\n") {
				t.Fatalf("error %q", msg)
			}
			return
		}
		c := &conn{status: 200, body: []byte(body), bodyN: int64(len(body))}
		ck.eval(c, &c.chk)
		ck.failure(c, &c.chk)
	})
}

// FuzzShapes: the page and JSON scanners never panic, and a body matches
// its own shape.
func FuzzShapes(f *testing.F) {
	f.Add(page("T", `<form action=/x><input name=a></form>`))
	f.Add(`{"a":{"b":[1,{"c":null}]},"d":[{"e":"\"}"}]}`)
	f.Add(`[{"a":1},2]`)
	f.Fuzz(func(t *testing.T, body string) {
		b := []byte(body)
		pageTitle(b)
		h1, _ := pageForms(nil, b)
		if h2, _ := pageForms(nil, b); h1 != h2 {
			t.Fatal("form set hash not deterministic")
		}
		describeForms(b)
		shapePath(nil, b)
		title := shapeTitle(nil, b)
		if pat := titlePattern(slices.Clone(title), [][]byte{shapeTitle(nil, b[:len(b)/2]), []byte("a")}); !globMatch(string(pat), title) {
			t.Fatalf("title %q does not match its own pattern %q", title, pat)
		}
		if s := newJSONShape(b); s != nil {
			if d := s.match(b); d.kind != 0 {
				t.Fatalf("a body differs from its own shape: %s", s.describe(d))
			}
		}
	})
}

// BenchmarkCheckPage is the live comparison of a response with its
// recording: a plain text one (status and size), an HTML page of 2.3 KB
// (title and form set) and a JSON body (its shape).
func BenchmarkCheckPage(b *testing.B) {
	body := page("Edit post 17 | Site admin", `<form action="/post/17/change/" method=post><input type=hidden name=csrf value=x>`+
		`<input name=title value="Hello"><textarea name=body>text</textarea><select name=status><option>draft</select></form>`+strings.Repeat("<p>lorem ipsum</p>", 100))
	js := `{"token":"abc","user":{"name":"ada","id":1,"roles":["a"]},"orders":[{"id":1,"total":3}]}`
	// plain is BenchmarkUserDo's response: a status and size comparison only.
	for _, tc := range []struct{ name, ctype, body string }{{"plain", "text/plain", "hello, world"}, {"html", "text/html", body}, {"json", "application/json", js}} {
		b.Run(tc.name, func(b *testing.B) {
			ex := &capture.Exchange{Response: capture.Response{Status: 200, Body: []byte(tc.body), BodySize: int64(len(tc.body)),
				Header: capture.Headers{{Name: "Content-Type", Value: tc.ctype}}}}
			var e expect
			e.fingerprint(ex, nil)
			t := &Task{Method: "GET", RecordedStatus: 200, exp: &e}
			c := &conn{status: 200, body: []byte(tc.body), bodyN: int64(len(tc.body)),
				hbuf: []byte("Content-Type" + tc.ctype), hoffs: []hfield{{0, 12, 12, int32(12 + len(tc.ctype))}}}
			p := &Player{}
			if r, _ := p.check(t, c); r != "" {
				b.Fatal(r)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if r, _ := p.check(t, c); r != "" {
					b.Fatal(r)
				}
			}
		})
	}
}

// liveConn is a connection holding a response with the given status and
// header fields, for calling check directly.
func liveConn(status int, fields ...string) *conn {
	c := &conn{status: status}
	for _, f := range fields {
		name, value, _ := strings.Cut(f, ": ")
		base := int32(len(c.hbuf))
		c.hbuf = append(c.hbuf, name+value...)
		c.hoffs = append(c.hoffs, hfield{base, base + int32(len(name)), base + int32(len(name)), base + int32(len(name)+len(value))})
	}
	return c
}

// TestChecksRuleValues: a rule's recorded value (here one the validation
// pass would learn: a short id of letters in a redirect) is a wildcard in
// the recorded Location once the plan has the rule, while a redirect
// elsewhere still differs.
func TestChecksRuleValues(t *testing.T) {
	t.Parallel()
	rec := checkRecording(rx{"POST", "/notes", 303, []string{"Location: /notes/wwtvae"}, ""})
	cfg := fastConfig("http://127.0.0.1:1")
	plan, err := NewPlan(rec, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	tk := &plan.Scripts[0].Tasks[0]
	p := &Player{}
	if r, sample := p.check(tk, liveConn(303, "Location: /notes/esrmlx")); r != `differs: redirect, recorded "/notes/wwtvae"` || sample != "/notes/esrmlx" {
		t.Fatalf("without a rule: %q, sample %q", r, sample)
	}
	// As NewPlan does with the rules of Config.Rules.
	plan.Scripts[0].Rules = append(plan.Scripts[0].Rules, Rule{Name: "note", Value: "wwtvae"})
	plan.checkRules()
	p = &Player{}
	for loc, want := range map[string]string{
		"/notes/esrmlx":  "",
		"/notes/a":       "",
		"/login?next=/n": `differs: redirect, recorded "/notes/wwtvae"`,
		"/notes/":        `differs: redirect, recorded "/notes/wwtvae"`,
	} {
		if r, _ := p.check(tk, liveConn(303, "Location: "+loc)); r != want {
			t.Errorf("Location %s: %q, want %q", loc, r, want)
		}
	}
}

// FuzzCheck: fingerprinting any recorded response and checking any live one
// against it never panics, and a response never differs from itself.
func FuzzCheck(f *testing.F) {
	f.Add(page("Log in", `<form action=/login><input name=user></form>`), "text/html", "", 200)
	f.Add(`{"a":{"b":[1]},"c":null}`, "application/json", "", 200)
	f.Add(gz(page("T", "")), "text/html", "gzip", 200)
	f.Add("", "", "", 302)
	f.Fuzz(func(t *testing.T, body, ctype, enc string, status int) {
		if status < 100 || status > 999 || strings.ContainsAny(ctype+enc, "\r\n") {
			return
		}
		ex := &capture.Exchange{Response: capture.Response{Status: status, Body: []byte(body), BodySize: int64(len(body)),
			Header: capture.Headers{{Name: "Content-Type", Value: ctype}, {Name: "Content-Encoding", Value: enc}, {Name: "Location", Value: body}}}}
		var e expect
		e.fingerprint(ex, [][]byte{[]byte("a")})
		e.minSize = e.size
		tk := &Task{Method: "GET", RecordedStatus: status, exp: &e}
		c := liveConn(status, "Content-Type: "+ctype, "Content-Encoding: "+enc, "Location: "+body)
		c.body, c.bodyN = []byte(body), int64(len(body))
		p := &Player{}
		if r, _ := p.check(tk, c); r != "" && !strings.HasPrefix(r, "HTTP ") {
			t.Fatalf("a response differs from itself: %s", r)
		}
		c.body, c.bodyN = []byte(body[:len(body)/2]), int64(len(body)/2)
		p.check(tk, c)
	})
}

// TestScopes: a recording read a session at a time is refused as NewPlan
// refuses it whole: no requests, or a check scoped to an endpoint none has.
func TestScopes(t *testing.T) {
	t.Parallel()
	rec := checkRecording(rx{"POST", "/notes", 303, []string{"Location: /notes/1"}, ""})
	for _, tc := range []struct {
		expr string
		ok   bool
	}{{"POST /notes: status == 303", true}, {"GET /nope: status == 200", false}, {"status in 200,303", true}} {
		ck, err := ParseCheck(tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		cfg := fastConfig("http://127.0.0.1:1")
		cfg.Checks = []Check{ck}
		sc := NewScopes(cfg, nil)
		for _, s := range rec.Sessions {
			sc.Add(s)
		}
		_, planErr := NewPlan(rec, cfg, nil)
		if err := sc.Err(); (err == nil) != tc.ok || (err == nil) != (planErr == nil) {
			t.Errorf("%s: Scopes %v, NewPlan %v", tc.expr, err, planErr)
		}
	}
	if err := NewScopes(fastConfig("http://127.0.0.1:1"), nil).Err(); err == nil {
		t.Error("no sessions: no error")
	}
}
