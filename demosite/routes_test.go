package demosite_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const (
	htmlType = "text/html; charset=utf-8"
	jsonType = "application/json"
	// unknownID is a well-formed article id that no server has.
	unknownID = "0123456789abcdef"
)

func TestRoutes(t *testing.T) {
	t.Parallel()
	srv, _ := newTestServer(t, fastConfig())
	form := "application/x-www-form-urlencoded"
	tests := []struct {
		name         string
		method, path string
		contentType  string // of the request body
		body         string
		wantStatus   int
		wantType     string // Content-Type prefix of the response; "" to skip
		wantBody     string // substring of the response body; "" to skip
		wantHeader   map[string]string
	}{
		{name: "home", method: "GET", path: "/", wantStatus: 200, wantType: htmlType, wantBody: "This page has been visited"},
		{name: "home links and assets", method: "GET", path: "/", wantStatus: 200, wantBody: `href="/static/style.css"`},
		{name: "home head", method: "HEAD", path: "/", wantStatus: 200, wantType: htmlType},
		{name: "healthz", method: "GET", path: "/healthz", wantStatus: 200, wantType: "text/plain", wantBody: "ok"},
		{name: "healthz wrong method", method: "POST", path: "/healthz", wantStatus: 405, wantHeader: map[string]string{"Allow": "GET, HEAD"}},
		{name: "login form", method: "GET", path: "/login", wantStatus: 200, wantType: htmlType, wantBody: `name="csrf_token"`},
		// No session cookie: there is no token to check against.
		{name: "login without session", method: "POST", path: "/login", contentType: form, body: "csrf_token=x&username=a&password=b", wantStatus: 403, wantType: htmlType},
		{name: "logout without session", method: "POST", path: "/logout", contentType: form, body: "csrf_token=x", wantStatus: 403},
		{name: "article list", method: "GET", path: "/articles", wantStatus: 200, wantType: htmlType, wantBody: "Welcome to the amp demo"},
		{name: "new article anonymous", method: "GET", path: "/articles/new", wantStatus: 303, wantHeader: map[string]string{"Location": "/login"}},
		{name: "create article anonymous", method: "POST", path: "/articles", contentType: form, body: "csrf_token=x&title=t", wantStatus: 403},
		{name: "unknown article", method: "GET", path: "/articles/" + unknownID, wantStatus: 404, wantType: htmlType},
		{name: "unknown article api", method: "GET", path: "/api/articles/" + unknownID, wantStatus: 404, wantType: jsonType, wantBody: `"error"`},
		{name: "comment anonymous", method: "POST", path: "/api/articles/" + unknownID + "/comments", contentType: jsonType, body: `{"text":"hi"}`, wantStatus: 403, wantType: jsonType},
		{name: "style", method: "GET", path: "/static/style.css", wantStatus: 200, wantType: "text/css; charset=utf-8"},
		{name: "script", method: "GET", path: "/static/app.js", wantStatus: 200, wantType: "text/javascript; charset=utf-8", wantBody: "X-CSRF-Token"},
		{name: "logo", method: "GET", path: "/static/logo.svg", wantStatus: 200, wantType: "image/svg+xml", wantBody: "<svg"},
		{name: "unknown asset", method: "GET", path: "/static/missing.css", wantStatus: 404},
		{name: "unknown path", method: "GET", path: "/nope", wantStatus: 404},
		{name: "home wrong method", method: "DELETE", path: "/", wantStatus: 405},
		{name: "articles wrong method", method: "PUT", path: "/articles", wantStatus: 405},
		{name: "article wrong method", method: "POST", path: "/articles/" + unknownID, wantStatus: 405},
		{name: "api wrong method", method: "DELETE", path: "/api/articles/" + unknownID, wantStatus: 405},
		{name: "comments wrong method", method: "GET", path: "/api/articles/" + unknownID + "/comments", wantStatus: 405},
		{name: "logout wrong method", method: "GET", path: "/logout", wantStatus: 405},
		{name: "static wrong method", method: "POST", path: "/static/style.css", wantStatus: 405},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp := newTestUser(t, srv).do(tc.method, tc.path, tc.contentType, tc.body, nil)
			expectStatus(t, resp, tc.wantStatus)
			if got := resp.header.Get("Content-Type"); !strings.HasPrefix(got, tc.wantType) {
				t.Errorf("Content-Type = %q, want %q", got, tc.wantType)
			}
			if !strings.Contains(resp.body, tc.wantBody) {
				t.Errorf("body does not contain %q:\n%s", tc.wantBody, resp.body)
			}
			for k, want := range tc.wantHeader {
				if got := resp.header.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if tc.wantStatus == http.StatusMethodNotAllowed && resp.header.Get("Allow") == "" {
				t.Error("405 without an Allow header")
			}
		})
	}
}

func TestVisitCounter(t *testing.T) {
	t.Parallel()
	srv, site := newTestServer(t, fastConfig())
	u := newTestUser(t, srv)
	for i := 1; i <= 3; i++ {
		resp := u.get("/")
		want := fmt.Sprintf("This page has been visited %d times.", i)
		if !strings.Contains(resp.body, want) {
			t.Fatalf("visit %d: body does not contain %q:\n%s", i, want, resp.body)
		}
	}
	u.get("/healthz") // neither a visit nor a counted request
	u.get("/articles")
	st := site.Stats()
	if st.Visits != 3 || st.Requests != 4 {
		t.Errorf("Visits, Requests = %d, %d; want 3, 4", st.Visits, st.Requests)
	}
}

func TestLoginSetsSessionCookie(t *testing.T) {
	t.Parallel()
	srv, site := newTestServer(t, fastConfig())
	u := newTestUser(t, srv)
	resp := u.get("/login")
	setCookie := resp.header.Get("Set-Cookie")
	for _, want := range []string{"session=", "Path=/", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(setCookie, want) {
			t.Errorf("Set-Cookie %q lacks %q", setCookie, want)
		}
	}
	token := formToken(t, resp)
	// A second visit keeps the session and its token.
	resp = u.get("/login")
	if resp.header.Get("Set-Cookie") != "" {
		t.Errorf("second GET /login set a cookie again: %q", resp.header.Get("Set-Cookie"))
	}
	if got := formToken(t, resp); got != token {
		t.Errorf("token changed from %q to %q without login", token, got)
	}
	// Pages of a request with a session carry the token too.
	if got := metaToken(t, u.get("/")); got != token {
		t.Errorf("home page token = %q, want %q", got, token)
	}
	if n := site.Stats().Sessions; n != 1 {
		t.Errorf("Sessions = %d, want 1", n)
	}
}

func TestStaticConditional(t *testing.T) {
	t.Parallel()
	srv, _ := newTestServer(t, fastConfig())
	u := newTestUser(t, srv)
	first := u.get("/static/style.css")
	expectStatus(t, first, http.StatusOK)
	etag, modified := first.header.Get("ETag"), first.header.Get("Last-Modified")
	if etag == "" || modified == "" || !strings.Contains(first.header.Get("Cache-Control"), "max-age=") {
		t.Fatalf("missing caching headers: %v", first.header)
	}
	tests := []struct {
		name   string
		header map[string]string
		want   int
	}{
		{name: "matching etag", header: map[string]string{"If-None-Match": etag}, want: http.StatusNotModified},
		{name: "other etag", header: map[string]string{"If-None-Match": `"other"`}, want: http.StatusOK},
		{name: "not modified since", header: map[string]string{"If-Modified-Since": modified}, want: http.StatusNotModified},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp := newTestUser(t, srv).do(http.MethodGet, "/static/style.css", "", "", tc.header)
			expectStatus(t, resp, tc.want)
		})
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	srv, _ := newTestServer(t, fastConfig())
	tests := []struct {
		name       string
		loggedIn   bool
		send       func(u *testUser, token string) response
		wantStatus int
		wantBody   string
	}{
		{
			name: "empty user name",
			send: func(u *testUser, token string) response {
				return u.postForm("/login", url.Values{"csrf_token": {token}, "username": {" "}, "password": {"p"}})
			},
			wantStatus: 400, wantBody: "Please enter a user name",
		},
		{
			name: "empty password",
			send: func(u *testUser, token string) response {
				return u.postForm("/login", url.Values{"csrf_token": {token}, "username": {"ann"}})
			},
			wantStatus: 400, wantBody: `value="ann"`,
		},
		{
			name: "user name too long",
			send: func(u *testUser, token string) response {
				return u.postForm("/login", url.Values{"csrf_token": {token}, "username": {strings.Repeat("a", 65)}, "password": {"p"}})
			},
			wantStatus: 400,
		},
		{
			name: "form too large",
			send: func(u *testUser, token string) response {
				return u.postForm("/login", url.Values{"csrf_token": {token}, "username": {strings.Repeat("a", 70<<10)}, "password": {"p"}})
			},
			wantStatus: 413,
		},
		{
			name: "empty title", loggedIn: true,
			send: func(u *testUser, token string) response {
				return u.postForm("/articles", url.Values{"csrf_token": {token}, "title": {""}, "body": {"kept"}})
			},
			wantStatus: 400, wantBody: "kept",
		},
		{
			name: "comment not JSON", loggedIn: true,
			send: func(u *testUser, token string) response {
				id := u.createArticle(token, "t", "b")
				return u.do(http.MethodPost, "/api/articles/"+id+"/comments", "application/json", "text=hi", map[string]string{"X-CSRF-Token": token})
			},
			wantStatus: 400, wantBody: `"error"`,
		},
		{
			name: "empty comment", loggedIn: true,
			send: func(u *testUser, token string) response {
				return u.postComment(u.createArticle(token, "t", "b"), "  ", token)
			},
			wantStatus: 400,
		},
		{
			name: "comment on unknown article", loggedIn: true,
			send: func(u *testUser, token string) response {
				return u.postComment(unknownID, "hi", token)
			},
			wantStatus: 404, wantBody: `"error"`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := newTestUser(t, srv)
			var token string
			if tc.loggedIn {
				_, token = u.login("ann")
			} else {
				token = formToken(t, u.get("/login"))
			}
			before := u.sessionID()
			resp := tc.send(u, token)
			expectStatus(t, resp, tc.wantStatus)
			if !strings.Contains(resp.body, tc.wantBody) {
				t.Errorf("body does not contain %q:\n%s", tc.wantBody, resp.body)
			}
			if u.sessionID() != before {
				t.Error("a rejected request changed the session")
			}
		})
	}
}
