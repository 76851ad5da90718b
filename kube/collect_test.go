package kube_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/kube"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// fakeKubectl writes a kubectl stand-in that answers from files in dir:
// job.json (or job-N.json for its N-th "get job"), pods.json, POD.log; it
// appends each call to dir/calls.
func fakeKubectl(t *testing.T, dir string) string {
	t.Helper()
	script := `#!/bin/sh
D='` + dir + `'
echo "$@" >> "$D/calls"
while [ $# -gt 0 ]; do case "$1" in --context|--namespace) shift 2;; *) break;; esac; done
case "$1" in
get)
  case "$2" in
  job)
    [ -f "$D/job.json" ] || [ -f "$D/job-1.json" ] || { echo "Error from server (NotFound): jobs.batch \"$3\" not found" >&2; exit 1; }
    n=$(cat "$D/polls" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$D/polls"
    if [ -f "$D/job-$n.json" ]; then cat "$D/job-$n.json"; else cat "$D/job.json"; fi ;;
  pods) cat "$D/pods.json" ;;
  *) echo "fake kubectl: get $2?" >&2; exit 2 ;;
  esac ;;
logs)
  [ -f "$D/$2.log" ] || { echo "Error from server (NotFound): pods \"$2\" not found" >&2; exit 1; }
  cat "$D/$2.log" ;;
*) echo "fake kubectl: $*?" >&2; exit 2 ;;
esac
`
	path := filepath.Join(dir, "kubectl")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func testJob(shards int32, done bool) *batchv1.Job {
	mode := batchv1.IndexedCompletion
	j := &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{Name: "amp-shop", Namespace: "load"},
		Spec:       batchv1.JobSpec{CompletionMode: &mode, Completions: &shards, Parallelism: &shards},
		Status:     batchv1.JobStatus{Active: shards - 1, Succeeded: 1},
	}
	if done {
		j.Status = batchv1.JobStatus{Succeeded: 1, Failed: shards - 1, Conditions: []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionTrue}}}
	}
	return j
}

func testPod(name string, index int, phase corev1.PodPhase, exit int32, reason string, created time.Time) corev1.Pod {
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(created),
			Labels:      map[string]string{kube.LabelJobName: "amp-shop"},
			Annotations: map[string]string{kube.AnnotationIndex: fmt.Sprint(index)}},
		Status: corev1.PodStatus{Phase: phase},
	}
	if phase == corev1.PodSucceeded || phase == corev1.PodFailed {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: kube.Container,
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: exit, Reason: reason}}}}
	}
	return p
}

// podLog is what a shard's pod prints: the report, then its result block.
func podLog(t *testing.T, shard string, requests int) []byte {
	t.Helper()
	var b bytes.Buffer
	fmt.Fprintf(&b, "replaying /recording/shop.amp: 2 sessions\nshard %s\n Type  Name  # reqs\n", shard)
	if err := kube.WriteResult(&b, shard, fmt.Appendf(nil, `{"version":1,"requests":%d}`, requests)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// setUpJob lays out a finished 3-shard Job: shard 0 succeeded; shard 1 was
// tried twice (an OOMKilled pod, then one whose threshold failed: exit 99,
// with a result); shard 2 was OOMKilled before printing its result.
func setUpJob(t *testing.T) (dir, kubectl string) {
	dir = t.TempDir()
	kubectl = fakeKubectl(t, dir)
	t0 := time.Date(2030, 1, 2, 3, 0, 0, 0, time.UTC)
	writeJSON(t, filepath.Join(dir, "job.json"), testJob(3, true))
	writeJSON(t, filepath.Join(dir, "pods.json"), corev1.PodList{Items: []corev1.Pod{
		testPod("amp-shop-0-aaaaa", 0, corev1.PodSucceeded, 0, "Completed", t0),
		testPod("amp-shop-1-old00", 1, corev1.PodFailed, 137, "OOMKilled", t0),
		testPod("amp-shop-1-new00", 1, corev1.PodFailed, 99, "Error", t0.Add(time.Minute)),
		testPod("amp-shop-2-ccccc", 2, corev1.PodFailed, 137, "OOMKilled", t0),
		testPod("unrelated", 7, corev1.PodSucceeded, 0, "", t0), // an index beyond the Job's
	}})
	for name, log := range map[string][]byte{
		"amp-shop-0-aaaaa": podLog(t, "0/3", 100),
		"amp-shop-1-old00": []byte("replaying ...\n"),
		"amp-shop-1-new00": podLog(t, "1/3", 110),
		"amp-shop-2-ccccc": []byte("replaying ...\n 1000 users\n"),
	} {
		if err := os.WriteFile(filepath.Join(dir, name+".log"), log, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, kubectl
}

func TestCollect(t *testing.T) {
	t.Parallel()
	dir, kubectl := setUpJob(t)
	out := filepath.Join(t.TempDir(), "results")
	var progress bytes.Buffer
	col, err := kube.Collect(context.Background(), kube.CollectConfig{
		Job: "amp-shop", Namespace: "load", Context: "prod", Kubectl: kubectl, Dir: out, Progress: &progress})
	if err == nil || !strings.Contains(err.Error(), "1 of 3 shards have no result (shard 2: pod amp-shop-2-ccccc (Failed, exit code 137 OOMKilled): no result in its log)") {
		t.Fatalf("error %v", err)
	}
	if len(col.Files) != 2 || col.Shards != 3 || len(col.Missing) != 1 || col.Missing[0] != 2 {
		t.Fatalf("collected %+v", col)
	}
	for i, want := range []string{`{"version":1,"requests":100}`, `{"version":1,"requests":110}`} {
		got, err := os.ReadFile(filepath.Join(out, fmt.Sprintf("shard-%d.json", i)))
		if err != nil || string(got) != want {
			t.Errorf("shard %d: %q (%v), want %q", i, got, err, want)
		}
	}
	calls, _ := os.ReadFile(filepath.Join(dir, "calls"))
	for _, want := range []string{
		"--context prod --namespace load get job amp-shop --output json",
		"--context prod --namespace load get pods --selector batch.kubernetes.io/job-name=amp-shop --output json",
		"--context prod --namespace load logs amp-shop-1-new00 --container amp",
	} {
		if !strings.Contains(string(calls), want+"\n") {
			t.Errorf("kubectl was not called with %q; calls:\n%s", want, calls)
		}
	}
	// The newer pod of shard 1 held the result: the older one was not read.
	if strings.Contains(string(calls), "amp-shop-1-old00") {
		t.Errorf("read the older pod of shard 1 although the newer one had a result:\n%s", calls)
	}
	if !strings.Contains(progress.String(), "reading the log of amp-shop-0-aaaaa (shard 0/3, Succeeded)") {
		t.Errorf("progress: %s", progress.String())
	}

	// Collecting again into the same directory refuses to overwrite.
	if _, err := kube.Collect(context.Background(), kube.CollectConfig{Job: "amp-shop", Kubectl: kubectl, Dir: out}); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("second collect: %v", err)
	}
}

func TestCollectWaits(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	kubectl := fakeKubectl(t, dir)
	writeJSON(t, filepath.Join(dir, "job-1.json"), testJob(2, false))
	writeJSON(t, filepath.Join(dir, "job-2.json"), testJob(2, false))
	done := testJob(2, true)
	done.Status = batchv1.JobStatus{Succeeded: 2, Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}}
	writeJSON(t, filepath.Join(dir, "job.json"), done)
	writeJSON(t, filepath.Join(dir, "pods.json"), corev1.PodList{Items: []corev1.Pod{
		testPod("p0", 0, corev1.PodSucceeded, 0, "", time.Time{}), testPod("p1", 1, corev1.PodSucceeded, 0, "", time.Time{})}})
	os.WriteFile(filepath.Join(dir, "p0.log"), podLog(t, "0/2", 5), 0o644)
	os.WriteFile(filepath.Join(dir, "p1.log"), podLog(t, "1/2", 6), 0o644)

	// Without --wait, a running Job is refused.
	_, err := kube.Collect(context.Background(), kube.CollectConfig{Job: "amp-shop", Kubectl: kubectl, Dir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "job amp-shop is still running (1 of 2 shards done, 0 failed, 1 running)") {
		t.Fatalf("running job without --wait: %v", err)
	}
	var progress bytes.Buffer
	col, err := kube.Collect(context.Background(), kube.CollectConfig{Job: "amp-shop", Kubectl: kubectl, Dir: t.TempDir(),
		Wait: time.Minute, Poll: time.Millisecond, Progress: &progress})
	if err != nil || len(col.Files) != 2 {
		t.Fatalf("collect with --wait: %+v, %v", col, err)
	}
	if n := strings.Count(progress.String(), "waiting for job amp-shop"); n != 1 {
		t.Errorf("%d waiting lines, want 1 (the Job finished at the third look):\n%s", n, progress.String())
	}
}

func TestCollectErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	kubectl := fakeKubectl(t, dir)
	_, err := kube.Collect(context.Background(), kube.CollectConfig{Job: "nope", Kubectl: kubectl, Dir: t.TempDir()})
	if err == nil || err.Error() != `kubectl get job nope: Error from server (NotFound): jobs.batch "nope" not found` {
		t.Errorf("missing job: %v", err)
	}
	_, err = kube.Collect(context.Background(), kube.CollectConfig{Job: "x", Kubectl: filepath.Join(dir, "no-kubectl"), Dir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "not found: install kubectl or give its path with --kubectl") {
		t.Errorf("no kubectl: %v", err)
	}
	j := testJob(2, true)
	j.Spec.CompletionMode = nil
	writeJSON(t, filepath.Join(dir, "job.json"), j)
	_, err = kube.Collect(context.Background(), kube.CollectConfig{Job: "amp-shop", Kubectl: kubectl, Dir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "not an Indexed Job") {
		t.Errorf("non-indexed job: %v", err)
	}
}

func TestSaveResults(t *testing.T) {
	t.Parallel()
	res := func(shard string, n int) kube.Result {
		return kube.Result{Shard: shard, JSON: fmt.Appendf(nil, `{"version":1,"requests":%d}`, n)}
	}
	dir := t.TempDir()
	var all []kube.Result
	for i := range 12 {
		all = append(all, res(fmt.Sprintf("%d/12", 11-i), i))
	}
	col, err := kube.SaveResults(dir, all, 0)
	if err != nil || col.Shards != 12 || len(col.Files) != 12 || col.Err() != nil {
		t.Fatalf("%+v %v", col, err)
	}
	if filepath.Base(col.Files[0]) != "shard-00.json" || filepath.Base(col.Files[11]) != "shard-11.json" {
		t.Errorf("files %v: want zero-padded names that sort", col.Files)
	}
	if b, _ := os.ReadFile(col.Files[11]); string(b) != `{"version":1,"requests":0}` {
		t.Errorf("shard-11.json = %s", b)
	}
	for _, tc := range []struct {
		name    string
		results []kube.Result
		want    string
	}{
		{"duplicate", []kube.Result{res("1/2", 1), res("1/2", 2)}, "two results of shard 1/2"},
		{"two runs", []kube.Result{res("0/2", 1), res("0/3", 2)}, "results of runs with 2 and 3 shards"},
		{"bad header", []kube.Result{res("2/2", 1)}, `bad Shard header "2/2"`},
		{"not a result", []kube.Result{{Shard: "0/1", JSON: []byte(`{"x":1}`)}}, "shard 0/1: "},
		{"two jobs of one name", []kube.Result{
			{Shard: "0/2", JSON: []byte(`{"version":1,"requests":1,"config":{"run_id":"aaaaaaaaaaaaaaaa","shard":"0/2"}}`)},
			{Shard: "1/2", JSON: []byte(`{"version":1,"requests":1,"config":{"run_id":"bbbbbbbbbbbbbbbb","shard":"1/2"}}`)},
		}, "shard 0/2 and shard 1/2 are results of different runs"},
	} {
		if _, err := kube.SaveResults(t.TempDir(), tc.results, 0); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	col, err = kube.SaveResults(t.TempDir(), []kube.Result{res("1/3", 1)}, 0)
	if err != nil || col.Err() == nil || !strings.Contains(col.Err().Error(), "2 of 3 shards have no result (shard 0: not in the logs given; shard 2: not in the logs given); wrote the other 1") {
		t.Errorf("missing shards: %v / %v", err, col.Err())
	}
}
