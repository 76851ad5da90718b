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
//   - a Secret holding the recording (it holds cookies and passwords;
//     mounted read-only at /recording, readable by the pod's group only)
//     when it fits (MaxSecretRecording, the API server's 1 MiB); else each
//     pod's amp replay fetches Config.RecordingURL itself at its start (the
//     URL, which may grant access, is in the Secret and reaches amp through
//     an environment variable), or reads it from a PersistentVolumeClaim
//     mounted read-only (Config.RecordingClaim);
//   - a headless Service over the pods' "metrics" port, and prometheus.io
//     scrape annotations on the pods, so that Prometheus (annotation-based
//     discovery, or a ServiceMonitor/PodMonitor on the labels) scrapes each
//     shard's live /metrics; sum over pods for the totals.
//
// Each pod's memory request and limit come from PodMemory, an estimate from
// counts of the recording and of the run (Load: exchanges, bytes, the
// largest session and exchange, sessions in flight per pod), so that a big
// recording is not OOM-killed; LoadOf takes the counts from a loaded
// recording, and a session index can give them without loading it.
//
// Config.Validate reports each problem as a FieldError naming the Config
// field, which a command line maps to its flag (FieldError.Text).
//
// Results leave the pods through their logs: with --print-result, amp replay
// ends its output with the result JSON, gzipped and base64-encoded between
// PEM marker lines (WriteResult). Logs need no volume, survive the pod's end
// for as long as the Job is kept (TTL), and are what every cluster already
// collects. Collect runs kubectl to read each index's pod log, decodes the
// block (ReadResults) and writes one JSON file per shard, ready for
// "amp report --merge". Saved logs (from a log store, say) decode the same
// way. LateShards names the shards that began after the shared start (a pod
// that waited for room on a node): their results are whole, but the merge
// is not the load planned. When a cluster keeps no logs, Config.ResultsClaim mounts a
// ReadWriteMany PersistentVolumeClaim at /results and each pod also writes
// its result there, to fetch with kubectl cp from any pod mounting the claim.
package kube
