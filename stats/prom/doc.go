// Package prom serves a stats.Collector as Prometheus metrics (the /metrics
// handler of `amp replay --metrics ADDR`). It uses its own registry, never
// the global DefaultRegisterer, and reads the collector at each scrape.
// Every series has the label run (the run id of the collector's
// configuration, shared by the shards of one run):
//
//	amp_requests_total{method,name,status}       counter: finished tasks ("0" = transport error)
//	amp_failures_total{method,name,reason}       counter: failed tasks
//	amp_request_duration_seconds{method,name}    histogram: latency from the intended start
//	amp_bytes_sent_total{method,name}            counter: request bytes sent
//	amp_bytes_received_total{method,name}        counter: response bytes received
//	amp_late_total{method,name}                  counter: tasks sent more than 10 ms late
//	amp_slowdown_ratio{method,name,quantile}     gauge: replayed ÷ recorded, of p50 and p95
//	amp_sessions_total{result}                   counter: sessions completed or failed
//	amp_users, amp_target_users                  gauges: users running, users asked for
//	amp_skipped_total{reason}                    counter: tasks not sent
//	amp_dropped_sessions_total                   counter: arrivals with no free user
//	amp_run_start_timestamp_seconds              gauge: the run's first intended start
//	amp_run_end_timestamp_seconds                gauge: when its last task finished so far
//	amp_build_info{version,goversion,revision}   gauge: 1
//
// The latency histogram has both the classic buckets of Buckets (text and
// protobuf scrapes) and native buckets of NativeSchema (protobuf scrapes, for
// a Prometheus with native histograms), re-binned from amp's HdrHistograms
// so that histogram_quantile over them is within 1.1 % of amp's own
// percentiles.
//
// Counters restart from zero when the statistics are reset (Prometheus
// handles counter resets).
package prom
