package demosite_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/ampload/amp/demosite"
)

// fastConfig returns a Config without delays, errors or capacity limit.
func fastConfig() demosite.Config {
	return demosite.Config{}
}

// newTestServer starts a loopback server for a new Site configured by cfg.
func newTestServer(t *testing.T, cfg demosite.Config) (*httptest.Server, *demosite.Site) {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	site := demosite.New(cfg)
	srv := httptest.NewServer(site)
	t.Cleanup(srv.Close)
	return srv, site
}

// response is what a test needs of an HTTP response.
type response struct {
	status int
	header http.Header
	body   string
}

// testUser is a scripted browser: a client with its own cookie jar that does not follow redirects.
type testUser struct {
	t      *testing.T
	base   *url.URL
	client *http.Client
}

func newTestUser(t *testing.T, srv *httptest.Server) *testUser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	base, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return &testUser{t: t, base: base, client: &http.Client{
		Jar:           jar,
		Transport:     srv.Client().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends a request; header holds extra request headers.
func (u *testUser) do(method, path, contentType, body string, header map[string]string) response {
	u.t.Helper()
	req, err := http.NewRequestWithContext(u.t.Context(), method, u.base.String()+path, strings.NewReader(body))
	if err != nil {
		u.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := u.client.Do(req)
	if err != nil {
		u.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		u.t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (u *testUser) get(path string) response {
	u.t.Helper()
	return u.do(http.MethodGet, path, "", "", nil)
}

func (u *testUser) postForm(path string, form url.Values) response {
	u.t.Helper()
	return u.do(http.MethodPost, path, "application/x-www-form-urlencoded", form.Encode(), nil)
}

// postComment posts a comment through the JSON API with token as X-CSRF-Token (none if empty).
func (u *testUser) postComment(articleID, text, token string) response {
	u.t.Helper()
	body, err := json.Marshal(map[string]string{"text": text})
	if err != nil {
		u.t.Fatal(err)
	}
	header := map[string]string{}
	if token != "" {
		header["X-CSRF-Token"] = token
	}
	return u.do(http.MethodPost, "/api/articles/"+articleID+"/comments", "application/json", string(body), header)
}

// sessionID returns the value of the session cookie in the jar, or "".
func (u *testUser) sessionID() string {
	for _, c := range u.client.Jar.Cookies(u.base) {
		if c.Name == demosite.SessionCookie {
			return c.Value
		}
	}
	return ""
}

// login logs in as name and returns the CSRF tokens before and after the login.
func (u *testUser) login(name string) (before, after string) {
	u.t.Helper()
	before = formToken(u.t, u.get("/login"))
	resp := u.postForm("/login", url.Values{"csrf_token": {before}, "username": {name}, "password": {"secret"}})
	expectStatus(u.t, resp, http.StatusSeeOther)
	after = metaToken(u.t, u.get("/articles/new"))
	return before, after
}

// createArticle posts an article with a valid token and returns its id.
func (u *testUser) createArticle(token, title, body string) string {
	u.t.Helper()
	resp := u.postForm("/articles", url.Values{"csrf_token": {token}, "title": {title}, "body": {body}})
	expectStatus(u.t, resp, http.StatusSeeOther)
	id, ok := strings.CutPrefix(resp.header.Get("Location"), "/articles/")
	if !ok || !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(id) {
		u.t.Fatalf("Location = %q, want /articles/<16 hex digits>", resp.header.Get("Location"))
	}
	return id
}

// apiArticle reads an article through the JSON API.
func (u *testUser) apiArticle(id string) demosite.Article {
	u.t.Helper()
	resp := u.get("/api/articles/" + id)
	expectStatus(u.t, resp, http.StatusOK)
	var a demosite.Article
	if err := json.Unmarshal([]byte(resp.body), &a); err != nil {
		u.t.Fatalf("decoding %s: %v", resp.body, err)
	}
	return a
}

func expectStatus(t *testing.T, resp response, want int) {
	t.Helper()
	if resp.status != want {
		t.Fatalf("status = %d, want %d; body:\n%s", resp.status, want, resp.body)
	}
}

var (
	metaTokenRE = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)
	formTokenRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
)

// metaToken returns the CSRF token of the page's csrf-token meta tag.
func metaToken(t *testing.T, resp response) string {
	t.Helper()
	expectStatus(t, resp, http.StatusOK)
	m := metaTokenRE.FindStringSubmatch(resp.body)
	if m == nil {
		t.Fatalf("no csrf-token meta tag in:\n%s", resp.body)
	}
	return m[1]
}

// formToken returns the page's csrf_token form field, checking it equals the meta tag.
func formToken(t *testing.T, resp response) string {
	t.Helper()
	meta := metaToken(t, resp)
	m := formTokenRE.FindStringSubmatch(resp.body)
	if m == nil {
		t.Fatalf("no csrf_token field in:\n%s", resp.body)
	}
	if m[1] != meta {
		t.Fatalf("form token %q differs from meta token %q", m[1], meta)
	}
	return m[1]
}
