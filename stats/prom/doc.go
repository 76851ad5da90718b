// Package prom serves a stats.Collector as Prometheus metrics (the /metrics
// handler of `amp replay --metrics ADDR`). It uses its own registry, never
// the global DefaultRegisterer, and reads the collector at each scrape:
//
//	amp_requests_total{method,name,status}      counter: finished tasks ("0" = transport error)
//	amp_failures_total{method,name,reason}      counter: failed tasks
//	amp_request_duration_seconds{method,name}   histogram: latency from the intended start
//	amp_users                                   gauge: current simulated users
//	amp_skipped_total{reason}                   counter: tasks not sent
//
// Counters restart from zero when the statistics are reset (Prometheus
// handles counter resets).
package prom
