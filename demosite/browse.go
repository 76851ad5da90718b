package demosite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Visit is what one scripted visit of the site did.
type Visit struct {
	// Requests is the number of requests sent, redirects included.
	Requests int
	// ArticleID is the id of the article the visit wrote.
	ArticleID string
}

// Browse plays one scripted user on the site at base ("http://host:port")
// with client, the way a person in a browser would: open the home page and
// its style sheet, log in, open the article form, write an article, read it,
// read it through the JSON API, comment on it, and open the visit counter
// page, pausing between pages. The client's Transport decides the route (a
// recording proxy, say); Browse gives it a cookie jar of its own if it has
// none and follows redirects. It stops at the first unexpected answer.
func Browse(ctx context.Context, client *http.Client, base string, pause time.Duration) (Visit, error) {
	var v Visit
	c := *client
	if c.Jar == nil {
		jar, err := cookiejar.New(nil)
		if err != nil {
			return v, err
		}
		c.Jar = jar
	}
	base = strings.TrimRight(base, "/")
	do := func(method, path, contentType string, body io.Reader, header http.Header, want int) (*http.Response, string, error) {
		req, err := http.NewRequestWithContext(ctx, method, base+path, body)
		if err != nil {
			return nil, "", err
		}
		for k, vs := range header {
			req.Header[k] = vs
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		req.Header.Set("User-Agent", "amp-demo-user/1.0 (scripted browser)")
		req.Header.Set("Accept-Language", "en")
		resp, err := c.Do(req)
		if err != nil {
			return nil, "", err
		}
		defer resp.Body.Close()
		for r := resp.Request; r != nil; r = redirectedFrom(r) {
			v.Requests++
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			return nil, "", err
		}
		if resp.StatusCode != want {
			return nil, "", fmt.Errorf("demosite: %s %s: status %d, want %d", method, path, resp.StatusCode, want)
		}
		return resp, string(b), nil
	}
	wait := func() error {
		if pause <= 0 {
			return ctx.Err()
		}
		t := time.NewTimer(pause)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	form := func(path string, vals url.Values) (*http.Response, string, error) {
		return do("POST", path, "application/x-www-form-urlencoded", strings.NewReader(vals.Encode()), nil, http.StatusOK)
	}

	steps := []func() error{
		func() error {
			if _, _, err := do("GET", "/", "", nil, nil, 200); err != nil {
				return err
			}
			_, _, err := do("GET", "/static/style.css", "", nil, nil, 200)
			return err
		},
		func() error {
			_, page, err := do("GET", "/login", "", nil, nil, 200)
			if err != nil {
				return err
			}
			tok, err := find(csrfField, page, "login form")
			if err != nil {
				return err
			}
			_, _, err = form("/login", url.Values{"username": {"ada"}, "password": {"lovelace"}, "csrf_token": {tok}})
			return err
		},
		func() error {
			_, page, err := do("GET", "/articles/new", "", nil, nil, 200)
			if err != nil {
				return err
			}
			tok, err := find(csrfField, page, "article form")
			if err != nil {
				return err
			}
			resp, _, err := form("/articles", url.Values{
				"title": {"Notes on the Analytical Engine"}, "body": {"It might act upon other things besides number."}, "csrf_token": {tok}})
			if err != nil {
				return err
			}
			v.ArticleID = strings.TrimPrefix(resp.Request.URL.Path, "/articles/")
			if v.ArticleID == "" || strings.Contains(v.ArticleID, "/") {
				return fmt.Errorf("demosite: creating an article led to %s", resp.Request.URL.Path)
			}
			return nil
		},
		func() error {
			_, page, err := do("GET", "/articles/"+v.ArticleID, "", nil, nil, 200)
			if err != nil {
				return err
			}
			tok, err := find(csrfMetaTag, page, "article page")
			if err != nil {
				return err
			}
			if _, _, err := do("GET", "/api/articles/"+v.ArticleID, "", nil, nil, 200); err != nil {
				return err
			}
			h := http.Header{"X-Csrf-Token": {tok}, "Accept": {"application/json"}}
			_, _, err = do("POST", "/api/articles/"+v.ArticleID+"/comments", "application/json",
				strings.NewReader(`{"text":"The engine weaves algebraic patterns."}`), h, http.StatusCreated)
			return err
		},
		func() error {
			_, _, err := do("GET", "/", "", nil, nil, 200)
			return err
		},
	}
	for i, step := range steps {
		if i > 0 {
			if err := wait(); err != nil {
				return v, err
			}
		}
		if err := step(); err != nil {
			return v, err
		}
	}
	return v, nil
}

// redirectedFrom returns the request that led to r by a redirect, or nil.
func redirectedFrom(r *http.Request) *http.Request {
	if r.Response == nil {
		return nil
	}
	return r.Response.Request
}

var (
	csrfField   = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	csrfMetaTag = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)"`)
)

func find(re *regexp.Regexp, page, where string) (string, error) {
	m := re.FindStringSubmatch(page)
	if m == nil {
		return "", errors.New("demosite: no CSRF token on the " + where)
	}
	return m[1], nil
}
