package demosite_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ampload/amp/demosite"
)

func TestBlogFlow(t *testing.T) {
	t.Parallel()
	srv, site := newTestServer(t, fastConfig())
	u := newTestUser(t, srv)
	start := site.Stats()

	// Log in: the session id and the CSRF token rotate.
	loginToken := formToken(t, u.get("/login"))
	anonID := u.sessionID()
	if anonID == "" {
		t.Fatal("GET /login set no session cookie")
	}
	resp := u.postForm("/login", url.Values{"csrf_token": {loginToken}, "username": {"ann"}, "password": {"pw"}})
	expectStatus(t, resp, http.StatusSeeOther)
	if loc := resp.header.Get("Location"); loc != "/articles" {
		t.Fatalf("login redirects to %q, want /articles", loc)
	}
	if id := u.sessionID(); id == "" || id == anonID {
		t.Fatalf("session id %q after login, want a new one (was %q)", id, anonID)
	}
	if !strings.Contains(u.get("/articles").body, "Signed in as ann") {
		t.Error("article list does not show the logged-in user")
	}

	// Write an article and read it back.
	token := formToken(t, u.get("/articles/new"))
	if token == loginToken {
		t.Fatal("CSRF token did not rotate at login")
	}
	id := u.createArticle(token, "Load <testing>", "with amp")
	page := u.get("/articles/" + id)
	expectStatus(t, page, http.StatusOK)
	if !strings.Contains(page.body, "Load &lt;testing&gt;") {
		t.Errorf("article page lacks the escaped title:\n%s", page.body)
	}
	if got := metaToken(t, page); got != token {
		t.Errorf("article page token = %q, want %q", got, token)
	}
	if !strings.Contains(u.get("/articles").body, `href="/articles/`+id+`"`) {
		t.Error("article list does not link the new article")
	}
	a := u.apiArticle(id)
	want := demosite.Article{ID: id, Title: "Load <testing>", Body: "with amp", Author: "ann", Comments: []demosite.Comment{}}
	if fmt.Sprint(a) != fmt.Sprint(want) || a.Comments == nil {
		t.Errorf("API article = %+v, want %+v", a, want)
	}

	// Comment through the API with the token of the meta tag.
	resp = u.postComment(id, "nice", metaToken(t, page))
	expectStatus(t, resp, http.StatusCreated)
	if ct := resp.header.Get("Content-Type"); ct != jsonType {
		t.Errorf("comment Content-Type = %q", ct)
	}
	a = u.apiArticle(id)
	if len(a.Comments) != 1 || a.Comments[0].Text != "nice" || a.Comments[0].Author != "ann" || len(a.Comments[0].ID) != 16 {
		t.Errorf("comments = %+v, want one by ann saying nice", a.Comments)
	}
	if !strings.Contains(resp.body, a.Comments[0].ID) {
		t.Errorf("201 body %s lacks the comment id %s", resp.body, a.Comments[0].ID)
	}
	if !strings.Contains(u.get("/articles/"+id).body, "nice") {
		t.Error("article page does not show the comment")
	}

	// Log out: the cookie is cleared and the session is gone.
	sessionID := u.sessionID()
	resp = u.postForm("/logout", url.Values{"csrf_token": {token}})
	expectStatus(t, resp, http.StatusSeeOther)
	if loc := resp.header.Get("Location"); loc != "/" {
		t.Errorf("logout redirects to %q, want /", loc)
	}
	if u.sessionID() != "" {
		t.Error("session cookie survived logout")
	}
	stale := u.do(http.MethodGet, "/articles/new", "", "", map[string]string{"Cookie": demosite.SessionCookie + "=" + sessionID})
	expectStatus(t, stale, http.StatusSeeOther)

	end := site.Stats()
	if end.Articles-start.Articles != 1 || end.Comments-start.Comments != 1 || end.Sessions != 0 {
		t.Errorf("stats %+v after the flow (start %+v): want 1 article, 1 comment, 0 sessions", end, start)
	}
}

// TestStaleCredentials sends requests with the values a naive replay would send: recorded (stale) tokens and cookies.
func TestStaleCredentials(t *testing.T) {
	t.Parallel()
	srv, _ := newTestServer(t, fastConfig())
	seed := newTestUser(t, srv)
	_, seedToken := seed.login("seed")
	articleID := seed.createArticle(seedToken, "t", "b")

	// state is what a row's user has when its step runs.
	type state struct {
		u                *testUser
		oldToken, token  string // before and after login
		oldID, sessionID string // before and after login
	}
	tests := []struct {
		name       string
		loggedIn   bool
		step       func(s state) response
		wantStatus int
	}{
		{
			name: "login with made-up token",
			step: func(s state) response {
				return s.u.postForm("/login", url.Values{"csrf_token": {"made-up"}, "username": {"a"}, "password": {"b"}})
			},
			wantStatus: 403,
		},
		{
			name: "login without token",
			step: func(s state) response {
				return s.u.postForm("/login", url.Values{"username": {"a"}, "password": {"b"}})
			},
			wantStatus: 403,
		},
		{
			name: "login with another session's token",
			step: func(s state) response {
				return s.u.postForm("/login", url.Values{"csrf_token": {seedToken}, "username": {"a"}, "password": {"b"}})
			},
			wantStatus: 403,
		},
		{
			name: "article with pre-login token", loggedIn: true,
			step: func(s state) response {
				return s.u.postForm("/articles", url.Values{"csrf_token": {s.oldToken}, "title": {"t"}})
			},
			wantStatus: 403,
		},
		{
			name: "article with old session id", loggedIn: true,
			step: func(s state) response {
				return s.u.do(http.MethodPost, "/articles", "application/x-www-form-urlencoded", url.Values{"csrf_token": {s.token}, "title": {"t"}}.Encode(),
					map[string]string{"Cookie": demosite.SessionCookie + "=" + s.oldID})
			},
			wantStatus: 403,
		},
		{
			name: "article form with old session id", loggedIn: true,
			step: func(s state) response {
				return s.u.do(http.MethodGet, "/articles/new", "", "", map[string]string{"Cookie": demosite.SessionCookie + "=" + s.oldID})
			},
			wantStatus: 303,
		},
		{
			name: "comment with pre-login token", loggedIn: true,
			step:       func(s state) response { return s.u.postComment(articleID, "hi", s.oldToken) },
			wantStatus: 403,
		},
		{
			name: "comment without token", loggedIn: true,
			step:       func(s state) response { return s.u.postComment(articleID, "hi", "") },
			wantStatus: 403,
		},
		{
			name:       "comment while anonymous",
			step:       func(s state) response { return s.u.postComment(articleID, "hi", s.token) },
			wantStatus: 403,
		},
		{
			name: "logout with pre-login token", loggedIn: true,
			step: func(s state) response {
				return s.u.postForm("/logout", url.Values{"csrf_token": {s.oldToken}})
			},
			wantStatus: 403,
		},
		{
			name: "article after logout", loggedIn: true,
			step: func(s state) response {
				expectStatus(s.u.t, s.u.postForm("/logout", url.Values{"csrf_token": {s.token}}), http.StatusSeeOther)
				return s.u.do(http.MethodPost, "/articles", "application/x-www-form-urlencoded", url.Values{"csrf_token": {s.token}, "title": {"t"}}.Encode(),
					map[string]string{"Cookie": demosite.SessionCookie + "=" + s.sessionID})
			},
			wantStatus: 403,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := state{u: newTestUser(t, srv)}
			s.oldToken = formToken(t, s.u.get("/login"))
			s.oldID, s.token, s.sessionID = s.u.sessionID(), s.oldToken, s.u.sessionID()
			if tc.loggedIn {
				_, s.token = s.u.login("ann")
				s.sessionID = s.u.sessionID()
			}
			expectStatus(t, tc.step(s), tc.wantStatus)
		})
	}
}

// TestReplayedIDs sends ids recorded on one server to another instance.
func TestReplayedIDs(t *testing.T) {
	t.Parallel()
	recorded, _ := newTestServer(t, fastConfig())
	rec := newTestUser(t, recorded)
	_, token := rec.login("ann")
	id := rec.createArticle(token, "recorded", "b")
	expectStatus(t, rec.postComment(id, "hi", token), http.StatusCreated)

	live, _ := newTestServer(t, fastConfig())
	u := newTestUser(t, live)
	_, liveToken := u.login("ann")
	expectStatus(t, u.get("/articles/"+id), http.StatusNotFound)
	expectStatus(t, u.get("/api/articles/"+id), http.StatusNotFound)
	expectStatus(t, u.postComment(id, "hi", liveToken), http.StatusNotFound)
	// The recorded token is worthless on the live server.
	expectStatus(t, u.postForm("/articles", url.Values{"csrf_token": {token}, "title": {"t"}}), http.StatusForbidden)
}

func TestCommentCap(t *testing.T) {
	t.Parallel()
	srv, site := newTestServer(t, fastConfig())
	u := newTestUser(t, srv)
	_, token := u.login("ann")
	id := u.createArticle(token, "busy", "b")
	const extra = 3
	for i := range demosite.MaxCommentsPerArticle + extra {
		expectStatus(t, u.postComment(id, fmt.Sprint("c", i), token), http.StatusCreated)
	}
	a := u.apiArticle(id)
	if len(a.Comments) != demosite.MaxCommentsPerArticle {
		t.Fatalf("%d comments kept, want %d", len(a.Comments), demosite.MaxCommentsPerArticle)
	}
	if first, last := a.Comments[0].Text, a.Comments[len(a.Comments)-1].Text; first != fmt.Sprint("c", extra) || last != fmt.Sprint("c", demosite.MaxCommentsPerArticle+extra-1) {
		t.Errorf("comments run from %q to %q; want the oldest dropped", first, last)
	}
	if n := site.Stats().Comments; n != demosite.MaxCommentsPerArticle {
		t.Errorf("Stats.Comments = %d, want %d", n, demosite.MaxCommentsPerArticle)
	}
}

// TestConcurrentUsers runs many users through the blog at once; run with -race.
func TestConcurrentUsers(t *testing.T) {
	t.Parallel()
	srv, site := newTestServer(t, demosite.Config{Capacity: 4, Jitter: 1e6, Seed: 1})
	shared := newTestUser(t, srv)
	_, token := shared.login("host")
	sharedID := shared.createArticle(token, "shared", "everyone comments here")
	start := site.Stats()

	const users = 24
	// The parallel subtests of "users" all finish before t.Run returns.
	t.Run("users", func(t *testing.T) {
		for i := range users {
			t.Run(fmt.Sprint("user", i), func(t *testing.T) {
				t.Parallel()
				u := newTestUser(t, srv)
				_, token := u.login(fmt.Sprint("user", i))
				id := u.createArticle(token, fmt.Sprint("title ", i), "body")
				expectStatus(t, u.postComment(id, "own", token), http.StatusCreated)
				expectStatus(t, u.postComment(sharedID, "shared", token), http.StatusCreated)
				expectStatus(t, u.get("/"), http.StatusOK)
				expectStatus(t, u.get("/articles"), http.StatusOK)
				if a := u.apiArticle(id); a.Author != fmt.Sprint("user", i) {
					t.Errorf("author %q", a.Author)
				}
			})
		}
	})
	st := site.Stats()
	if got := st.Articles - start.Articles; got != users {
		t.Errorf("%d articles created, want %d", got, users)
	}
	if got := st.Comments - start.Comments; got != 2*users {
		t.Errorf("%d comments created, want %d", got, 2*users)
	}
	if len(shared.apiArticle(sharedID).Comments) != users {
		t.Errorf("shared article has %d comments, want %d", len(shared.apiArticle(sharedID).Comments), users)
	}
	if st.Visits != users || st.Sessions != users+1 || st.PeakInFlight > 4 || st.InFlight != 0 || st.Queued != 0 {
		t.Errorf("stats = %+v; want %d visits, %d sessions, peak in flight <= 4, none in flight or queued", st, users, users+1)
	}
}
