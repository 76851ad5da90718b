package capture

import (
	"net"
	"net/http"
	"net/url"
	"slices"
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
// One rule splits what the client IP and User-Agent would join: a request
// without a session cookie starts a new session, instead of joining the active
// session of its IP and User-Agent, when that session's client has shown that
// it returns cookies (it sent a session cookie) and holds a session cookie
// that this request would have carried: one the session's responses set (not
// deleted or expired since) before the request started, whose domain, path and
// Secure attribute match the request's URL. A browser sends such a cookie with
// every request in its scope, so a request without it comes from another
// cookie jar: a second person recorded after the first on the same machine, a
// fresh private window. The same holds after a logout: a response to a
// request whose URL says logout (logout, logoff, signout, sign_out, ...)
// that deletes the session cookie ends the session for requests in that
// cookie's scope without a session cookie, so the next person to log in on
// the same browser starts a new session. Requests that started before the
// cookie arrived (or before the logout ended), requests to other hosts or
// paths, cross-site requests (Sec-Fetch-Site: cross-site, which may withhold
// SameSite cookies) and clients that never send cookies stay in the session;
// so does a browser whose cookie expired or was deleted other than by a
// logout (a flash message cleared).
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
	sent   bool      // a request of it carried a session cookie
	held   []heldCookie
}

// maxHeldCookies bounds the session cookies a session remembers the scope of.
const maxHeldCookies = 8

// heldCookie is a session cookie the client of a session received, and the
// scope a browser sends it in.
type heldCookie struct {
	name      string // lower-case
	domain    string // the host that set it, or its Domain attribute (lower-case)
	hostOnly  bool   // no Domain attribute: sent to that host only
	path      string
	secure    bool
	from      time.Time // the client has it from the end of the exchange that set it
	until     time.Time // expiry; zero means the end of the browser session
	loggedOut bool      // a logout deleted it: the session is over in its scope
}

// covers reports whether a browser holding c sends it with a request to
// scheme://host/path starting at t, or for a cookie a logout deleted,
// whether the request is in its scope after the logout.
func (c *heldCookie) covers(scheme, host, path string, t time.Time) bool {
	if !t.After(c.from) || (!c.loggedOut && !c.until.IsZero() && !t.Before(c.until)) {
		return false
	}
	if c.secure && scheme != "https" {
		return false
	}
	if host != c.domain && (c.hostOnly || !strings.HasSuffix(host, "."+c.domain)) {
		return false
	}
	return pathMatch(path, c.path)
}

// pathMatch is the path-match of RFC 6265 section 5.1.4.
func pathMatch(reqPath, cookiePath string) bool {
	if reqPath == cookiePath {
		return true
	}
	return strings.HasPrefix(reqPath, cookiePath) &&
		(strings.HasSuffix(cookiePath, "/") || reqPath[len(cookiePath)] == '/')
}

// hold remembers c, replacing a cookie of the same name, domain and path.
func (s *groupSession) hold(c heldCookie) {
	for i, h := range s.held {
		if h.name == c.name && h.domain == c.domain && h.path == c.path {
			s.held[i] = c
			return
		}
	}
	if len(s.held) < maxHeldCookies {
		s.held = append(s.held, c)
	}
}

// drop forgets the cookie a deleting Set-Cookie names.
func (s *groupSession) drop(c heldCookie) {
	s.held = slices.DeleteFunc(s.held, func(h heldCookie) bool {
		return h.name == c.name && h.domain == c.domain && h.path == c.path
	})
}

// expects reports whether the client of s would have sent one of its session
// cookies with e's request, which carries none.
func (s *groupSession) expects(e *Exchange) bool {
	if !s.sent || len(s.held) == 0 || strings.EqualFold(e.Request.Header.Get("Sec-Fetch-Site"), "cross-site") {
		return false
	}
	scheme, host, path, ok := urlScope(e.Request.URL)
	if !ok {
		return false
	}
	for i := range s.held {
		if s.held[i].covers(scheme, host, path, e.Start) {
			return true
		}
	}
	return false
}

// urlScope returns the lower-case scheme, the host without port and the path
// ("/" when empty) of an absolute URL.
func urlScope(raw string) (scheme, host, path string, ok bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", "", "", false
	}
	path = u.Path
	if path == "" {
		path = "/"
	}
	return strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), path, true
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

// GroupingSink is a Sink that assigns each exchange its session key with a
// Grouper and forwards it to the next Sink. It is safe for concurrent use when
// the next Sink is; exchanges should arrive roughly in start order (see
// Grouper).
type GroupingSink struct {
	g    *Grouper
	next Sink
}

// NewGroupingSink returns a GroupingSink with a new Grouper for cfg that
// forwards to next.
func NewGroupingSink(cfg GroupConfig, next Sink) *GroupingSink {
	return &GroupingSink{g: NewGrouper(cfg), next: next}
}

// Write assigns e its session key and writes it to the next Sink.
func (s *GroupingSink) Write(e *Exchange) error {
	s.g.Assign(e)
	return s.next.Write(e)
}

// Flush flushes the next Sink (see Flush).
func (s *GroupingSink) Flush() error { return Flush(s.next) }

// Sessions returns the number of sessions assigned so far.
func (s *GroupingSink) Sessions() int { return s.g.Sessions() }

// Assign decides the session e belongs to, sets e.Session to its key and
// returns the key. It reads the request's Cookie, Authorization and User-Agent
// fields, e.Client, e.Start, e.End() and the response's Set-Cookie fields.
func (g *Grouper) Assign(e *Exchange) string {
	strong, cookieSent, weak := g.identities(e)
	sets := g.setCookies(e)
	t := e.Start

	g.mu.Lock()
	defer g.mu.Unlock()
	g.sweep(t)

	s := g.lookup(strong, weak, e)
	if end := e.End(); end.After(s.end) {
		s.end = end
	}
	for _, id := range strong {
		g.bind(id, s, t)
	}
	g.bind(weak, s, t)
	for _, c := range sets {
		if c.deletes {
			s.drop(c.cookie)
			if c.logout && (s.sent || cookieSent) {
				c.cookie.loggedOut = true
				s.hold(c.cookie)
			}
			continue
		}
		g.bind(c.id, s, t)
		s.strong = true
		if c.holds {
			s.hold(c.cookie)
		}
	}
	if len(strong) > 0 {
		s.strong = true
	}
	if cookieSent {
		s.sent = true
	}
	e.Session = s.key
	return s.key
}

// lookup returns the session a request e with these identities belongs to,
// creating one if needed. g.mu is held.
func (g *Grouper) lookup(strong []string, weak string, e *Exchange) *groupSession {
	t := e.Start
	if len(strong) == 0 {
		if s := g.active(weak, t); s != nil && !s.expects(e) {
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
// identifies the user first, whether one of them is a session cookie, and its
// weak (client IP and User-Agent) identity. Identities are internal map keys;
// they never leave the Grouper.
func (g *Grouper) identities(e *Exchange) (strong []string, cookie bool, weak string) {
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
	cookie = len(strong) > 0
	if auth := e.Request.Header.Get("Authorization"); auth != "" {
		strong = append(strong, "a\x00"+auth)
	}
	ip := e.Client
	if host, _, err := net.SplitHostPort(e.Client); err == nil {
		ip = host
	}
	return strong, cookie, "u\x00" + ip + "\x00" + e.Request.Header.Get("User-Agent")
}

// setCookie is a session cookie a response sets or deletes.
type setCookie struct {
	id      string // its identity (not for deletions)
	deletes bool
	logout  bool // a deletion in answer to a logout
	holds   bool // the client keeps it: its scope is known and the browser accepts it
	cookie  heldCookie
}

// setCookies returns the session cookies e's response sets or deletes, with
// the scope a browser sends them in.
func (g *Grouper) setCookies(e *Exchange) []setCookie {
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
	scheme, host, path, scoped := urlScope(e.Request.URL)
	logout := scoped && !e.Start.IsZero() && isLogoutURL(e.Request.URL)
	var out []setCookie
	for _, line := range lines {
		pair, attrs, _ := strings.Cut(line, ";")
		name, value, ok := cookiePair(pair)
		if !ok || !g.isSessionCookie(name) {
			continue
		}
		a := parseCookieAttrs(attrs)
		c := heldCookie{name: strings.ToLower(name), domain: host, hostOnly: true, path: a.path, secure: a.secure, from: e.End()}
		if a.domain != "" {
			c.domain, c.hostOnly = a.domain, false
		}
		if c.path == "" || c.path[0] != '/' {
			c.path = defaultCookiePath(path)
		}
		if value == "" || a.deletes(now) {
			out = append(out, setCookie{deletes: true, logout: logout, cookie: c})
			continue
		}
		switch {
		case a.hasMaxAge:
			c.until = c.from.Add(time.Duration(a.maxAge) * time.Second)
		case !a.expires.IsZero():
			c.until = a.expires
		}
		// Browsers reject a Domain that does not cover the host, Secure
		// cookies from http (Chrome, Firefox) and SameSite=None without Secure.
		holds := scoped && (c.hostOnly || host == c.domain || strings.HasSuffix(host, "."+c.domain)) &&
			(!c.secure || scheme == "https") && !(a.sameSiteNone && !c.secure) && !e.Start.IsZero()
		out = append(out, setCookie{id: cookieIdentity(name, value), holds: holds, cookie: c})
	}
	return out
}

// logoutWords are what the URLs of logout requests say, lower-case: Django's
// /logout/, WordPress's action=logout, MediaWiki's Special:UserLogout,
// Devise's /users/sign_out, /logoff, /signout.
var logoutWords = [...]string{"logout", "logoff", "signout", "sign_out", "sign-out", "log_out", "log-out"}

// isLogoutURL reports whether a request URL's path or query names a logout.
func isLogoutURL(raw string) bool {
	if i := strings.Index(raw, "://"); i >= 0 {
		if k := strings.IndexAny(raw[i+3:], "/?"); k >= 0 {
			raw = raw[i+3+k:]
		} else {
			return false
		}
	}
	lower := strings.ToLower(raw)
	for _, w := range logoutWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// defaultCookiePath is the default-path of RFC 6265 section 5.1.4 for a
// request path.
func defaultCookiePath(reqPath string) string {
	i := strings.LastIndexByte(reqPath, '/')
	if i <= 0 {
		return "/"
	}
	return reqPath[:i]
}

// cookieAttrs are the Set-Cookie attributes the Grouper reads.
type cookieAttrs struct {
	domain, path string // domain lower-case without a leading dot
	secure       bool
	sameSiteNone bool
	hasMaxAge    bool
	maxAge       int
	expires      time.Time
}

// parseCookieAttrs reads the attributes after a Set-Cookie's name=value.
func parseCookieAttrs(attrs string) cookieAttrs {
	var a cookieAttrs
	for attr := range strings.SplitSeq(attrs, ";") {
		k, v, _ := strings.Cut(attr, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case strings.EqualFold(k, "Max-Age"):
			if n, err := strconv.Atoi(v); err == nil {
				a.hasMaxAge, a.maxAge = true, n
			}
		case strings.EqualFold(k, "Expires"):
			t, err := http.ParseTime(v)
			if err != nil {
				// Netscape's dashed form, still sent by some servers.
				t, err = time.Parse("Mon, 02-Jan-2006 15:04:05 MST", v)
			}
			if err == nil {
				a.expires = t
			}
		case strings.EqualFold(k, "Domain"):
			a.domain = strings.ToLower(strings.TrimPrefix(v, "."))
		case strings.EqualFold(k, "Path"):
			a.path = v
		case strings.EqualFold(k, "Secure"):
			a.secure = true
		case strings.EqualFold(k, "SameSite"):
			a.sameSiteNone = strings.EqualFold(v, "None")
		}
	}
	return a
}

// deletes reports whether the attributes delete the cookie at now: Max-Age
// zero or negative, or Expires not after now (Max-Age wins, as in browsers).
func (a cookieAttrs) deletes(now time.Time) bool {
	if a.hasMaxAge {
		return a.maxAge <= 0
	}
	return !a.expires.IsZero() && !a.expires.After(now)
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
