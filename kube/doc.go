// Package kube runs one amp replay as N shards on Kubernetes and brings the
// shards' results back for an exact merge.
//
// Build turns a Config into the objects of one run, made with the Kubernetes
// API types (k8s.io/api) and printed as YAML by Objects.WriteYAML:
//
//   - a batch/v1 Job in Indexed completion mode, completions = parallelism =
//     Shards; pod I runs
//     amp replay REC --shard $(JOB_COMPLETION_INDEX)/N --start-at T --metrics :9464 --print-result [flags]
//     so the N pods are the N equal parts of one test and all start at T
//     (ramps line up; a pod scheduled late catches up, because ramps count
//     from T). A failed shard is not retried (backoffLimitPerIndex 0): a
//     shard re-run late would no longer be part of the same test;
//   - a ConfigMap holding the recording (binaryData, mounted read-only at
//     /recording) when it is small enough (MaxConfigMapRecording), else the
//     pods fetch Config.RecordingURL themselves;
//   - a headless Service over the pods' "metrics" port, and prometheus.io
//     scrape annotations on the pods, so that Prometheus (annotation-based
//     discovery, or a ServiceMonitor/PodMonitor on the labels) scrapes each
//     shard's live /metrics; sum over pods for the totals.
//
// Results leave the pods through their logs: with --print-result, amp replay
// ends its output with the result JSON, gzipped and base64-encoded between
// PEM marker lines (WriteResult). Logs need no volume, survive the pod's end
// for as long as the Job is kept (TTL), and are what every cluster already
// collects. Collect runs kubectl to read each index's pod log, decodes the
// block (ReadResults) and writes one JSON file per shard, ready for
// "amp report --merge". Saved logs (from a log store, say) decode the same
// way. When a cluster keeps no logs, Config.ResultsClaim mounts a
// ReadWriteMany PersistentVolumeClaim at /results and each pod also writes
// its result there, to fetch with kubectl cp from any pod mounting the claim.
package kube
