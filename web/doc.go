// Package web is amp's browser UI for a replay, Locust's :8089 for recorded
// traffic: a start form, live statistics (the console's columns with the
// slowdown against the recording), charts of requests and failures per
// second, response times (p50, p95, p99) and users that update every
// second (each saved as PNG by its button), the thresholds of
// Config.Thresholds judged live, status codes, bytes and sessions, the
// failures, the recording's sessions and the correlations learned from
// them, Edit (users and spawn rate while running), Stop, Reset stats, and
// downloads of Locust's CSV files, the JSON result and the HTML report.
//
// The page opened with ?snapshot=1 loads the live view once, draws it
// without the event stream and marks <html data-snapshot="ready">: a
// headless browser's screenshot after load shows current data.
//
// A Server is an http.Handler; the caller listens (on loopback unless told
// otherwise) and calls Close at the end. Each start builds a new Run through
// Config.NewRun and plays it in its own goroutine; a Player runs once, so
// "New test" after a stop builds a new plan, collector and player. The page
// is plain HTML, CSS and JavaScript embedded in the binary (go:embed) with
// its own SVG charts: no CDN, it works offline.
//
// # Locust's REST API
//
// Scripts written for Locust's web API drive amp unchanged (paths, form
// fields and JSON field names as Locust 2.x):
//
//	POST /swarm                 start: user_count, spawn_rate, host, run_time; amp's own
//	                            fields duration, timeline, multiple, speed, iterations,
//	                            loop, think. While a replay runs it changes user_count
//	                            and spawn_rate instead (Locust's Edit).
//	                            → {"success", "message", "host"[, "run_time"]}
//	GET  /stop                  graceful stop → {"success", "message"}
//	GET  /stats/reset           reset the statistics → "ok"
//	GET  /stats/requests        {"stats": [{method, name, num_requests, num_failures,
//	                            avg/min/max/median_response_time, current_rps,
//	                            current_fail_per_sec, ninetieth_response_time,
//	                            "response_time_percentile_0.95", "..._0.99",
//	                            avg_content_length, ...}, ... the "Aggregated" row],
//	                            "errors", "total_rps", "total_fail_per_sec", "fail_ratio",
//	                            "current_response_time_percentiles", "state", "user_count"}
//	GET  /stats/requests/csv    Locust's _stats.csv
//	GET  /stats/requests_full_history/csv   _stats_history.csv
//	GET  /stats/failures/csv    _failures.csv
//	GET  /stats/traffic/csv     amp's _traffic.csv: bytes and status codes per endpoint, sessions
//	GET  /stats/report          the HTML report (?download=1 as a file)
//
// Response times are milliseconds from each task's intended start; current
// rates are those of the last 10 seconds, current percentiles those of the
// last 10 whole seconds, as Locust's.
//
// # amp's API
//
//	GET /api/info               the recording's summary and the form's defaults
//	GET /api/state[?since=T]    the live view (the polling fallback)
//	GET /api/events             the live view as server-sent events, one a second
//	GET /api/result             the full stats.Result JSON (?download=1 as a file)
//	GET /api/sessions           the recorded sessions (?offset=&limit=)
//	GET /api/sessions/{i}       one session's requests and correlations
//	GET /api/correlations       the learned correlations, grouped across sessions
//
// # Safety
//
// The UI can send load anywhere, so a request that arrived on a loopback
// address must name a loopback host (localhost or an IP address), which
// defeats DNS rebinding, and browsers' cross-site requests that change
// state (POST /swarm, GET /stop, GET /stats/reset) are refused.
package web
