package capture

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultSessionIdle is the gap between two requests of one user after which the
// second starts a new session, used when GroupConfig.Idle is not set.
const DefaultSessionIdle = 30 * time.Minute

// wellKnownSessionCookies are the session cookie names of common frameworks, in
// the order they are tried. A leading "*" matches any non-empty prefix. Read only.
var wellKnownSessionCookies = [...]string{
	"session",           // Flask, cookie-session, many hand-written apps
	"sessionid",         // Django
	"session_id",        // generic
	"sid",               // generic
	"PHPSESSID",         // PHP
	"JSESSIONID",        // Java servlet containers
	"connect.sid",       // Express (express-session)
	"ASP.NET_SessionId", // ASP.NET
	"_session_id",       // Rails (ActiveRecord store)
	"laravel_session",   // Laravel
	"ci_session",        // CodeIgniter
	"*_session",         // Rails cookie store ("_myapp_session") and similar
}

// WellKnownSessionCookies returns the cookie names a Grouper recognises as
// session cookies without configuration, in the order they are tried: session,
// sessionid, session_id, sid, PHPSESSID, JSESSIONID, connect.sid,
// ASP.NET_SessionId, _session_id, laravel_session, ci_session, and any name
// ending in "_session" (written "*_session"). Names match case-insensitively.
// The slice is a fresh copy.
func WellKnownSessionCookies() []string {
	names := wellKnownSessionCookies
	return names[:]
}

// GroupConfig configures a Grouper.
type GroupConfig struct {
	// SessionCookie is the name of the application's session cookie, tried before
	// the well-known names (matched case-insensitively). Empty means none.
	SessionCookie string
	// Idle is the longest gap between the end of a session's latest exchange and
	// the start of the next one that keeps them in one session; a longer gap
	// starts a new session. Zero or negative means DefaultSessionIdle.
	Idle time.Duration
}

// A Grouper assigns exchanges to sessions (simulated users). Every source
// (recording proxy, packet capture, HAR import) groups through it, so they all
// split traffic into users the same way. It is safe for concurrent use.
//
// The user behind a request is identified by the first of these it carries:
//
//  1. the configured session cookie (GroupConfig.SessionCookie),
//  2. a well-known session cookie (see WellKnownSessionCookies),
//  3. the Authorization header value,
//  4. the client IP address (without port) and User-Agent.
//
// The first three are strong identities, the last a weak one. A request joins
// the active session of its identity. A session is active for a request when
// the request starts no more than Idle after the end of the session's latest
// exchange; a request that starts before that end (exchanges may be handed over
// in completion order) is always within it.
//
// Continuity rules keep one visit in one session:
//   - A Set-Cookie in a response that sets a session cookie (configured or
//     well-known) binds the new value to the exchange's session, so a login that
//     rotates the session id, or a first visit without cookies, does not split
//     the visit. Deleting cookies (empty value, Max-Age<=0, Expires in the past)
//     bind nothing.
//   - A strong identity without an active session (new, or its session has gone
//     idle) from a client IP and User-Agent whose current session is active and
//     bound to no strong identity yet joins that session (a token login whose
//     token came in a response body). If that session already has a strong
//     identity, a new session starts (two users behind one NAT and browser).
//   - All identities a request carries are bound to its session, unless they are
//     bound to a newer session that is still active, so an identity that pointed
//     at a session that has gone idle never drags later requests back into it.
//
// Session keys are "1", "2", ... in order of creation; they never contain
// cookie or header values. Identities of sessions idle for more than twice Idle
// (measured against the latest start seen) are forgotten, which bounds memory
// for a recorder that runs for days and changes no outcome as long as
// exchanges are handed over at most Idle out of start order.
type Grouper struct {
	cookie string // configured session cookie name, or ""
	idle   time.Duration

	mu     sync.Mutex
	ids    map[string]*groupSession // identity -> its current session
	n      int                      // session keys handed out
	latest time.Time                // latest exchange start seen
	swept  time.Time                // latest when identities were last swept
}

// groupSession is the state a Grouper keeps per session.
type groupSession struct {
	key    string
	seq    int       // creation order
	end    time.Time // latest end of its exchanges
	strong bool      // a strong identity is bound to it
}

// NewGrouper returns a Grouper with no sessions.
func NewGrouper(cfg GroupConfig) *Grouper {
	idle := cfg.Idle
	if idle <= 0 {
		idle = DefaultSessionIdle
	}
	return &Grouper{
		cookie: cfg.SessionCookie,
		idle:   idle,
		ids:    make(map[string]*groupSession),
	}
}

// Sessions returns the number of distinct session keys handed out so far.
func (g *Grouper) Sessions() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.n
}

// Assign decides the session e belongs to, sets e.Session to its key and
// returns the key. It reads the request's Cookie, Authorization and User-Agent
// fields, e.Client, e.Start, e.End() and the response's Set-Cookie fields.
func (g *Grouper) Assign(e *Exchange) string {
	strong, weak := g.identities(e)
	bound := g.setCookies(e)
	t := e.Start

	g.mu.Lock()
	defer g.mu.Unlock()
	g.sweep(t)

	s := g.lookup(strong, weak, t)
	if end := e.End(); end.After(s.end) {
		s.end = end
	}
	for _, id := range strong {
		g.bind(id, s, t)
	}
	g.bind(weak, s, t)
	for _, id := range bound {
		g.bind(id, s, t)
	}
	if len(strong) > 0 || len(bound) > 0 {
		s.strong = true
	}
	e.Session = s.key
	return s.key
}

// lookup returns the session a request with these identities starting at t
// belongs to, creating one if needed. g.mu is held.
func (g *Grouper) lookup(strong []string, weak string, t time.Time) *groupSession {
	if len(strong) == 0 {
		if s := g.active(weak, t); s != nil {
			return s
		}
		return g.newSession()
	}
	if s := g.active(strong[0], t); s != nil {
		return s
	}
	if s := g.active(weak, t); s != nil && !s.strong {
		return s
	}
	return g.newSession()
}

// active returns the session identity id is bound to if it is active at t, else
// nil. g.mu is held.
func (g *Grouper) active(id string, t time.Time) *groupSession {
	s := g.ids[id]
	if s == nil || t.Sub(s.end) > g.idle {
		return nil
	}
	return s
}

// bind points identity id at s unless it points at a newer session that is
// still active at t. g.mu is held.
func (g *Grouper) bind(id string, s *groupSession, t time.Time) {
	if cur := g.active(id, t); cur != nil && cur.seq > s.seq {
		return
	}
	g.ids[id] = s
}

// newSession creates a session with the next key. g.mu is held.
func (g *Grouper) newSession() *groupSession {
	g.n++
	return &groupSession{key: strconv.Itoa(g.n), seq: g.n}
}

// sweep forgets identities whose sessions ended more than twice Idle before
// the latest start seen, at most once per Idle. g.mu is held.
func (g *Grouper) sweep(t time.Time) {
	if t.After(g.latest) {
		g.latest = t
	}
	if g.latest.Sub(g.swept) <= g.idle {
		return
	}
	g.swept = g.latest
	for id, s := range g.ids {
		if g.latest.Sub(s.end) > 2*g.idle {
			delete(g.ids, id)
		}
	}
}

// identities returns the strong identities e's request carries, the one that
// identifies the user first, and its weak (client IP and User-Agent) identity.
// Identities are internal map keys; they never leave the Grouper.
func (g *Grouper) identities(e *Exchange) (strong []string, weak string) {
	cookies := requestCookies(e.Request.Header)
	if g.cookie != "" {
		for _, c := range cookies {
			if strings.EqualFold(c.name, g.cookie) {
				strong = append(strong, cookieIdentity(c.name, c.value))
				break
			}
		}
	}
	for _, pattern := range wellKnownSessionCookies {
		for _, c := range cookies {
			if matchCookieName(pattern, c.name) && !strings.EqualFold(c.name, g.cookie) {
				strong = append(strong, cookieIdentity(c.name, c.value))
				break
			}
		}
	}
	if auth := e.Request.Header.Get("Authorization"); auth != "" {
		strong = append(strong, "a\x00"+auth)
	}
	ip := e.Client
	if host, _, err := net.SplitHostPort(e.Client); err == nil {
		ip = host
	}
	return strong, "u\x00" + ip + "\x00" + e.Request.Header.Get("User-Agent")
}

// setCookies returns the identities of the session cookies e's response sets,
// leaving out deletions.
func (g *Grouper) setCookies(e *Exchange) []string {
	lines := e.Response.Header.Values("Set-Cookie")
	if len(lines) == 0 {
		return nil
	}
	now := e.Start
	if now.IsZero() {
		// Without a start time, judge Expires against the response's Date, or
		// at least recognise the conventional deletion date (the Unix epoch).
		now, _ = http.ParseTime(e.Response.Header.Get("Date"))
		if now.IsZero() {
			now = time.Unix(24*60*60, 0)
		}
	}
	var ids []string
	for _, line := range lines {
		pair, attrs, _ := strings.Cut(line, ";")
		name, value, ok := cookiePair(pair)
		if !ok || value == "" || !g.isSessionCookie(name) || deletesCookie(attrs, now) {
			continue
		}
		ids = append(ids, cookieIdentity(name, value))
	}
	return ids
}

// cookiePair splits "name=value", trimming blanks and the quotes of a quoted
// value.
func cookiePair(s string) (name, value string, ok bool) {
	name, value, ok = strings.Cut(s, "=")
	name = strings.TrimSpace(name)
	value = strings.TrimSpace(value)
	if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
		value = value[1 : len(value)-1]
	}
	return name, value, ok && name != ""
}

// deletesCookie reports whether Set-Cookie attributes delete the cookie at now:
// Max-Age zero or negative, or Expires not after now (Max-Age wins, as in
// browsers).
func deletesCookie(attrs string, now time.Time) bool {
	var expires string
	for attr := range strings.SplitSeq(attrs, ";") {
		k, v, _ := strings.Cut(attr, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case strings.EqualFold(k, "Max-Age"):
			if n, err := strconv.Atoi(v); err == nil {
				return n <= 0
			}
		case strings.EqualFold(k, "Expires"):
			expires = v
		}
	}
	if expires == "" {
		return false
	}
	t, err := http.ParseTime(expires)
	if err != nil {
		// Netscape's dashed form, still sent by some servers.
		if t, err = time.Parse("Mon, 02-Jan-2006 15:04:05 MST", expires); err != nil {
			return false
		}
	}
	return !t.After(now)
}

// groupCookie is one name=value pair of a Cookie field.
type groupCookie struct{ name, value string }

// requestCookies returns the pairs of all Cookie fields in order. It is more
// forgiving than net/http: a malformed pair is skipped, not the whole field.
func requestCookies(h Headers) []groupCookie {
	var cs []groupCookie
	for _, line := range h.Values("Cookie") {
		for pair := range strings.SplitSeq(line, ";") {
			if name, value, ok := cookiePair(pair); ok && value != "" {
				cs = append(cs, groupCookie{name, value})
			}
		}
	}
	return cs
}

// isSessionCookie reports whether name is the configured or a well-known
// session cookie.
func (g *Grouper) isSessionCookie(name string) bool {
	if g.cookie != "" && strings.EqualFold(name, g.cookie) {
		return true
	}
	for _, pattern := range wellKnownSessionCookies {
		if matchCookieName(pattern, name) {
			return true
		}
	}
	return false
}

// matchCookieName reports whether a cookie name matches a well-known pattern,
// case-insensitively; a leading "*" matches any non-empty prefix.
func matchCookieName(pattern, name string) bool {
	if suffix, ok := strings.CutPrefix(pattern, "*"); ok {
		return len(name) > len(suffix) && strings.EqualFold(name[len(name)-len(suffix):], suffix)
	}
	return strings.EqualFold(pattern, name)
}

// cookieIdentity is the identity of a session cookie value. Cookie names are
// case-folded because they are matched case-insensitively.
func cookieIdentity(name, value string) string {
	return "c\x00" + strings.ToLower(name) + "\x00" + value
}
