// Package dashboards holds the dashboards that ship with amp, over its
// Prometheus /metrics (see stats/prom): grafana/amp.json, a Grafana
// dashboard of one run and all its shards (requests/s by status, failures
// by reason, p50/p95/p99 from the native histograms and from the classic
// buckets, p95 by endpoint, users against the target, bytes, sessions,
// slowdown against the recording). Import it in Grafana (Dashboards → New →
// Import) and pick the Prometheus data source and the run.
//
// The package has no code: its test replays traffic against a loopback
// server, scrapes amp's /metrics as Prometheus does, and checks that every
// query of the dashboard parses with Prometheus's PromQL parser, names only
// metrics the scrape has, and gives an answer from Prometheus's engine.
package dashboards
