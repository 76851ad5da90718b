// Package replay fans recorded sessions out over many simulated users.
//
// A Plan prepares a capture.Recording for replay: every session becomes a
// Script of Tasks, hosts are mapped to Targets (the recording's main host to
// Config.Host, others through Config.Map; requests to hosts mapped neither way
// are skipped and counted, never sent), and correlations are learned (Learn):
// values the server generated in a recorded response — CSRF tokens in forms,
// meta tags and headers, ids in JSON bodies and Location headers, tokens in
// query strings — that later requests of the session sent back. A Player runs
// the plan:
//
//   - closed model (Locust's): Config.Users users, started at Config.Rate per
//     second, each replaying sessions one after another with the recorded
//     think time divided by Config.Speed (or none, or a fixed pause); users
//     and rate can be changed while running (SetUsers, SetRate);
//   - open model (Config.Timeline): every session starts at its recorded
//     offset divided by Config.Speed, Config.Multiple copies of it, spread so
//     they do not arrive in lock-step (Timeline), looping when Config.Loop.
//
// Each simulated user has its own cookie jar, its own correlated values and
// its own keep-alive connections, like a browser. Requests are written by a
// lean HTTP/1.1 client from pre-built bytes (method, path, query, headers in
// recorded order and body; Host, Content-Length, Cookie and hop-by-hop fields
// fixed up), so a request costs next to no allocations.
//
// # Measurement
//
// Every task gives a stats.Sample with three times: Intended (when the plan
// meant to send it), Sent and Done. In the open model a task's intended start
// is its session copy's start plus its recorded offset; when the previous task
// of the copy ran late the task starts late, and its latency counts from the
// intended start (free of coordinated omission, as wrk2), with the late start
// visible as Sent − Intended. In the closed model the think time is the
// user's own behaviour, so Intended equals Sent. A task fails on a transport
// error (refused, reset, timeout), a 5xx, or a 4xx where the recording had a
// 2xx or 3xx.
package replay
