package capture

// This file is an internal test only because TestGrouperForgetsIdleIdentities
// checks the Grouper's memory; everything else uses the exported API.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// t0 is the start of every test recording.
var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// Clients of the tests: browsers A and B share an IP address (a NAT), C does not.
const (
	ipA = "203.0.113.7"
	ipC = "198.51.100.2"
	uaA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"
	uaB = "Mozilla/5.0 (Macintosh) Safari/605.1.15"
)

// hit is one exchange handed to a Grouper and the key it must get.
type hit struct {
	at        time.Duration // start, after t0
	dur       time.Duration // duration; 0 means 100ms
	ip        string        // client IP; "" means ipA
	port      int           // client port; 0 means 50000
	ua        string        // User-Agent; "" means uaA
	cookie    string        // Cookie fields, separated by "\n"
	auth      string        // Authorization field, if any
	setCookie []string      // Set-Cookie fields of the response
	url       string        // request URL; "" means http://shop.example/
	fetchSite string        // Sec-Fetch-Site field, if any
	want      string        // expected session key
}

func (h hit) exchange() *Exchange {
	ip, port, ua, dur := h.ip, h.port, h.ua, h.dur
	if ip == "" {
		ip = ipA
	}
	if port == 0 {
		port = 50000
	}
	if ua == "" {
		ua = uaA
	}
	if dur == 0 {
		dur = 100 * time.Millisecond
	}
	u := h.url
	if u == "" {
		u = "http://shop.example/"
	}
	e := &Exchange{
		Client:   ip + ":" + strconv.Itoa(port),
		Start:    t0.Add(h.at),
		Duration: dur,
		Request: Request{
			Method: "GET",
			URL:    u,
			Header: Headers{{Name: "Host", Value: "shop.example"}, {Name: "User-Agent", Value: ua}},
		},
		Response: Response{Status: 200},
	}
	if h.cookie != "" {
		for v := range strings.SplitSeq(h.cookie, "\n") {
			e.Request.Header = append(e.Request.Header, Header{Name: "Cookie", Value: v})
		}
	}
	if h.auth != "" {
		e.Request.Header = append(e.Request.Header, Header{Name: "Authorization", Value: h.auth})
	}
	if h.fetchSite != "" {
		e.Request.Header = append(e.Request.Header, Header{Name: "Sec-Fetch-Site", Value: h.fetchSite})
	}
	for _, v := range h.setCookie {
		e.Response.Header = append(e.Response.Header, Header{Name: "Set-Cookie", Value: v})
	}
	return e
}

// groupTest is one scenario: exchanges handed to a fresh Grouper in order.
type groupTest struct {
	name string
	cfg  GroupConfig
	hits []hit
}

func runGroupTests(t *testing.T, tests []groupTest) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := NewGrouper(tc.cfg)
			var want []string
			for i, h := range tc.hits {
				e := h.exchange()
				got := g.Assign(e)
				if got != h.want || e.Session != got {
					t.Errorf("hit %d: Assign = %q, e.Session = %q, want %q", i, got, e.Session, h.want)
				}
				if !slices.Contains(want, h.want) {
					want = append(want, h.want)
				}
			}
			if got := g.Sessions(); got != len(want) {
				t.Errorf("Sessions() = %d, want %d", got, len(want))
			}
		})
	}
}

// TestGrouperIdentity checks how the user behind a request is recognised.
func TestGrouperIdentity(t *testing.T) {
	t.Parallel()
	runGroupTests(t, []groupTest{
		{
			name: "configured cookie beats well-known",
			cfg:  GroupConfig{SessionCookie: "app_user"},
			hits: []hit{
				// "session" carries the same value for everyone (say, an A/B
				// bucket); the configured cookie tells the users apart.
				{cookie: "session=bucket-1; app_user=u1", want: "1"},
				{ip: ipC, cookie: "session=bucket-1; app_user=u2", want: "2"},
				// The configured name matches case-insensitively.
				{at: time.Second, cookie: "session=bucket-1; APP_USER=u1", want: "1"},
			},
		},
		{
			name: "without configuration the well-known cookie decides",
			hits: []hit{
				// The same requests as above merge into one session.
				{cookie: "session=bucket-1; app_user=u1", want: "1"},
				{ip: ipC, cookie: "session=bucket-1; app_user=u2", want: "1"},
			},
		},
		{
			name: "well-known names match case-insensitively and by suffix",
			hits: []hit{
				{cookie: "theme=dark; phpsessid=p1", want: "1"},
				{ip: ipC, cookie: "PHPSESSID=p1", want: "1"},
				// Rails: "_<app>_session".
				{ip: ipC, ua: uaB, cookie: "_shop_session=r1", want: "2"},
				{ip: ipC, ua: uaB, port: 50001, cookie: "_shop_session=r1; tz=UTC", want: "2"},
			},
		},
		{
			name: "every Cookie field is parsed and bad pairs are skipped",
			hits: []hit{
				// HTTP/2 may split cookies over several fields ("\n" here).
				{cookie: "theme=dark\nsessionid=k1", want: "1"},
				// The value, not the client, identifies the user.
				{ip: ipC, cookie: "sessionid=k1", want: "1"},
				// net/http would reject the whole field for the stray pairs.
				{ip: ipC, ua: uaB, cookie: "junk; =x; a b=c d; sessionid=k2", want: "2"},
				{ip: ipC, ua: uaB, port: 50001, cookie: "sessionid=k2", want: "2"},
			},
		},
		{
			name: "bearer users are distinct",
			hits: []hit{
				{ip: ipC, auth: "Bearer t1", want: "1"},
				{ip: ipA, auth: "Bearer t2", want: "2"},
				{ip: ipC, auth: "Bearer t1", want: "1"},
				// Same IP and browser as t1 but session 1 is t1's: a new user.
				{ip: ipC, port: 50001, auth: "Bearer t3", want: "3"},
				{ip: ipA, auth: "Bearer t2", want: "2"},
			},
		},
		{
			name: "same IP different User-Agent are distinct",
			hits: []hit{
				{ua: uaA, want: "1"},
				{ua: uaB, want: "2"},
				// Another connection (port) of browser A.
				{ua: uaA, port: 50123, want: "1"},
				{ua: uaB, port: 50124, want: "2"},
			},
		},
		{
			name: "same IP same User-Agent different cookies are distinct",
			hits: []hit{
				// Two logged-in users behind one NAT with the same browser.
				{cookie: "sessionid=u1", want: "1"},
				{port: 50001, cookie: "sessionid=u2", want: "2"},
				{cookie: "sessionid=u1", want: "1"},
				{port: 50001, cookie: "sessionid=u2", want: "2"},
			},
		},
	})
}

// TestGrouperContinuity checks what keeps a visit in one session and what
// splits it.
func TestGrouperContinuity(t *testing.T) {
	t.Parallel()
	runGroupTests(t, []groupTest{
		{
			name: "anonymous then cookie set then cookie sent stays one session",
			hits: []hit{
				{setCookie: []string{"sessionid=k1; Path=/; HttpOnly"}, want: "1"},
				{at: time.Second, cookie: "sessionid=k1", want: "1"},
				// Another connection of the same browser, more cookies.
				{at: 2 * time.Second, port: 50001, cookie: "csrftoken=z; sessionid=k1", want: "1"},
				// Another browser behind the same NAT is someone else.
				{at: 3 * time.Second, ua: uaB, want: "2"},
			},
		},
		{
			name: "Set-Cookie binds its value wherever it shows up next",
			hits: []hit{
				{setCookie: []string{`sid="q1"; Max-Age=3600`}, want: "1"},
				// The value, not the client, identifies the user.
				{at: time.Second, ip: ipC, ua: uaB, cookie: "sid=q1", want: "1"},
			},
		},
		{
			name: "login rotation keeps one session",
			hits: []hit{
				{cookie: "session=a", want: "1"},
				// POST /login answers with a new session id.
				{at: time.Second, cookie: "session=a", setCookie: []string{"session=b; Path=/; Secure", "flash=; Max-Age=0"}, want: "1"},
				{at: 2 * time.Second, cookie: "session=b", want: "1"},
				{at: 3 * time.Second, port: 50002, cookie: "session=b", want: "1"},
			},
		},
		{
			name: "configured cookie set by the response binds",
			cfg:  GroupConfig{SessionCookie: "auth_token"},
			hits: []hit{
				{setCookie: []string{"auth_token=z9"}, want: "1"},
				{at: time.Second, ip: ipC, cookie: "auth_token=z9", want: "1"},
			},
		},
		{
			name: "token login joins the anonymous visit",
			hits: []hit{
				{want: "1"},
				// POST /login: the token comes back in the body.
				{at: time.Second, want: "1"},
				{at: 2 * time.Second, auth: "Bearer t1", want: "1"},
				// Static files without the token stay with the user.
				{at: 3 * time.Second, want: "1"},
				// A second token from the same IP and browser: another user.
				{at: 4 * time.Second, auth: "Bearer t2", want: "2"},
				{at: 5 * time.Second, auth: "Bearer t1", want: "1"},
			},
		},
		{
			name: "deleting Set-Cookie does not bind",
			hits: []hit{
				{cookie: "session=a", want: "1"},
				// Logout deletes the cookie in every common way.
				{at: time.Second, cookie: "session=a", setCookie: []string{
					"session=gone; Max-Age=0",
					"sid=gone2; Max-Age=-1; Expires=Fri, 01 Jan 2100 00:00:00 GMT",
					"sessionid=gone3; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
					"connect.sid=gone4; expires=Thu, 01-Jan-1970 00:00:01 GMT",
					"PHPSESSID=; Path=/",
				}, want: "1"},
				// Other browsers carrying the deleted values are not user 1.
				{at: 2 * time.Second, ip: ipC, cookie: "session=gone", want: "2"},
				{at: 2 * time.Second, ip: ipC, ua: uaB, cookie: "sid=gone2", want: "3"},
				{at: 2 * time.Second, ip: ipC, ua: "curl/8", cookie: "sessionid=gone3", want: "4"},
				{at: 2 * time.Second, ip: ipC, ua: "wget", cookie: "connect.sid=gone4", want: "5"},
				// An Expires in the future does bind.
				{at: 3 * time.Second, cookie: "session=a", setCookie: []string{"session=n; Expires=Fri, 01 Jan 2100 00:00:00 GMT"}, want: "1"},
				{at: 4 * time.Second, ip: ipC, ua: "httpie", cookie: "session=n", want: "1"},
			},
		},
		{
			name: "idle gap splits",
			hits: []hit{
				{cookie: "session=a", want: "1"},
				// 29 minutes later: still the same visit.
				{at: 29 * time.Minute, cookie: "session=a", want: "1"},
				// More than 30 minutes after the previous end: a new visit.
				{at: time.Hour, cookie: "session=a", want: "2"},
				// The browser's address identity pointed at session 1 too; it
				// must not drag requests back into it.
				{at: time.Hour + time.Second, want: "2"},
				{at: time.Hour + 2*time.Second, cookie: "session=a", want: "2"},
			},
		},
		{
			name: "a late exchange of an old session does not drag identities back",
			cfg:  GroupConfig{Idle: time.Minute},
			hits: []hit{
				{cookie: "session=a", setCookie: []string{"session=b"}, want: "1"},
				{at: 2 * time.Minute, cookie: "session=b", want: "2"},
				// Handed over late, still with the old cookie: it belongs to 1,
				// but the browser's address identity stays with 2.
				{at: 10 * time.Second, cookie: "session=a", want: "1"},
				{at: 2*time.Minute + time.Second, want: "2"},
			},
		},
		{
			name: "idle boundary is measured from the end of the latest exchange",
			cfg:  GroupConfig{Idle: time.Minute},
			hits: []hit{
				{dur: time.Second, want: "1"},
				// Starts exactly Idle after the end: kept.
				{at: time.Minute + time.Second, dur: time.Second, want: "1"},
				// Starts Idle and a nanosecond after the end: split.
				{at: 2*time.Minute + 2*time.Second + 1, want: "2"},
			},
		},
		{
			name: "a long exchange keeps its session active until it ends",
			cfg:  GroupConfig{Idle: time.Minute},
			hits: []hit{
				{dur: time.Second, want: "1"},
				// A 5-minute download.
				{at: 10 * time.Second, dur: 5 * time.Minute, want: "1"},
				{at: 6 * time.Minute, want: "1"},
			},
		},
		{
			name: "out-of-order arrival does not split",
			cfg:  GroupConfig{Idle: time.Minute},
			hits: []hit{
				{at: 5 * time.Minute, cookie: "session=a", want: "1"},
				// Started long before, handed over last (the proxy writes
				// exchanges on completion).
				{at: time.Second, dur: 5 * time.Minute, cookie: "session=a", want: "1"},
				{at: 0, want: "1"},
			},
		},
	})
}

// TestGrouperCookielessSplit checks when a request without a session cookie
// from the IP and User-Agent of a session that holds one starts a new session
// (another person on the same machine) and when it stays (the same browser).
func TestGrouperCookielessSplit(t *testing.T) {
	t.Parallel()
	const ms = time.Millisecond
	runGroupTests(t, []groupTest{
		{
			name: "two people from one address become two sessions",
			hits: []hit{
				// Person 1: first visit, gets a cookie, logs in (rotation).
				{url: "http://shop.example/login", setCookie: []string{"sessionid=p1a; Path=/; HttpOnly"}, want: "1"},
				{at: time.Second, url: "http://shop.example/login", cookie: "sessionid=p1a", setCookie: []string{"sessionid=p1b; Path=/"}, want: "1"},
				{at: 2 * time.Second, url: "http://shop.example/account", cookie: "sessionid=p1b", want: "1"},
				// Person 2, same machine and browser, a fresh cookie jar.
				{at: 5 * time.Second, url: "http://shop.example/login", setCookie: []string{"sessionid=p2a; Path=/"}, want: "2"},
				{at: 6 * time.Second, url: "http://shop.example/login", cookie: "sessionid=p2a", setCookie: []string{"sessionid=p2b; Path=/"}, want: "2"},
				{at: 7 * time.Second, url: "http://shop.example/account", cookie: "sessionid=p2b", want: "2"},
				// A late exchange of person 1 still finds person 1.
				{at: 8 * time.Second, url: "http://shop.example/logout", cookie: "sessionid=p1b", want: "1"},
				// Person 3 starts without a cookie and gets none yet (a static page).
				{at: 9 * time.Second, url: "http://shop.example/about", want: "3"},
				{at: 10 * time.Second, url: "http://shop.example/login", want: "3"},
			},
		},
		{
			name: "a first visit without a cookie that gets one stays one session",
			hits: []hit{
				{dur: 300 * ms, url: "http://shop.example/", setCookie: []string{"PHPSESSID=v1; path=/"}, want: "1"},
				// Sub-resources requested before the response ended carry no cookie.
				{at: 100 * ms, port: 50001, url: "http://shop.example/app.css", want: "1"},
				{at: 300 * ms, port: 50002, url: "http://shop.example/app.js", want: "1"},
				// Then the cookie comes with every request.
				{at: time.Second, url: "http://shop.example/cart", cookie: "PHPSESSID=v1", want: "1"},
				{at: 2 * time.Second, port: 50001, url: "http://shop.example/cart/add", cookie: "PHPSESSID=v1", want: "1"},
			},
		},
		{
			name: "login rotation from a cookieless start stays one session",
			hits: []hit{
				{url: "http://shop.example/login", setCookie: []string{"session=anon; Path=/"}, want: "1"},
				{at: time.Second, url: "http://shop.example/login", cookie: "session=anon", setCookie: []string{"session=user; Path=/; HttpOnly"}, want: "1"},
				{at: 2 * time.Second, cookie: "session=user", want: "1"},
				{at: 3 * time.Second, port: 50002, url: "http://shop.example/account", cookie: "session=user", want: "1"},
			},
		},
		{
			name: "requests outside the cookie's scope stay",
			hits: []hit{
				{url: "https://shop.example/app/login", setCookie: []string{"session=s1; Path=/app; Secure"}, want: "1"},
				{at: time.Second, url: "https://shop.example/app/home", cookie: "session=s1", want: "1"},
				// Another host, another path, plain http: the browser sends
				// the cookie to none of them.
				{at: 2 * time.Second, url: "https://cdn.shop.example/logo.png", want: "1"},
				{at: 3 * time.Second, url: "https://shop.example/favicon.ico", want: "1"},
				{at: 4 * time.Second, url: "https://shop.example/application", want: "1"},
				{at: 5 * time.Second, url: "http://shop.example/app/home", want: "1"},
				// A cross-site navigation may withhold SameSite cookies.
				{at: 6 * time.Second, url: "https://shop.example/app/home", fetchSite: "cross-site", want: "1"},
				// Inside the scope and without the cookie: someone else.
				{at: 7 * time.Second, url: "https://shop.example/app/", want: "2"},
			},
		},
		{
			name: "a Domain cookie covers subdomains",
			hits: []hit{
				{url: "http://www.shop.example/", setCookie: []string{"sid=d1; Domain=.shop.example; Path=/"}, want: "1"},
				{at: time.Second, url: "http://api.shop.example/v1/cart", cookie: "sid=d1", want: "1"},
				{at: 2 * time.Second, url: "http://example/", want: "1"},
				{at: 3 * time.Second, url: "http://static.shop.example/x.js", want: "2"},
			},
		},
		{
			name: "the default path is the directory of the request",
			hits: []hit{
				{url: "http://shop.example/wiki/index.php?title=Main", setCookie: []string{"wikidb_session=w1"}, want: "1"},
				{at: time.Second, url: "http://shop.example/wiki/index.php", cookie: "wikidb_session=w1", want: "1"},
				{at: 2 * time.Second, url: "http://shop.example/favicon.ico", want: "1"},
				{at: 3 * time.Second, url: "http://shop.example/wiki/load.php", want: "2"},
			},
		},
		{
			name: "a deleted or expired cookie is not expected",
			hits: []hit{
				{setCookie: []string{"session=a; Max-Age=60"}, want: "1"},
				{at: time.Second, cookie: "session=a", want: "1"},
				// Two minutes later the browser has dropped it.
				{at: 2 * time.Minute, want: "1"},
				{at: 3 * time.Minute, setCookie: []string{"session=b"}, want: "1"},
				{at: 3*time.Minute + time.Second, cookie: "session=b", setCookie: []string{"session=; Max-Age=0"}, want: "1"},
				// After a flash message was cleared the browser goes on without one.
				{at: 3*time.Minute + 2*time.Second, url: "http://shop.example/login", want: "1"},
			},
		},
		{
			name: "a logout ends the session for the next cookieless request",
			hits: []hit{
				{url: "http://shop.example/admin/login/", setCookie: []string{"csrftoken=c1; Path=/"}, want: "1"},
				{at: time.Second, url: "http://shop.example/admin/login/", cookie: "csrftoken=c1", setCookie: []string{"sessionid=p1; Path=/; HttpOnly"}, want: "1"},
				{at: 2 * time.Second, url: "http://shop.example/admin/", cookie: "csrftoken=c1; sessionid=p1", want: "1"},
				// Django's logout deletes the session cookie; the browser
				// started fetching the page before the logout ended.
				{at: 3 * time.Second, dur: time.Second, url: "http://shop.example/admin/logout/", cookie: "csrftoken=c1; sessionid=p1",
					setCookie: []string{`sessionid=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/`}, want: "1"},
				{at: 3*time.Second + 500*time.Millisecond, url: "http://shop.example/static/admin.css", cookie: "csrftoken=c1", want: "1"},
				// The next person logs in on the same browser.
				{at: 10 * time.Second, url: "http://shop.example/admin/login/", cookie: "csrftoken=c1", want: "2"},
				{at: 11 * time.Second, url: "http://shop.example/admin/login/", cookie: "csrftoken=c1", setCookie: []string{"sessionid=p2; Path=/"}, want: "2"},
				{at: 12 * time.Second, url: "http://shop.example/admin/", cookie: "csrftoken=c1; sessionid=p2", want: "2"},
				// WordPress logs out through a query.
				{at: 13 * time.Second, url: "http://shop.example/wp-login.php?action=logout&_wpnonce=1", cookie: "sessionid=p2",
					setCookie: []string{"sessionid=; Max-Age=0; Path=/"}, want: "2"},
				{at: 14 * time.Second, url: "http://shop.example/wp-login.php", want: "3"},
			},
		},
		{
			name: "a client that never sends cookies is never split",
			hits: []hit{
				{setCookie: []string{"session=x1"}, want: "1"},
				{at: time.Second, setCookie: []string{"session=x2"}, want: "1"},
				{at: 2 * time.Second, setCookie: []string{"session=x3"}, want: "1"},
			},
		},
		{
			name: "cookies a browser rejects are not expected",
			hits: []hit{
				// Secure from http, SameSite=None without Secure, a foreign Domain.
				{setCookie: []string{"session=r1; Secure", "sid=r2; SameSite=None", "sessionid=r3; Domain=other.example"}, want: "1"},
				{at: time.Second, cookie: "theme=dark; session=r1", want: "1"},
				{at: 2 * time.Second, want: "1"},
			},
		},
		{
			name: "a bearer session is not split by cookieless requests",
			hits: []hit{
				{setCookie: []string{"session=c1"}, auth: "Bearer t1", want: "1"},
				{at: time.Second, auth: "Bearer t1", want: "1"},
				// Never sent a cookie: static files without one stay.
				{at: 2 * time.Second, url: "http://shop.example/app.js", want: "1"},
			},
		},
	})
}

// TestGrouperKeys checks that keys count up from "1" and reveal no secret.
func TestGrouperKeys(t *testing.T) {
	t.Parallel()
	g := NewGrouper(GroupConfig{SessionCookie: "tok"})
	secrets := []string{"s3cr3t-cookie", "1", "Bearer eyJhbGciOi", "JSESSIONID-7F3A", "2"}
	hits := []hit{
		{ip: "10.0.0.1", cookie: "tok=" + secrets[0]},
		{ip: "10.0.0.2", cookie: "sid=" + secrets[1]},
		{ip: "10.0.0.3", auth: secrets[2]},
		{ip: "10.0.0.4", cookie: "JSESSIONID=" + secrets[3]},
		{ip: "10.0.0.5", cookie: "session=" + secrets[4]},
		{ip: "10.0.0.6"},
	}
	for i, h := range hits {
		got := g.Assign(h.exchange())
		if want := strconv.Itoa(i + 1); got != want {
			t.Errorf("hit %d: key %q, want %q", i, got, want)
		}
		for _, s := range secrets {
			if len(s) > 1 && strings.Contains(got, s) {
				t.Errorf("hit %d: key %q contains secret %q", i, got, s)
			}
		}
	}
	if got := g.Sessions(); got != len(hits) {
		t.Errorf("Sessions() = %d, want %d", got, len(hits))
	}
}

// TestGrouperConcurrent assigns from many goroutines; run it with -race.
func TestGrouperConcurrent(t *testing.T) {
	t.Parallel()
	const users, requests = 64, 25
	g := NewGrouper(GroupConfig{})
	keys := make([][]string, users)
	var wg sync.WaitGroup
	for u := range users {
		keys[u] = make([]string, requests)
		for r := range requests {
			wg.Go(func() {
				h := hit{
					at:     time.Duration(r) * time.Second,
					port:   40000 + u,
					cookie: fmt.Sprintf("session=user-%d", u),
				}
				if u%2 == 1 {
					// Odd users have their own address; even ones share a NAT
					// and a browser, so they also race on the weak identity.
					h.ip = fmt.Sprintf("10.1.%d.%d", u/256, u%256)
				}
				keys[u][r] = g.Assign(h.exchange())
			})
		}
	}
	wg.Wait()

	owner := make(map[string]int)
	for u, ks := range keys {
		for _, k := range ks {
			if k != ks[0] {
				t.Fatalf("user %d got keys %q and %q", u, ks[0], k)
			}
		}
		if o, ok := owner[ks[0]]; ok {
			t.Fatalf("users %d and %d share key %q", o, u, ks[0])
		}
		owner[ks[0]] = u
	}
	if got := g.Sessions(); got != users {
		t.Errorf("Sessions() = %d, want %d", got, users)
	}
	for i := 1; i <= users; i++ {
		if _, ok := owner[strconv.Itoa(i)]; !ok {
			t.Errorf("key %d not handed out", i)
		}
	}
}

// TestGrouperForgetsIdleIdentities checks that a long-running Grouper does not
// keep identities of finished sessions, and that forgetting changes nothing.
func TestGrouperForgetsIdleIdentities(t *testing.T) {
	t.Parallel()
	g := NewGrouper(GroupConfig{Idle: time.Minute})
	for u := range 100 {
		g.Assign(hit{ip: fmt.Sprintf("10.2.0.%d", u), cookie: fmt.Sprintf("sid=u%d", u)}.exchange())
	}
	remembered := func() int {
		g.mu.Lock()
		defer g.mu.Unlock()
		return len(g.ids)
	}
	if got := remembered(); got != 200 {
		t.Fatalf("remembered %d identities, want 200 (cookie and address per user)", got)
	}
	// Ten minutes later every earlier session is long over.
	if got := g.Assign(hit{at: 10 * time.Minute, ip: ipC, cookie: "sid=late"}.exchange()); got != "101" {
		t.Errorf("late user: key %q, want %q", got, "101")
	}
	if got := remembered(); got != 2 {
		t.Errorf("remembered %d identities, want 2", got)
	}
	// A forgotten user returning gets a new session, as it would anyway.
	if got := g.Assign(hit{at: 10 * time.Minute, ip: "10.2.0.5", cookie: "sid=u5"}.exchange()); got != "102" {
		t.Errorf("returning user: key %q, want %q", got, "102")
	}
}

// TestWellKnownSessionCookies checks the list is a copy and what it matches.
func TestWellKnownSessionCookies(t *testing.T) {
	t.Parallel()
	names := WellKnownSessionCookies()
	for _, want := range []string{"session", "sessionid", "sid", "PHPSESSID", "JSESSIONID", "connect.sid", "ASP.NET_SessionId"} {
		if !slices.Contains(names, want) {
			t.Errorf("WellKnownSessionCookies() lacks %q", want)
		}
	}
	names[0] = "changed"
	if WellKnownSessionCookies()[0] == "changed" {
		t.Error("WellKnownSessionCookies() returns shared storage")
	}

	g := NewGrouper(GroupConfig{SessionCookie: "X-Auth"})
	tests := []struct {
		name string
		want bool
	}{
		{name: "x-auth", want: true}, // configured, any case
		{name: "jsessionid", want: true},
		{name: "ASP.NET_SESSIONID", want: true},
		{name: "_myapp_session", want: true}, // Rails cookie store
		{name: "_session", want: false},      // suffix pattern needs a prefix
		{name: "session_prefs", want: false}, // not a prefix match
		{name: "csrftoken", want: false},
		{name: "", want: false},
	}
	for _, tc := range tests {
		if got := g.isSessionCookie(tc.name); got != tc.want {
			t.Errorf("isSessionCookie(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}
