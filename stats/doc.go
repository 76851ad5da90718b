// Package stats measures a load test: it records every finished task into
// HdrHistograms per endpoint, keeps exact counts, a one-second time series and
// the failures by reason, and renders the result as a live console table, a
// versioned JSON document, Locust-compatible CSV files, a self-contained HTML
// report, threshold verdicts (k6's grammar) and, in package stats/prom,
// Prometheus metrics. It knows nothing of HTTP clients or of the replay
// engine: callers hand it Samples with the times they measured.
//
// # Recording
//
// A Collector owns the statistics. Register each endpoint once with
// Collector.Endpoint (a method and a name such as "/articles/{id}", see
// Namer), give each worker goroutine its own Recorder (Collector.NewRecorder)
// and call Recorder.Record for each finished task. Record does not lock,
// allocate or read the clock: it appends the sample to the recorder's own
// small ring, which the recorder or a snapshot folds into one of a few sharded
// aggregates in batches. Collector.Snapshot merges everything recorded so far
// into a Result at any moment, while recording goes on.
//
// # Latency
//
// Each Sample carries three times. Latency (the headline figure, wrk2's
// "corrected" latency) is Done − Intended: measured from when the plan meant
// the request to start, so that a stalled target or an overloaded load
// generator shows up in the numbers instead of silently delaying the next
// request (coordinated omission). Service time is Done − Sent: how long the
// target took once the request was on its way. In the closed model Intended
// equals Sent and both agree. Slowdown compares the service time with the
// recorded duration of the same endpoint (Collector.SetRecorded).
//
// Histograms hold microseconds from 1 µs to 1 h with 3 significant digits
// (every value within 0.1 %); the minimum, maximum and average are exact.
// Percentiles are clamped to the exact minimum and maximum, so p100 is the
// true maximum.
//
// # Time series
//
// Samples are counted in the wall-clock second (Unix time) of their Done
// time, so results of several processes line up second by second and merge
// exactly (Merge). Each point holds the users, requests, failures, bytes and
// the latency distribution of that second (2 significant digits), from which
// p50, p95 and p99 are derived.
//
// Result.WindowPercentiles merges the per-second histograms of a window of
// the series (the web UI's "current" percentiles of the last 10 s).
//
// # Rendering
//
// Every renderer writes to an io.Writer: Result.WriteJSON, WriteCSV (one of
// Locust's four files), WriteHTML, WriteReport, Console, Comparison.WriteText,
// and for CI WriteJUnit (a test case per threshold, check and kind of
// difference, see CIOptions) and WriteSummary (Markdown). Files is what a
// command was asked to write; its Write opens each file through
// internal/outfile, so that a file is replaced only once it is complete (the
// summary is appended to, as a CI job's summary page collects steps).
//
// The Console shows a live table every 2 s on a terminal and one progress
// line every 10 s elsewhere (Interval); given the terminal's width
// (SetWidth), tables wider than it take a narrow layout.
//
// # The JSON result (version 1)
//
// Result.WriteJSON writes one JSON object; ReadResult reads it back, and
// `amp report` re-renders it. Durations are milliseconds (float), times RFC
// 3339 with nanoseconds, histograms base64 HdrHistogram V2 compressed
// encodings of microsecond values (readable by every HdrHistogram
// implementation). Top-level fields:
//
//	version         1; a reader refuses a newer version
//	config          the run's configuration, as set by the caller (SetConfig)
//	start, end      first intended start and last completion; duration_s between them
//	requests        tasks finished, failed or not           (totals of all endpoints)
//	failures        tasks that failed; failure_rate = failures / requests
//	rps             requests per second over duration_s; failures_per_s likewise
//	bytes           response bytes received
//	bytes_sent      request bytes sent
//	latency_ms      {avg, min, max, p50, p95, p99, and each configured percentile "pN"}
//	service_ms      the same for the service time
//	statuses        {"200": n, ...}; "0" counts transport errors
//	slowdown        {p50, p95 (replayed ÷ recorded service time), recorded_p50_ms,
//	                 recorded_p95_ms, replayed_p50_ms, replayed_p95_ms, recorded}
//	users           peak simulated users
//	percentiles     the percentiles reported, e.g. [50, 66, ..., 100]
//	endpoints[]     {method, name, and the fields above for that endpoint,
//	                 latency_hdr, service_hdr, recorded_hdr, failed_hdr (the latency of
//	                 its failed tasks, for the HTML report's bands), series (its own
//	                 time series: t0, then requests, failures, avg_ms and max_ms arrays
//	                 of one value a second)}
//	errors[]        {method, name, reason, sample, count, first_seen, last_seen}; at most
//	                MaxReasons reasons per endpoint, the rest as "other"; sample is
//	                an example (valid UTF-8, at most MaxSampleLen bytes), may be absent
//	skipped         {reason: tasks not sent}
//	sessions        {completed, failed}: sessions that ran to their end, failed when any
//	                of their requests failed (Collector.SessionDone); a session cut by the
//	                end of the run counts under neither
//	series[]        {t (Unix second), elapsed_s, users, requests, failures, bytes, bytes_sent,
//	                 avg_ms, min_ms, max_ms, p50_ms, p95_ms, p99_ms, hdr}
//	thresholds[]    {expr, pass, observed, limit, unit, over, message}
//
// The fields requests, failures, rps, latency_ms and endpoints[] with method,
// name, requests and failures are stable: scripts may rely on them.
package stats
