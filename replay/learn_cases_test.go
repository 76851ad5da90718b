package replay

import (
	"bytes"
	"compress/gzip"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
)

// ex is a recorded exchange for learner tests.
func ex(method, url string, reqHeader capture.Headers, reqBody string, status int, respHeader capture.Headers, respBody string) *capture.Exchange {
	return &capture.Exchange{
		Request:  capture.Request{Method: method, URL: url, Header: reqHeader, Body: []byte(reqBody)},
		Response: capture.Response{Status: status, Header: respHeader, Body: []byte(respBody)},
	}
}

func session(es ...*capture.Exchange) *capture.Session {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for i, e := range es {
		e.Start = t0.Add(time.Duration(i) * time.Second)
	}
	return &capture.Session{ID: "s", Exchanges: es}
}

var htmlType = capture.Headers{{Name: "Content-Type", Value: "text/html; charset=utf-8"}}

func hdr(kv ...string) capture.Headers {
	var h capture.Headers
	for i := 0; i+1 < len(kv); i += 2 {
		h = append(h, capture.Header{Name: kv[i], Value: kv[i+1]})
	}
	return h
}

// ruleFor returns the rule of value v, or nil.
func ruleFor(rules []Rule, v string) *Rule {
	for i := range rules {
		if rules[i].Value == v {
			return &rules[i]
		}
	}
	return nil
}

func TestLearnCases(t *testing.T) {
	t.Parallel()
	form := hdr("Content-Type", "application/x-www-form-urlencoded")
	tests := []struct {
		name string
		s    *capture.Session
		want map[string]string // value → Describe() of its source; "" = no rule
	}{
		{
			name: "short id in Location",
			s: session(
				ex("POST", "http://a/admin/post/add/", form, "title=x", 302, hdr("Location", "/admin/post/1/change/"), ""),
				ex("GET", "http://a/admin/post/1/change/", nil, "", 200, nil, ""),
				ex("GET", "http://a/admin/post/1/history/", nil, "", 200, nil, ""),
				ex("GET", "http://a/admin/other/1/", nil, "", 200, nil, ""), // another path: not the same place
			),
			want: map[string]string{"1": "Location path segment 3 of /admin/post/*/change"},
		},
		{
			name: "short hidden field, value before name",
			s: session(
				ex("GET", "http://a/edit", nil, "", 200, htmlType, `<form><input value="5" type="hidden" name="post_ID"><input type="submit" name="save" value="Update"></form>`),
				ex("POST", "http://a/post.php?post=7", form, "post_ID=5&save=Update", 302, nil, ""),
			),
			want: map[string]string{"5": `form field "post_ID"`, "Update": ""},
		},
		{
			name: "Content-Length and Date are no sources",
			s: session(
				ex("GET", "http://a/", nil, "", 200, hdr("Content-Length", "777", "Date", "Tue, 01 Dec 2026 10:00:00 GMT", "X-Runtime", "2026"), "hello"),
				ex("GET", "http://a/articles/777?year=2026", nil, "", 200, nil, ""),
			),
			want: map[string]string{"777": "", "2026": ""},
		},
		{
			name: "JSON id into a path",
			s: session(
				ex("POST", "http://a/api/items", hdr("Content-Type", "application/json"), `{"name":"x"}`, 201, hdr("Content-Type", "application/json"), `{"id":3,"count":7,"page":1}`),
				ex("GET", "http://a/api/items/3", nil, "", 200, nil, ""),
				ex("GET", "http://a/api/items/7", nil, "", 200, nil, ""),      // a count is no id
				ex("GET", "http://a/api/items?page=1", nil, "", 200, nil, ""), // the member of the same name
			),
			want: map[string]string{"3": "JSON $.id", "7": "", "1": "JSON $.page"},
		},
		{
			name: "a short value the client sent first is not the server's",
			s: session(
				ex("GET", "http://a/list?page=2", nil, "", 200, hdr("Location", "/list?page=2"), ""),
				ex("GET", "http://a/list?page=2", nil, "", 200, nil, ""),
			),
			want: map[string]string{"2": ""},
		},
		{
			name: "meta token, any attribute order, into a header",
			s: session(
				ex("GET", "http://a/", nil, "", 200, htmlType, `<head><meta content="tok-0123456789abcdef" name="csrf-token"></head>`),
				ex("POST", "http://a/api", hdr("X-CSRF-Token", "tok-0123456789abcdef"), "", 200, nil, ""),
			),
			want: map[string]string{"tok-0123456789abcdef": "<meta[name=csrf-token]> content"},
		},
		{
			name: "link followed, short id",
			s: session(
				ex("GET", "http://a/issues", nil, "", 200, htmlType, `<a href="/issues/4">four</a> <a href="/issues/9">nine</a> <a href="/users/9">me</a>`),
				ex("GET", "http://a/issues/9", nil, "", 200, nil, ""),
			),
			want: map[string]string{"9": "link path segment 2 of /issues/* (match 2)"},
		},
		{
			name: "textarea and select filled by the server",
			s: session(
				ex("GET", "http://a/wiki/edit", nil, "", 200, htmlType, "<form><textarea name=\"text\">\nCurrent text 42</textarea><select name=\"lang\"><option value=\"en\">E</option><option value=\"de7\" selected>D</option></select></form>"),
				ex("POST", "http://a/wiki/edit", form, "text=Current+text+42&lang=de7", 302, nil, ""),
			),
			want: map[string]string{"Current text 42": `form field "text"`, "de7": `form field "lang"`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rules := Learn(tc.s)
			for v, want := range tc.want {
				r := ruleFor(rules, v)
				switch {
				case want == "" && r != nil:
					t.Errorf("%q: learned a rule from %s, uses %v", v, r.Source.Describe(), r.Uses)
				case want != "" && r == nil:
					t.Errorf("%q: no rule, want one from %s (rules: %+v)", v, want, rules)
				case want != "" && r.Source.Describe() != want:
					t.Errorf("%q: from %s, want %s", v, r.Source.Describe(), want)
				}
			}
			if tc.name == "short id in Location" {
				r := ruleFor(rules, "1")
				if r == nil || len(r.Uses) != 2 {
					t.Fatalf("uses of 1: %+v, want the change and history pages only", r)
				}
			}
		})
	}
}

// TestMultipartRewrite: a multipart form's token and short id are replaced
// in their parts, and the body stays a valid multipart body with the
// recorded boundary and a right Content-Length.
func TestMultipartRewrite(t *testing.T) {
	t.Parallel()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("authenticity_token", "Rec0rdedTokenValue==")
	_ = mw.WriteField("issue[project_id]", "1")
	fw, _ := mw.CreateFormFile("attachments[1][file]", "a.txt")
	_, _ = fw.Write([]byte("file with Rec0rdedTokenValue== inside stays"))
	_ = mw.WriteField("issue[subject]", "Printer on fire")
	_ = mw.Close()
	ct := mw.FormDataContentType()
	s := session(
		ex("GET", "http://a/projects/1/issues/new", nil, "", 200, htmlType,
			`<form enctype="multipart/form-data"><input type="hidden" name="authenticity_token" value="Rec0rdedTokenValue=="><input type="hidden" name="issue[project_id]" value="1"></form>`),
		ex("POST", "http://a/projects/1/issues", hdr("Content-Type", ct), body.String(), 302, hdr("Location", "/issues/1"), ""),
	)
	l := learnSpans(s)
	if len(l.rules) != 2 {
		t.Fatalf("rules %+v", l.rules)
	}
	sc := &Script{Rules: l.rules, Tasks: []Task{{}, {Method: "POST", Path: "/projects/1/issues", Body: s.Exchanges[1].Request.Body, Target: &Target{Host: "t"}}}}
	sc.Tasks[1].spans = l.spans[1]
	u := &user{}
	for _, r := range l.rules {
		if r.Value == "1" {
			u.slots = append(u.slots, "1042")
		} else {
			u.slots = append(u.slots, "L1ve+Token/Value==")
		}
	}
	req := string(u.build(nil, sc, &sc.Tasks[1]))
	head, got, _ := strings.Cut(req, "\r\n\r\n")
	if !strings.Contains(head, "Content-Length: "+itoaTest(len(got))) {
		t.Fatalf("Content-Length does not match the body of %d bytes:\n%s", len(got), head)
	}
	_, params, _ := mime.ParseMediaType(ct)
	mr := multipart.NewReader(strings.NewReader(got), params["boundary"])
	fields := map[string]string{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("rebuilt body is not multipart: %v\n%s", err, got)
		}
		b, _ := io.ReadAll(p)
		fields[p.FormName()] = string(b)
	}
	want := map[string]string{
		"authenticity_token":   "L1ve+Token/Value==",
		"issue[project_id]":    "1042",
		"attachments[1][file]": "file with Rec0rdedTokenValue== inside stays",
		"issue[subject]":       "Printer on fire",
	}
	for k, v := range want {
		if fields[k] != v {
			t.Errorf("part %s = %q, want %q", k, fields[k], v)
		}
	}
}

func itoaTest(n int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
		if n == 0 {
			return string(b)
		}
	}
}

// TestMissingLiveValueFails: when a live response lacks an id or token the
// recording's had and later requests need, the task fails as "differs"
// instead of the later requests silently sending the recorded value. A
// form field the live page lacks is left to the form's post to show.
func TestMissingLiveValueFails(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, `<form><input type="hidden" name="other" value="x"></form>`) // no X-Item-Id, no token
	}))
	defer srv.Close()
	rec := &capture.Recording{Sessions: []*capture.Session{session(
		ex("GET", srv.URL+"/form", nil, "", 200, hdr("Content-Type", "text/html", "X-Item-Id", "7"), `<form><input type="hidden" name="token" value="7"></form>`),
		ex("POST", srv.URL+"/form", hdr("Content-Type", "application/x-www-form-urlencoded", "X-Item-Id", "7"), "token=7", 200, nil, ""),
	)}}
	cfg := fastConfig(srv.URL)
	cfg.Users, cfg.Iterations = 2, 2
	res, p := runReplay(t, rec, cfg)
	want := `differs: no header X-Item-Id in the response`
	found := false
	for _, e := range res.Errors {
		if e.Method == "GET" && e.Reason == want && e.Count == 2 {
			found = true
		}
		if strings.Contains(e.Reason, "form field") {
			t.Errorf("a missing form field failed the page: %s", e.Reason)
		}
	}
	if !found {
		t.Fatalf("failures %s, want GET /form: %s ×2", describeFailures(res), want)
	}
	for _, c := range p.RuleCounts() {
		if c.Found != 0 || c.Missed != 2 {
			t.Errorf("rule %s: found %d, missed %d; want 0 and 2 (the warning at the end)", c.Rule.Name, c.Found, c.Missed)
		}
	}
}

// TestCompressedPages: tokens are found in br, zstd and gzip pages, recorded
// and live, as browsers ask for them.
func TestCompressedPages(t *testing.T) {
	t.Parallel()
	compress := map[string]func(string) []byte{
		"br": func(s string) []byte {
			var b bytes.Buffer
			w := brotli.NewWriter(&b)
			_, _ = io.WriteString(w, s)
			_ = w.Close()
			return b.Bytes()
		},
		"zstd": func(s string) []byte {
			w, _ := zstd.NewWriter(nil)
			return w.EncodeAll([]byte(s), nil)
		},
		"gzip": func(s string) []byte {
			var b bytes.Buffer
			w := gzip.NewWriter(&b)
			_, _ = io.WriteString(w, s)
			_ = w.Close()
			return b.Bytes()
		},
	}
	form := func(tok string) string {
		return `<html><head><title>Log in</title></head><form method="post"><input type="hidden" name="csrf" value="` + tok + `"></form></html>`
	}
	for enc, z := range compress {
		t.Run(enc, func(t *testing.T) {
			var mu sync.Mutex
			issued := map[string]bool{}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == "POST" {
					_ = r.ParseForm()
					mu.Lock()
					ok := issued[r.PostForm.Get("csrf")]
					mu.Unlock()
					if !ok {
						http.Error(w, "bad token", http.StatusForbidden)
					}
					return
				}
				tok := randHex(16)
				mu.Lock()
				issued[tok] = true
				mu.Unlock()
				w.Header().Set("Content-Type", "text/html")
				w.Header().Set("Content-Encoding", enc)
				_, _ = w.Write(z(form(tok)))
			}))
			defer srv.Close()
			rec := &capture.Recording{Sessions: []*capture.Session{session(
				ex("GET", srv.URL+"/login", hdr("Accept-Encoding", "gzip, deflate, br, zstd"), "", 200,
					hdr("Content-Type", "text/html", "Content-Encoding", enc), string(z(form("0123456789abcdef0123")))),
				ex("POST", srv.URL+"/login", hdr("Content-Type", "application/x-www-form-urlencoded"), "csrf=0123456789abcdef0123", 200, nil, ""),
			)}}
			if r := ruleFor(Learn(rec.Sessions[0]), "0123456789abcdef0123"); r == nil || r.Source.Kind != SourceField {
				t.Fatalf("token not learned from a %s page: %+v", enc, r)
			}
			cfg := fastConfig(srv.URL)
			cfg.Users, cfg.Iterations = 3, 3
			res, _ := runReplay(t, rec, cfg)
			if res.Failures != 0 {
				t.Fatalf("%d failures: %s", res.Failures, describeFailures(res))
			}
		})
	}
}
