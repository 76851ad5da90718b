// Package replay fans recorded sessions out over many simulated users.
//
// A Plan prepares a capture.Recording for replay: every session becomes a
// Script of Tasks, hosts are mapped to Targets (the recording's main host to
// Config.Host, others through Config.Map; requests to hosts mapped neither way
// are skipped and counted, never sent), and correlations are learned (Learn):
// values the server generated in a recorded response and later requests of
// the session sent back, each found by the structure of the response (a
// redirect's Location segment, a form field by its name, a link, a JSON
// member, Set-Cookie) and written back into the exact place — path segment,
// query or form parameter, multipart part, JSON member, header — that the
// recording sent it in. Short values (the ids 1, 2, 5 of a fresh database)
// are correlated only where that structure is unambiguous. Values the
// client made itself (ClientValues) are made afresh per user and session;
// --data rows (DataSet, Feed) replace the values recorded under their
// columns' names. Verify is the validation pass: one session of each shape
// replayed once, whatever came back different becoming a rule too, which
// the run's plan then gets through Config.Rules (a Plan does not change once
// built; what a replay counts lives in its Player).
//
// A Run is one replay ready to start, the way the command line, the web UI
// and tests start them all: NewRun builds the plan, runs the validation pass
// if asked, caps connections at the open-file limit, and readies a
// stats.Collector and a Player; Run.Run replays, stopping early when a
// threshold fails under RunOptions.AbortOnFail. The Player runs the plan:
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
// fixed up), so a request costs next to no allocations. An https target is
// offered h2 by ALPN (Config.HTTP1 turns it off) and an http one speaks h2c
// with Config.H2C: then each user multiplexes on its one connection the
// requests that overlapped in the recording (see h2.go), and a gRPC call
// fails on a non-zero grpc-status as "grpc: CODE".
//
// # WebSocket
//
// A task whose recorded request upgraded to WebSocket (capture.Exchange.WS)
// replays its conversation: the user opens a connection of its own for the
// upgrade (its cookies and live values, a fresh key, no extensions), then
// sends the client's text and binary messages after their recorded pauses
// (Config.Think and Speed apply; on the timeline each keeps its offset from
// the 101), waiting, within Config.Timeout, for as many server messages as
// the client had received before each one. The conversation plays between
// the session's later tasks, on the user's goroutine: before each task the
// messages recorded before it go out and the server's recorded before it
// are waited for; the rest plays at the session's end. Values in client messages are
// correlated like those of requests, from the server's earlier messages
// (SourceWS, a JSON member) or from earlier responses. The upgrade's
// endpoint times the handshake and counts the messages
// (stats.Collector.AddMessages); an endpoint of method MethodWS times each
// message the server answered to that answer. The failure reasons are
// ReasonWSRefused, ReasonWSClosedEarly and ReasonWSReplyTimeout.
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
// error (refused, reset, timeout), a 5xx, a 4xx where the recording had a
// 2xx or 3xx, a response that differs from its recording (status, redirect,
// title, form set, JSON shape, size; see Config.CheckMode and ParseCheck),
// or a response that lacks a value the recording's had and later tasks need.
package replay
