package replay

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/internal/testenv"
	"github.com/ampload/amp/stats"
)

// freshApp is a small app shaped like the stock admins amp meets in the
// wild, on a fresh database: ids 1, 2, 3 (or from a base), a CSRF token per
// session in hidden inputs whose value comes before the name, a multipart
// create form, a redirect to the new object's edit page, a hidden post_ID
// that the edit form sends back, an Origin check, and every object visible
// to its owner only. Anything replayed with the recording's values fails.
type freshApp struct {
	mu       sync.Mutex
	next     int
	sessions map[string]*appSession // by cookie
	owner    map[int]string         // object id → session cookie
	opened   map[int]int            // object id → opens by its owner
	logins   int
	users    map[string]bool // the accounts that logged in
	host     string          // the Host the Origin must name
}

type appSession struct {
	token  string
	user   string
	formID int
}

func newFreshApp(t *testing.T, firstID int) (*freshApp, *httptest.Server) {
	a := &freshApp{next: firstID, sessions: map[string]*appSession{}, owner: map[int]string{}, opened: map[int]int{}}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	a.host = strings.TrimPrefix(srv.URL, "http://")
	return a, srv
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var editPath = regexp.MustCompile(`^/items/(\d+)/(edit/)?$`)

func (a *freshApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var s *appSession
	var sid string
	if c, err := r.Cookie("sid"); err == nil {
		sid, s = c.Value, a.sessions[c.Value]
	}
	if s == nil {
		sid, s = randHex(8), &appSession{token: randHex(16)}
		a.sessions[sid] = s
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: sid, Path: "/"})
	}
	if r.Method == "POST" {
		if o := r.Header.Get("Origin"); o != "" && o != "http://"+a.host {
			http.Error(w, "origin checking failed: "+o, http.StatusForbidden)
			return
		}
		if err := r.ParseMultipartForm(1 << 20); err != nil && err != http.ErrNotMultipart {
			http.Error(w, "bad form: "+err.Error(), http.StatusBadRequest)
			return
		}
		if r.PostFormValue("csrf") != s.token {
			http.Error(w, "CSRF verification failed", http.StatusForbidden)
			return
		}
	}
	w.Header().Set("Date", "Tue, 01 Dec 2026 10:00:00 GMT")
	switch m := editPath.FindStringSubmatch(r.URL.Path); {
	case r.URL.Path == "/login" && r.Method == "GET":
		fmt.Fprintf(w, `<html><head><title>Log in</title></head><body><form method="post" action="/login">`+
			`<input value="%s" type="hidden" name="csrf"><input name="user"><input type="password" name="pw">`+
			`<input type="submit" value="Log in"></form></body></html>`, s.token)
	case r.URL.Path == "/login":
		s.user = r.PostFormValue("user")
		if a.users == nil {
			a.users = map[string]bool{}
		}
		a.users[s.user] = true
		a.logins++
		http.Redirect(w, r, "/items/new", http.StatusFound)
	case r.URL.Path == "/items/new" && r.Method == "GET":
		s.formID = a.next*10 + 3 // a short per-form number the server checks
		fmt.Fprintf(w, `<html><head><title>New item</title></head><body><form method="post" enctype="multipart/form-data">`+
			`<input type="hidden" name="csrf" value="%s"><input type=hidden value=%d name=form_id>`+
			`<input name="title"><input type="file" name="attachment"><textarea name="text"></textarea>`+
			`<input type="submit" name="_save" value="Save"></form></body></html>`, s.token, s.formID)
	case r.URL.Path == "/items/new":
		if r.PostFormValue("form_id") != strconv.Itoa(s.formID) {
			http.Error(w, "form expired", http.StatusForbidden)
			return
		}
		id := a.next
		a.next++
		a.owner[id] = sid
		http.Redirect(w, r, "/items/"+strconv.Itoa(id)+"/edit/", http.StatusFound)
	case m != nil:
		id, _ := strconv.Atoi(m[1])
		if a.owner[id] != sid {
			http.Error(w, "not your item", http.StatusForbidden)
			return
		}
		if r.Method == "POST" {
			if r.PostFormValue("post_ID") != m[1] || r.URL.Query().Get("post") != m[1] {
				http.Error(w, "link expired", http.StatusForbidden)
				return
			}
			http.Redirect(w, r, "/items/"+m[1]+"/", http.StatusFound)
			return
		}
		if m[2] == "" {
			a.opened[id]++
			fmt.Fprintf(w, `<html><head><title>Item</title></head><body><p>item %d</p></body></html>`, id)
			return
		}
		fmt.Fprintf(w, `<html><head><title>Edit item</title></head><body>`+
			`<form method="post" action="/items/%d/edit/?post=%d"><input type="hidden" name="csrf" value="%s">`+
			`<input type="hidden" name="post_ID" value="%d"><input name="title" value="first"></form></body></html>`, id, id, s.token, id)
	default:
		http.NotFound(w, r)
	}
}

// recordFreshFlow records one user of a: log in, open the new-item form,
// create an item with a multipart form, edit it through its form, open it.
// The client sends Origin as a browser on the app's address does.
func recordFreshFlow(t testing.TB, base string) *capture.Recording {
	t.Helper()
	rt := &testenv.RecordingTransport{}
	c := &http.Client{Transport: rt, Jar: newTestJar()}
	get := func(path string) string {
		t.Helper()
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("recording: GET %s: %d %s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	post := func(path, ctype string, body []byte) string {
		t.Helper()
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Origin", base)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("recording: POST %s: %d %s", path, resp.StatusCode, b)
		}
		return resp.Request.URL.Path
	}
	field := func(page, name string) string {
		m := regexp.MustCompile(`<input[^>]*name=("?)` + name + `"?[^>]*>`).FindString(page)
		v := regexp.MustCompile(`value="?([^" >]*)`).FindStringSubmatch(m)
		if v == nil {
			t.Fatalf("no field %s in %s", name, page)
		}
		return v[1]
	}
	page := get("/login")
	post("/login", "application/x-www-form-urlencoded", []byte(url.Values{"csrf": {field(page, "csrf")}, "user": {"ada"}, "pw": {"pw"}}.Encode()))
	page = get("/items/new")
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", field(page, "csrf"))
	_ = mw.WriteField("form_id", field(page, "form_id"))
	_ = mw.WriteField("title", "My first item")
	fw, _ := mw.CreateFormFile("attachment", "notes.txt")
	_, _ = fw.Write([]byte("attached text"))
	_ = mw.WriteField("text", "Some text")
	_ = mw.WriteField("_save", "Save")
	_ = mw.Close()
	edit := post("/items/new", mw.FormDataContentType(), body.Bytes())
	page = get(edit) // followed by the client already; read the form again as a browser would show it
	id := field(page, "post_ID")
	post(edit+"?post="+id, "application/x-www-form-urlencoded", []byte(url.Values{"csrf": {field(page, "csrf")}, "post_ID": {id}, "title": {"first"}}.Encode()))
	return rt.Recording()
}

// newTestJar is a cookie jar for the recording client.
func newTestJar() http.CookieJar {
	j, _ := cookiejar.New(nil)
	return j
}

// TestReplayFreshDatabase replays a recording of a fresh app (ids 1, 2, …)
// against another fresh one as 10 users: each user must log in with its own
// token, create its own item through the multipart form and open its own
// item (short ids in Location, a hidden post_ID and a query id, a short
// form number), with an Origin the app checks. Without correlation the same
// replay fails visibly.
func TestReplayFreshDatabase(t *testing.T) {
	for _, first := range []int{1, 1000} {
		t.Run("ids from "+strconv.Itoa(first), func(t *testing.T) {
			_, rsrv := newFreshApp(t, first)
			rec := recordFreshFlow(t, rsrv.URL)
			app, srv := newFreshApp(t, first)
			cfg := fastConfig(srv.URL)
			cfg.Users, cfg.Iterations = 10, 10
			res, p := runReplay(t, rec, cfg)
			if res.Failures != 0 {
				t.Fatalf("%d failures in %d requests: %s", res.Failures, res.Requests, describeFailures(res))
			}
			counts := p.RuleCounts()
			if len(counts) < 4 {
				t.Fatalf("rule counts %+v", counts)
			}
			for _, c := range counts {
				if c.Found != 10 || c.Missed != 0 {
					t.Errorf("rule %s %q from %s: found %d, missed %d times; want 10 and 0", c.Rule.Name, c.Rule.Value, c.Rule.Source.Describe(), c.Found, c.Missed)
				}
			}
			app.mu.Lock()
			logins, items, opened := app.logins, len(app.owner), len(app.opened)
			app.mu.Unlock()
			if logins != 10 || items != 10 || opened != 10 {
				t.Fatalf("the app saw %d logins, %d items created, %d items opened by their owners; want 10 each", logins, items, opened)
			}

			cfg.NoCorrelate = true
			app2, srv2 := newFreshApp(t, first)
			cfg.Host = srv2.URL
			res, _ = runReplay(t, rec, cfg)
			if res.Failures == 0 {
				t.Fatalf("--no-correlate: no failures (%d logins)", app2.logins)
			}
		})
	}
}

// BenchmarkBuildCorrelated builds the most correlated request of the fresh
// app's flow (a form post with five live values in its target, body and
// Referer): no allocation once the user's buffers have grown.
func BenchmarkBuildCorrelated(b *testing.B) {
	a := &freshApp{next: 1, sessions: map[string]*appSession{}, owner: map[int]string{}, opened: map[int]int{}}
	srv := httptest.NewServer(a)
	defer srv.Close()
	a.host = strings.TrimPrefix(srv.URL, "http://")
	rec := recordFreshFlow(b, srv.URL)
	cfg := fastConfig(srv.URL)
	plan, err := NewPlan(rec, cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	p, err := NewPlayer(plan, cfg, stats.NewCollector(stats.Config{}))
	if err != nil {
		b.Fatal(err)
	}
	sc := plan.Scripts[0]
	u := newUser(p, 0)
	for i := range sc.Rules {
		u.slots = append(u.slots, "live-"+strconv.Itoa(i*7919))
	}
	task := &sc.Tasks[len(sc.Tasks)-2]
	if len(task.spans) < 4 {
		b.Fatalf("task %s %s has %d spans", task.Method, task.Path, len(task.spans))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		u.req = u.build(u.req[:0], sc, task)
	}
}

// TestReplayDataAndClientValues: with --data each user logs in as its own
// account; an idempotency key and a request id the client made up are made
// afresh per user and session, so the server de-duplicates nothing.
func TestReplayDataAndClientValues(t *testing.T) {
	_, rsrv := newFreshApp(t, 1)
	rec := recordFreshFlow(t, rsrv.URL)
	app, srv := newFreshApp(t, 1)
	cfg := fastConfig(srv.URL)
	cfg.Users, cfg.Iterations = 10, 10
	d, err := ParseData("users.csv", []byte("user,pw\nu01,a\nu02,b\nu03,c\nu04,d\nu05,e\nu06,f\nu07,g\nu08,h\nu09,i\nu10,j\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Data, cfg.DataMode = d, DataUnique
	res, p := runReplay(t, rec, cfg)
	if res.Failures != 0 {
		t.Fatalf("%d failures: %s", res.Failures, describeFailures(res))
	}
	app.mu.Lock()
	accounts := len(app.users)
	app.mu.Unlock()
	if accounts != 10 || app.users["ada"] {
		t.Fatalf("accounts that logged in: %v, want u01..u10", app.users)
	}
	if p.Err() != nil {
		t.Fatalf("stopped early: %v", p.Err())
	}
	// Eleven sessions from ten unique rows: the run stops with a clear error.
	cfg.Iterations = 11
	_, srv2 := newFreshApp(t, 1)
	cfg.Host = srv2.URL
	_, p = runReplay(t, rec, cfg)
	if err := p.Err(); err == nil || !strings.Contains(err.Error(), "users.csv") {
		t.Fatalf("11 sessions from 10 unique rows: err %v", err)
	}

	// Client-made values.
	var mu sync.Mutex
	keys := map[string]bool{}
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		key := r.Header.Get("Idempotency-Key") + "|" + string(b) + "|" + r.URL.RawQuery
		mu.Lock()
		defer mu.Unlock()
		if keys[key] {
			http.Error(w, "duplicate request", http.StatusConflict)
			return
		}
		keys[key] = true
		w.WriteHeader(http.StatusCreated)
	}))
	defer api.Close()
	rt := &testenv.RecordingTransport{}
	c := &http.Client{Transport: rt}
	req, _ := http.NewRequest("POST", api.URL+"/orders?ts="+strconv.FormatInt(time.Now().UnixMilli(), 10),
		strings.NewReader(`{"request_id":"7d444840-9dc0-41d2-a1d6-4c3e2f1a7b90","qty":1}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "0f8e2d3c4b5a69788796a5b4c3d2e1f0")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	rec = rt.Recording()
	cfg = fastConfig(api.URL)
	cfg.Users, cfg.Iterations = 5, 5
	mu.Lock()
	keys = map[string]bool{}
	mu.Unlock()
	res, _ = runReplay(t, rec, cfg)
	if res.Failures != 0 {
		t.Fatalf("fresh client values: %d failures: %s", res.Failures, describeFailures(res))
	}
	cfg.KeepClientValues = true
	mu.Lock()
	keys = map[string]bool{}
	mu.Unlock()
	res, _ = runReplay(t, rec, cfg)
	if res.Failures != 4 {
		t.Fatalf("--keep-client-values: %d failures, want 4 duplicates: %s", res.Failures, describeFailures(res))
	}
}
