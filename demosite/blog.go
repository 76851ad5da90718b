package demosite

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// Names and limits of the blog.
const (
	// SessionCookie is the name of the cookie that carries the session id.
	SessionCookie = "session"
	// MaxSessions caps the number of stored sessions; beyond it the oldest are evicted.
	MaxSessions = 100_000
	// MaxArticles caps the number of stored articles; beyond it the oldest are evicted.
	MaxArticles = 100_000
	// MaxCommentsPerArticle caps the comments kept on one article; beyond it the oldest are dropped.
	MaxCommentsPerArticle = 100
	// MaxStoredBytes approximately caps the memory held by articles and comments; beyond it the oldest articles are evicted.
	MaxStoredBytes = 256 << 20
	// MaxUsernameBytes is the longest user name POST /login accepts.
	MaxUsernameBytes = 64
	// MaxTitleBytes is the longest article title POST /articles accepts.
	MaxTitleBytes = 200
	// MaxTextBytes is the longest article body or comment text accepted.
	MaxTextBytes = 8 << 10
	// MaxRequestBytes is the largest form or JSON request body accepted; a larger one gets 413.
	MaxRequestBytes = 64 << 10
	// ListLimit is how many of the newest articles GET /articles lists.
	ListLimit = 20
)

// Article is a blog post, in the JSON shape GET /api/articles/{id} returns.
type Article struct {
	// ID is 16 random hex digits chosen by the server.
	ID string `json:"id"`
	// Title is the article's title.
	Title string `json:"title"`
	// Body is the article's text.
	Body string `json:"body"`
	// Author is the name of the user who posted the article.
	Author string `json:"author"`
	// Comments lists the article's comments, oldest first.
	Comments []Comment `json:"comments"`
}

// Comment is a comment on an article, in the JSON shape the API returns.
type Comment struct {
	// ID is 16 random hex digits chosen by the server.
	ID string `json:"id"`
	// Author is the name of the user who posted the comment.
	Author string `json:"author"`
	// Text is the comment's text.
	Text string `json:"text"`
}

// Accounted sizes of stored values beyond their strings, a rough guess of Go's overhead.
const (
	articleOverhead = 256
	commentOverhead = 96
)

func (a *Article) size() int {
	return articleOverhead + len(a.ID) + len(a.Title) + len(a.Body) + len(a.Author)
}

func (c Comment) size() int {
	return commentOverhead + len(c.ID) + len(c.Author) + len(c.Text)
}

// session is the server-side state behind a session cookie; it is never
// modified once stored: a login stores a new session under a new id.
type session struct {
	csrf string // the token forms and the comment API must send back
	user string // empty while anonymous
}

// summary is what the article list shows of an article.
type summary struct {
	ID, Title, Author string
}

// recentList remembers the ListLimit newest articles for GET /articles.
type recentList struct {
	mu    sync.Mutex
	items [ListLimit]summary
	next  int // where the next item goes
	n     int // items filled
}

func (l *recentList) push(s summary) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.items[l.next] = s
	l.next = (l.next + 1) % len(l.items)
	l.n = min(l.n+1, len(l.items))
}

// newest returns the remembered articles, newest first.
func (l *recentList) newest() []summary {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]summary, 0, l.n)
	for i := 1; i <= l.n; i++ {
		out = append(out, l.items[(l.next-i+len(l.items))%len(l.items)])
	}
	return out
}

// newID returns 16 random hex digits.
func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24
	return hex.EncodeToString(b[:])
}

// seedArticles posts a few articles so that a fresh site has something to read.
func (s *Site) seedArticles() {
	for _, a := range []struct{ title, body string }{
		{"Welcome to the amp demo", "This little blog is the target amp records and replays against.\nLog in with any name and password, write an article, comment on it."},
		{"Sessions and CSRF tokens", "Every session has its own CSRF token and logging in gives you a new session id,\nso a replay has to pick up the live values instead of the recorded ones."},
		{"Random ids", "Articles and comments get random ids.\nAn id recorded yesterday does not exist on a fresh server."},
	} {
		s.addArticle(&Article{ID: newID(), Title: a.title, Body: a.body, Author: "amp", Comments: []Comment{}})
	}
}

func (s *Site) addArticle(a *Article) {
	s.articles.add(a.ID, a, a.size())
	s.recent.push(summary{ID: a.ID, Title: a.Title, Author: a.Author})
}

// article returns a copy of the stored article id, safe to use after the lock is released.
func (s *Site) article(id string) (Article, bool) {
	var out Article
	ok := s.articles.view(id, func(a *Article) {
		out = *a
		out.Comments = slices.Clone(a.Comments)
	})
	return out, ok
}

// lookup returns the session named by r's session cookie, if it is stored.
func (s *Site) lookup(r *http.Request) (id string, sess session, ok bool) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return "", session{}, false
	}
	sess, ok = s.sessions.get(c.Value)
	return c.Value, sess, ok
}

// startSession stores a new session for user (empty for anonymous) and sets its cookie.
func (s *Site) startSession(w http.ResponseWriter, r *http.Request, user string) session {
	id := rand.Text()
	sess := session{csrf: rand.Text(), user: user}
	s.sessions.add(id, sess, 0)
	http.SetCookie(w, &http.Cookie{
		Name:     SessionCookie,
		Value:    id,
		Path:     "/",
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteLaxMode,
	})
	return sess
}

// validCSRF reports whether token is sess's CSRF token.
func validCSRF(sess session, token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(sess.csrf), []byte(token)) == 1
}

// basePage returns the page fields common to every HTML page for r's session.
func (s *Site) basePage(r *http.Request, title string) page {
	p := page{Title: title}
	if _, sess, ok := s.lookup(r); ok {
		p.User, p.CSRF = sess.user, sess.csrf
	}
	return p
}

// parseForm limits and parses r's form body, answering 400 or 413 and returning false if that fails.
func (s *Site) parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, MaxRequestBytes)
	if err := r.ParseForm(); err != nil {
		status := http.StatusBadRequest
		if tooLarge(err) {
			status = http.StatusRequestEntityTooLarge
		}
		s.errorPage(w, r, status, "The form could not be read.")
		return false
	}
	return true
}

func tooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

func (s *Site) home(w http.ResponseWriter, r *http.Request) {
	p := s.basePage(r, "Home")
	p.Visits = s.visits.Add(1)
	s.render(w, http.StatusOK, "home", p)
}

func (s *Site) loginForm(w http.ResponseWriter, r *http.Request) {
	p := s.basePage(r, "Log in")
	if p.CSRF == "" {
		sess := s.startSession(w, r, "")
		p.User, p.CSRF = sess.user, sess.csrf
	}
	s.render(w, http.StatusOK, "login", p)
}

func (s *Site) login(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	id, sess, ok := s.lookup(r)
	if !ok || !validCSRF(sess, r.PostForm.Get("csrf_token")) {
		s.errorPage(w, r, http.StatusForbidden, "Your session expired or the form is stale. Please reload the login page.")
		return
	}
	user, password := strings.TrimSpace(r.PostForm.Get("username")), r.PostForm.Get("password")
	var problem string
	switch {
	case user == "" || password == "":
		problem = "Please enter a user name and a password."
	case len(user) > MaxUsernameBytes:
		problem = "That user name is too long."
	}
	if problem != "" {
		p := page{Title: "Log in", User: sess.user, CSRF: sess.csrf, Error: problem, Username: user}
		s.render(w, http.StatusBadRequest, "login", p)
		return
	}
	s.sessions.remove(id)
	s.startSession(w, r, user)
	http.Redirect(w, r, "/articles", http.StatusSeeOther)
}

func (s *Site) logout(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	id, sess, ok := s.lookup(r)
	if !ok || !validCSRF(sess, r.PostForm.Get("csrf_token")) {
		s.errorPage(w, r, http.StatusForbidden, "Your session expired or the form is stale.")
		return
	}
	s.sessions.remove(id)
	http.SetCookie(w, &http.Cookie{
		Name:     SessionCookie,
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteLaxMode,
	})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Site) listArticles(w http.ResponseWriter, r *http.Request) {
	p := s.basePage(r, "Articles")
	for _, a := range s.recent.newest() {
		if _, ok := s.articles.get(a.ID); ok { // skip evicted ones
			p.Articles = append(p.Articles, a)
		}
	}
	s.render(w, http.StatusOK, "articles", p)
}

func (s *Site) newArticleForm(w http.ResponseWriter, r *http.Request) {
	p := s.basePage(r, "New article")
	if p.User == "" {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	s.render(w, http.StatusOK, "article_new", p)
}

func (s *Site) createArticle(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	_, sess, ok := s.lookup(r)
	if !ok || sess.user == "" || !validCSRF(sess, r.PostForm.Get("csrf_token")) {
		s.errorPage(w, r, http.StatusForbidden, "Please log in again; your session expired or the form is stale.")
		return
	}
	title, body := strings.TrimSpace(r.PostForm.Get("title")), strings.TrimSpace(r.PostForm.Get("body"))
	var problem string
	switch {
	case title == "":
		problem = "Please give the article a title."
	case len(title) > MaxTitleBytes:
		problem = "That title is too long."
	case len(body) > MaxTextBytes:
		problem = "That text is too long."
	}
	if problem != "" {
		p := page{Title: "New article", User: sess.user, CSRF: sess.csrf, Error: problem, FormTitle: title, FormBody: body}
		s.render(w, http.StatusBadRequest, "article_new", p)
		return
	}
	a := &Article{ID: newID(), Title: title, Body: body, Author: sess.user, Comments: []Comment{}}
	s.addArticle(a)
	http.Redirect(w, r, "/articles/"+a.ID, http.StatusSeeOther)
}

func (s *Site) showArticle(w http.ResponseWriter, r *http.Request) {
	a, ok := s.article(r.PathValue("id"))
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "There is no such article.")
		return
	}
	p := s.basePage(r, a.Title)
	p.Article = a
	s.render(w, http.StatusOK, "article", p)
}

func (s *Site) apiArticle(w http.ResponseWriter, r *http.Request) {
	a, ok := s.article(r.PathValue("id"))
	if !ok {
		writeJSONError(w, http.StatusNotFound, "article not found")
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Site) apiComment(w http.ResponseWriter, r *http.Request) {
	_, sess, ok := s.lookup(r)
	if !ok || sess.user == "" {
		writeJSONError(w, http.StatusForbidden, "login required")
		return
	}
	if !validCSRF(sess, r.Header.Get("X-CSRF-Token")) {
		writeJSONError(w, http.StatusForbidden, "invalid CSRF token")
		return
	}
	id := r.PathValue("id")
	if _, ok := s.articles.get(id); !ok {
		writeJSONError(w, http.StatusNotFound, "article not found")
		return
	}
	var in struct {
		Text string `json:"text"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxRequestBytes)).Decode(&in); err != nil {
		if tooLarge(err) {
			writeJSONError(w, http.StatusRequestEntityTooLarge, "request body too large")
		} else {
			writeJSONError(w, http.StatusBadRequest, "body must be a JSON object like {\"text\":\"...\"}")
		}
		return
	}
	text := strings.TrimSpace(in.Text)
	switch {
	case text == "":
		writeJSONError(w, http.StatusBadRequest, "text is empty")
		return
	case len(text) > MaxTextBytes:
		writeJSONError(w, http.StatusBadRequest, "text is too long")
		return
	}
	c := Comment{ID: newID(), Author: sess.user, Text: text}
	added := s.articles.update(id, func(a *Article) int {
		grew := c.size()
		if len(a.Comments) >= MaxCommentsPerArticle {
			grew -= a.Comments[0].size()
			a.Comments = append(a.Comments[:0], a.Comments[1:]...)
			s.comments.Add(-1)
		}
		a.Comments = append(a.Comments, c)
		s.comments.Add(1)
		return grew
	})
	if !added { // evicted since the check above
		writeJSONError(w, http.StatusNotFound, "article not found")
		return
	}
	writeJSON(w, http.StatusCreated, c)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, struct {
		Error string `json:"error"`
	}{msg})
}
