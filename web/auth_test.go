package web_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/ampload/amp/web"
)

// TestTokenRequired: with a Token, every path answers 401 without it; the
// token works as ?token= (setting the cookie the page then uses), as the
// cookie, and as a Bearer header (issue 13: an open load controller).
func TestTokenRequired(t *testing.T) {
	t.Parallel()
	const token = "s3cret-token"
	_, srv, _ := newTestServer(t, func(c *web.Config) { c.Token = token })
	get := func(client *http.Client, path string, hdr http.Header) int {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		for k, v := range hdr {
			req.Header[k] = v
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	plain := &http.Client{}
	for _, p := range []string{"/", "/api/state", "/stats/requests", "/stop", "/?token=wrong"} {
		if code := get(plain, p, nil); code != http.StatusUnauthorized {
			t.Errorf("GET %s without the token: %d, want 401", p, code)
		}
	}
	resp, err := http.PostForm(srv.URL+"/swarm", url.Values{"user_count": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST /swarm without the token: %d, want 401", resp.StatusCode)
	}
	if code := get(plain, "/api/state", http.Header{"Authorization": {"Bearer " + token}}); code != 200 {
		t.Errorf("Bearer token: %d", code)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	if code := get(browser, "/?token="+token, nil); code != 200 {
		t.Fatalf("?token=: %d", code)
	}
	if code := get(browser, "/api/state", nil); code != 200 {
		t.Errorf("the cookie set by ?token= does not work: %d", code)
	}
}

// TestStartOnlyToCommandLineHosts: a start naming a host the command line
// did not give is refused; the default host and Config.Hosts are allowed.
func TestStartOnlyToCommandLineHosts(t *testing.T) {
	t.Parallel()
	s, srv, demo := newTestServer(t, func(c *web.Config) { c.Hosts = []string{"http://127.0.0.1:1"} })
	code, rep := postForm(t, srv.URL, "/swarm", url.Values{"host": {"http://attacked.example"}, "user_count": {"1"}})
	if msg, _ := rep["message"].(string); code != http.StatusBadRequest || !strings.Contains(msg, "not a target given on the command line") {
		t.Fatalf("start against another host: %d %v", code, rep)
	}
	if s.Result() != nil {
		t.Fatal("a refused start left a run behind")
	}
	code, rep = postForm(t, srv.URL, "/swarm", url.Values{"host": {demo + "/"}, "user_count": {"1"}, "run_time": {"1"}})
	if code != http.StatusOK {
		t.Fatalf("start against the command line's host: %d %v", code, rep)
	}
	s.Stop()
}
