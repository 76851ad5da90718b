// Package demosite is the demo target that amp records and replays against: a
// small blog with a visit counter, server-side sessions, CSRF tokens and random
// ids, whose latency, errors and capacity are tunable. New returns it as an
// http.Handler; it uses only the standard library and keeps all its state in
// the returned Site, which is safe for heavy concurrent use.
//
// # Routes
//
// HTML pages are "text/html; charset=utf-8", the API answers
// "application/json" (errors as {"error":"..."}). A known path with another
// method gets 405 with an Allow header, an unknown path 404.
//
//	GET  /                             200 page with the visit counter ("visited N times")
//	GET  /login                        200 login form; creates a session if there is none
//	POST /login                        303 to /articles; 400 empty user name or password; 403 bad CSRF token or session
//	POST /logout                       303 to /; 403 bad CSRF token or session
//	GET  /articles                     200 the ListLimit newest articles
//	GET  /articles/new                 200 article form; 303 to /login when anonymous
//	POST /articles                     303 to /articles/{id}; 400 empty or too long title; 403 anonymous or bad CSRF token
//	GET  /articles/{id}                200 article with its comments; 404 unknown id
//	GET  /api/articles/{id}            200 {"id","title","body","author","comments":[{"id","author","text"}]}; 404
//	POST /api/articles/{id}/comments   201 {"id","author","text"}; 400 bad JSON or text; 403; 404 unknown id
//	GET  /static/{style.css,app.js,logo.svg}  200 with ETag, Last-Modified, Cache-Control; 304 when unchanged
//	GET  /healthz                      200 "ok", never delayed, failed or queued
//
// Form and JSON bodies larger than MaxRequestBytes get 413.
//
// # Sessions and CSRF
//
// A session lives on the server, keyed by a random id carried in the
// SessionCookie cookie (HttpOnly, Path=/, SameSite=Lax). It holds a random CSRF
// token and the user name, empty while anonymous. GET /login creates a session
// when the request has none; no other route does. The token appears in every
// HTML page of a request with a session, as <meta name="csrf-token"> and as the
// hidden csrf_token field of forms. Forms send it back as csrf_token, the
// comment API as the X-CSRF-Token header.
//
// Any non-empty user name and password log in. A login rotates the session:
// the old id stops working and the new session has a new CSRF token, so a
// replay that sends recorded cookies or tokens gets 403 (or a redirect to
// /login), and one that reuses a recorded article or comment id gets 404.
//
// # Load behaviour
//
// Every request except /healthz first takes one of Config.Capacity slots,
// queueing while none is free, then waits Config.Latency plus a uniformly
// random 0..Config.Jitter while holding the slot, so throughput is at most
// Capacity/Latency and queueing adds latency as load grows. If the client goes
// away while the request queues or waits, the wait stops and the slot is
// released. A fraction Config.ErrorRate of the requests that got through is then
// answered 500 without being served (no counter, article or comment changes);
// static assets are never failed, since they are the kind of content a CDN
// would serve. Site.Stats reports the counters.
//
// # Memory
//
// Stored state is bounded so that a long load test cannot exhaust memory: at
// most MaxSessions sessions and MaxArticles articles (oldest evicted first),
// MaxCommentsPerArticle comments per article (oldest dropped first), and about
// MaxStoredBytes of article and comment data, beyond which the oldest articles
// are evicted. Input is limited by MaxUsernameBytes, MaxTitleBytes,
// MaxTextBytes and MaxRequestBytes.
package demosite
