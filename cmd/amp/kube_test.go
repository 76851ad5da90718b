package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/demosite"
	"github.com/ampload/amp/kube"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// kubeObjects reads amp kube job's YAML back into the API types, strictly
// (unknown fields are errors).
func kubeObjects(t *testing.T, out string) (*corev1.Secret, *corev1.Service, *batchv1.Job) {
	t.Helper()
	var sec *corev1.Secret
	var svc *corev1.Service
	var job *batchv1.Job
	for _, doc := range strings.Split(out, "\n---\n") {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatal(err)
		}
		var obj any
		switch tm.Kind {
		case "Secret":
			sec = &corev1.Secret{}
			obj = sec
		case "Service":
			svc = &corev1.Service{}
			obj = svc
		case "Job":
			job = &batchv1.Job{}
			obj = job
		default:
			t.Fatalf("unexpected kind %q", tm.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			t.Fatalf("%s: %v", tm.Kind, err)
		}
	}
	if svc == nil || job == nil {
		t.Fatalf("no Service or Job in\n%s", out)
	}
	return sec, svc, job
}

// fakeKubectlOnPath puts a kubectl on PATH that answers "get job", "get
// pods" and "logs POD" from dir/job.json, dir/pods.json and dir/POD.log.
func fakeKubectlOnPath(t *testing.T, dir string) {
	t.Helper()
	script := `#!/bin/sh
D='` + dir + `'
echo "$@" >> "$D/calls"
while [ $# -gt 0 ]; do case "$1" in --context|--namespace) shift 2;; *) break;; esac; done
case "$1 $2" in
"get job") cat "$D/job.json" ;;
"get pods") cat "$D/pods.json" ;;
logs*) [ -f "$D/$2.log" ] || { echo "Error from server (NotFound): pods \"$2\" not found" >&2; exit 1; }; cat "$D/$2.log" ;;
*) echo "fake kubectl: $*?" >&2; exit 2 ;;
esac
`
	if err := os.WriteFile(filepath.Join(dir, "kubectl"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

func writeJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestKubeJobRunCollectMerge generates the manifests of a 2-shard run, then
// does what the cluster would: writes the Secret's recording where the
// volume is mounted, expands $(JOB_COMPLETION_INDEX) in each pod's
// arguments and runs them (amp replay, against a loopback demo site); the
// pods' output becomes their logs, which amp kube collect gathers through a
// fake kubectl and amp report --merge adds up.
// runID returns the value of --run-id in args, checking that it is one.
func runID(args []string) string {
	if i := slices.Index(args, "--run-id"); i >= 0 && i+1 < len(args) && len(args[i+1]) == 16 {
		return args[i+1]
	}
	return "(no --run-id)"
}

func TestKubeJobRunCollectMerge(t *testing.T) {
	srv := httptest.NewServer(demosite.New(demosite.Config{}))
	defer srv.Close()
	rec := writeDemoRecording(t)
	recBytes, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	startAt := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	r := runAmp(t, "kube", "job", rec, "--shards", "2", "--host", srv.URL, "--image", "registry.example/amp:test",
		"--users", "4", "--rate", "1000", "--iterations", "10", "--think", "none", "--quiet", "--name", `^/articles$=articles`,
		"--start-at", startAt, "-n", "load", "--cpu", "250m")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.HasPrefix(r.stdout, "# amp kube job: 2 shards of "+rec) || !strings.Contains(r.stdout, "# collect: amp kube collect amp-shop -n load -o results") {
		t.Errorf("no header comment:\n%s", r.stdout[:min(len(r.stdout), 600)])
	}
	sec, _, job := kubeObjects(t, r.stdout)
	if sec == nil || !bytes.Equal(sec.Data["shop.amp"], recBytes) || sec.Namespace != "load" || len(sec.Data) != 1 {
		t.Fatalf("the Secret does not hold the recording exactly")
	}
	if !strings.Contains(r.stdout, "# again:   kubectl delete -n load job,secret,service amp-shop\n") {
		t.Errorf("no delete line for the Secret:\n%s", r.stdout[:min(len(r.stdout), 900)])
	}
	c := job.Spec.Template.Spec.Containers[0]
	wantArgs := []string{"replay", "/recording/shop.amp", "--shard", "$(JOB_COMPLETION_INDEX)/2", "--start-at", startAt,
		"--metrics", ":9464", "--print-result", "--no-default-thresholds", "--run-id", runID(c.Args), "--host", srv.URL, "--users", "4", "--rate", "1000", "--iterations", "10",
		"--think", "none", "--name", "^/articles$=articles", "--quiet"}
	if !slices.Equal(c.Args, wantArgs) {
		t.Fatalf("args\n%q\nwant\n%q", c.Args, wantArgs)
	}
	if *job.Spec.Parallelism != 2 || *job.Spec.Completions != 2 || *job.Spec.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("job spec %+v", job.Spec)
	}
	if got := c.Resources.Requests.Cpu().String(); got != "250m" {
		t.Errorf("cpu request %s", got)
	}

	// The cluster's part.
	mount := filepath.Join(t.TempDir(), "recording")
	os.MkdirAll(mount, 0o755)
	if err := os.WriteFile(filepath.Join(mount, "shop.amp"), sec.Data["shop.amp"], 0o644); err != nil {
		t.Fatal(err)
	}
	kdir := t.TempDir()
	var pods corev1.PodList
	requests := 0
	for i := range 2 {
		var args []string
		for k, a := range c.Args {
			a = strings.ReplaceAll(a, "$(JOB_COMPLETION_INDEX)", fmt.Sprint(i))
			switch {
			case a == "/recording/shop.amp":
				a = filepath.Join(mount, "shop.amp")
			case k > 0 && c.Args[k-1] == "--metrics":
				a = "127.0.0.1:0" // not the pod's :9464 on a shared machine
			case k > 0 && c.Args[k-1] == "--start-at":
				a = time.Now().UTC().Format(time.RFC3339) // the shared start has come
			}
			args = append(args, a)
		}
		pr := runAmp(t, args...) // the container runs amp with these arguments
		if pr.code != 0 {
			t.Fatalf("pod %d: exit %d: %s", i, pr.code, pr.stderr)
		}
		if !strings.Contains(pr.stdout, "shard "+fmt.Sprint(i)+" of 2") || !strings.Contains(pr.stdout, "-----BEGIN AMP RESULT-----") {
			t.Fatalf("pod %d output:\n%s", i, pr.stdout)
		}
		name := fmt.Sprintf("amp-shop-%d-xyz%d", i, i)
		os.WriteFile(filepath.Join(kdir, name+".log"), []byte(pr.stdout), 0o644)
		pods.Items = append(pods.Items, corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{"batch.kubernetes.io/job-completion-index": fmt.Sprint(i)}},
			Status:     corev1.PodStatus{Phase: corev1.PodSucceeded},
		})
	}
	job.Status = batchv1.JobStatus{Succeeded: 2, Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}}
	writeJSONFile(t, filepath.Join(kdir, "job.json"), job)
	writeJSONFile(t, filepath.Join(kdir, "pods.json"), pods)
	fakeKubectlOnPath(t, kdir)

	out := filepath.Join(t.TempDir(), "results")
	r = runAmp(t, "kube", "collect", "amp-shop", "-o", out, "-n", "load")
	if r.code != 0 || !strings.Contains(r.stdout, "collected 2 of 2 shard results into "+out) {
		t.Fatalf("collect: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if calls, _ := os.ReadFile(filepath.Join(kdir, "calls")); !strings.Contains(string(calls), "--namespace load logs amp-shop-1-xyz1 --container amp") {
		t.Errorf("kubectl calls:\n%s", calls)
	}
	type res struct {
		Requests int64          `json:"requests"`
		Config   map[string]any `json:"config"`
	}
	var shards [2]res
	for i := range shards {
		b, err := os.ReadFile(filepath.Join(out, fmt.Sprintf("shard-%d.json", i)))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &shards[i]); err != nil {
			t.Fatal(err)
		}
		if shards[i].Config["shard"] != fmt.Sprintf("%d/2", i) || shards[i].Requests == 0 {
			t.Errorf("shard-%d.json: %+v", i, shards[i])
		}
		requests += int(shards[i].Requests)
	}
	all := filepath.Join(t.TempDir(), "all.json")
	r = runAmp(t, "report", "--merge", filepath.Join(out, "shard-0.json"), filepath.Join(out, "shard-1.json"), "--json", all, "--quiet")
	if r.code != 0 {
		t.Fatalf("merge: exit %d: %s", r.code, r.stderr)
	}
	var merged res
	b, _ := os.ReadFile(all)
	if err := json.Unmarshal(b, &merged); err != nil || int(merged.Requests) != requests {
		t.Errorf("merged %d requests, the shards %d (%v)", merged.Requests, requests, err)
	}

	// The same logs, saved, collect the same way without a cluster.
	out2 := filepath.Join(t.TempDir(), "from-logs")
	r = runAmp(t, "kube", "collect", "--from-logs", filepath.Join(kdir, "amp-shop-1-xyz1.log"), filepath.Join(kdir, "amp-shop-0-xyz0.log"), "-o", out2)
	if r.code != 0 {
		t.Fatalf("collect --from-logs: exit %d: %s", r.code, r.stderr)
	}
	// And from standard input, as kubectl logs -l JOB-LABEL --tail=-1 | amp kube collect --from-logs - prints them.
	var both []byte
	for i := range 2 {
		b, _ := os.ReadFile(filepath.Join(kdir, fmt.Sprintf("amp-shop-%d-xyz%d.log", i, i)))
		both = append(both, b...)
	}
	stdin := filepath.Join(t.TempDir(), "stdin")
	os.WriteFile(stdin, both, 0o644)
	f, err := os.Open(stdin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	saved := os.Stdin
	os.Stdin = f
	out3 := filepath.Join(t.TempDir(), "from-stdin")
	r = runAmp(t, "kube", "collect", "--from-logs", "-", "-o", out3)
	os.Stdin = saved
	if r.code != 0 {
		t.Fatalf("collect --from-logs -: exit %d: %s", r.code, r.stderr)
	}
	for i := range 2 {
		a, _ := os.ReadFile(filepath.Join(out, fmt.Sprintf("shard-%d.json", i)))
		for _, dir := range []string{out2, out3} {
			b, _ := os.ReadFile(filepath.Join(dir, fmt.Sprintf("shard-%d.json", i)))
			if len(a) == 0 || !bytes.Equal(a, b) {
				t.Errorf("shard %d differs between kubectl logs and %s", i, dir)
			}
		}
	}
}

func TestKubeJobRecordingURL(t *testing.T) {
	rec := writeDemoRecording(t)
	base := []string{"--shards", "3", "--host", "http://shop:8080", "--image", "img", "--timeline", "--start-in", "2m"}

	// Only a URL: the memory cannot be estimated, so it must be given.
	r := runAmp(t, append([]string{"kube", "job", "https://files.example/rec/shop.amp?sig=s3cret"}, base...)...)
	if r.code != 1 || !strings.Contains(r.stderr, "the pods' memory cannot be estimated: give --memory") {
		t.Errorf("URL without --memory: exit %d: %s", r.code, r.stderr)
	}
	r = runAmp(t, append([]string{"kube", "job", "https://files.example/rec/shop.amp?sig=s3cret", "--memory-request", "1Gi"}, base...)...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	sec, _, job := kubeObjects(t, r.stdout)
	c := job.Spec.Template.Spec.Containers[0]
	if sec == nil || string(sec.Data["recording-url"]) != "https://files.example/rec/shop.amp?sig=s3cret" || c.Args[1] != "$(AMP_RECORDING_URL)" ||
		len(c.VolumeMounts) != 0 || job.Name != "amp-shop" {
		t.Errorf("URL recording: secret %+v, args %q, mounts %v, name %s", sec, c.Args, c.VolumeMounts, job.Name)
	}
	if strings.Contains(r.stdout, "s3cret") {
		t.Errorf("the URL's query is in the YAML outside the Secret:\n%s", r.stdout)
	}
	if req, lim := c.Resources.Requests.Memory().String(), c.Resources.Limits.Memory().String(); req != "1Gi" || lim != "1Gi" {
		t.Errorf("memory %s/%s, want 1Gi/1Gi (--memory-request alone)", req, lim)
	}
	at, err := time.Parse(time.RFC3339, c.Args[5])
	if err != nil || at.Before(time.Now().Add(time.Minute)) || at.After(time.Now().Add(3*time.Minute)) {
		t.Errorf("--start-in 2m gave --start-at %s (%v)", c.Args[5], err)
	}

	// A local file checked here, fetched by the pods.
	r = runAmp(t, append([]string{"kube", "job", rec, "--recording-url", "http://files.svc/shop.amp", "--job-name", "big-run"}, base...)...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	sec, _, job = kubeObjects(t, r.stdout)
	if sec == nil || string(sec.Data["recording-url"]) != "http://files.svc/shop.amp" || len(sec.Data) != 1 || job.Name != "big-run" {
		t.Errorf("--recording-url: secret %+v", sec)
	}
	// The memory is estimated from the local file, read a session at a time
	// as a loaded one would be.
	if req := job.Spec.Template.Spec.Containers[0].Resources.Requests.Memory(); req.Value() < kube.MemoryMin {
		t.Errorf("memory request %s", req)
	}
	loaded, err := capture.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.stdout, fmt.Sprintf("%d exchanges", loaded.Exchanges())) {
		t.Errorf("the YAML's header does not count the recording's %d exchanges:\n%.900s", loaded.Exchanges(), r.stdout)
	}
	// What the pods would refuse is refused here too, reading the file by session.
	empty := filepath.Join(t.TempDir(), "empty.amp")
	w, err := capture.Create(empty, capture.FileHeader{Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r = runAmp(t, append([]string{"kube", "job", empty, "--recording-url", "http://files.svc/shop.amp"}, base...)...)
	if r.code != 1 || !strings.Contains(r.stderr, "the recording holds no requests") {
		t.Errorf("an empty recording: exit %d, %q", r.code, r.stderr)
	}

	// A volume holding the recording: no Secret.
	r = runAmp(t, append([]string{"kube", "job", rec, "--recording-pvc", "recordings", "--recording-path", "nov/shop.amp"}, base...)...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	sec, _, job = kubeObjects(t, r.stdout)
	c = job.Spec.Template.Spec.Containers[0]
	vols := job.Spec.Template.Spec.Volumes
	if sec != nil || c.Args[1] != "/recording/nov/shop.amp" || len(vols) != 1 || vols[0].PersistentVolumeClaim == nil ||
		vols[0].PersistentVolumeClaim.ClaimName != "recordings" || !vols[0].PersistentVolumeClaim.ReadOnly {
		t.Errorf("--recording-pvc: secret %v, args %q, volumes %+v", sec != nil, c.Args, vols)
	}
	if !strings.Contains(r.stdout, "# again:   kubectl delete job,service amp-shop\n") {
		t.Errorf("delete line:\n%s", r.stdout[:min(len(r.stdout), 900)])
	}
	r = runAmp(t, append([]string{"kube", "job", rec, "--recording-pvc", "recordings"}, base...)...)
	if _, _, job = kubeObjects(t, r.stdout); r.code != 0 || job.Spec.Template.Spec.Containers[0].Args[1] != "/recording/shop.amp" {
		t.Errorf("--recording-pvc without --recording-path: exit %d %s", r.code, r.stderr)
	}
}

// TestKubeJobMemory checks that each pod's memory is PodMemory's estimate
// for the recording and the users per pod, and that the flags override it.
func TestKubeJobMemory(t *testing.T) {
	rec := writeDemoRecording(t)
	loaded, err := capture.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := os.Stat(rec)
	load := kube.LoadOf(loaded, info.Size())
	load.Users, load.Shards = 8000, 4
	load.Streamed = true // the pods read the Secret's file on demand
	est := kube.PodMemory(load)
	if est.Request <= kube.MemoryMin {
		t.Fatalf("estimate %+v: want one above the minimum, to see it", est)
	}
	wantReq, wantLim := est.Quantities()
	args := []string{"kube", "job", rec, "--shards", "4", "--host", "http://h", "--image", "img", "--duration", "1m", "--users", "8000"}
	tests := []struct {
		name     string
		flags    []string
		req, lim string
	}{
		{"estimate", nil, wantReq, wantLim},
		{"--memory", []string{"--memory", "3Gi"}, "3Gi", "3Gi"},
		{"request under the estimate", []string{"--memory-request", "100Mi"}, "100Mi", wantLim},
		{"request over the estimated limit", []string{"--memory-request", "8Gi"}, "8Gi", "8Gi"},
		{"limit over the estimate", []string{"--memory-limit", "8Gi"}, wantReq, "8Gi"},
		{"limit under the estimated request", []string{"--memory-limit", "150Mi"}, "150Mi", "150Mi"},
		{"--memory and a limit", []string{"--memory", "1Gi", "--memory-limit", "2Gi"}, "1Gi", "2Gi"},
	}
	for _, tc := range tests {
		r := runAmp(t, append(args, tc.flags...)...)
		if r.code != 0 {
			t.Errorf("%s: exit %d: %s", tc.name, r.code, r.stderr)
			continue
		}
		_, _, job := kubeObjects(t, r.stdout)
		c := job.Spec.Template.Spec.Containers[0]
		if req, lim := c.Resources.Requests.Memory().String(), c.Resources.Limits.Memory().String(); req != tc.req || lim != tc.lim {
			t.Errorf("%s: memory %s/%s, want %s/%s", tc.name, req, lim, tc.req, tc.lim)
		}
		if tc.flags == nil && !strings.Contains(r.stdout, "# memory:  request "+wantReq+", limit "+wantLim+" per pod (estimate: "+est.Formula+"; --memory overrides)\n") {
			t.Errorf("no memory line in the header:\n%s", r.stdout[:min(len(r.stdout), 900)])
		}
	}
}

func TestKubeUsageErrors(t *testing.T) {
	rec := writeDemoRecording(t)
	big := filepath.Join(t.TempDir(), "big.amp")
	b, _ := os.ReadFile(rec)
	os.WriteFile(big, append(b, make([]byte, 1100<<10)...), 0o644) // a cut tail of zeros: still a recording, too big to ship
	job := func(extra ...string) []string {
		return append([]string{"kube", "job", rec, "--shards", "4", "--host", "http://h", "--image", "img", "--duration", "1m"}, extra...)
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no recording", []string{"kube", "job", "--shards", "2"}, "kube job: want one recording file or URL, got 0 arguments"},
		{"no shards", []string{"kube", "job", rec, "--host", "http://h", "--image", "img"}, "kube job: --shards is missing"},
		{"no image", []string{"kube", "job", rec, "--shards", "2", "--host", "http://h"}, "kube job: --image is missing"},
		{"no host", []string{"kube", "job", rec, "--shards", "2", "--image", "i", "--duration", "1m"}, "kube job: --host"},
		{"no end", []string{"kube", "job", rec, "--shards", "2", "--host", "http://h", "--image", "i"}, "give --duration, --iterations or --timeline"},
		{"json", job("--json", "x.json"), "kube job: --json: files written inside the pods are lost"},
		{"thresholds", job("--fail-if", "p(95)<500"), "kube job: --fail-if: thresholds judge the merged result"},
		{"shard", job("--shard", "1/2"), "kube job: --shard: each pod gets its own --shard I/N"},
		{"metrics", job("--metrics", ":1"), "kube job: --metrics: each pod serves /metrics on --metrics-port"},
		{"users", job("--users", "3"), "kube job: --users 3: fewer than the 4 shards: some pods would run no user"},
		{"stages", job("--stages", "10s:2,10s:3"), "kube job: --users 3: fewer than the 4 shards"},
		{"iterations", []string{"kube", "job", rec, "--shards", "4", "--host", "http://h", "--image", "i", "--iterations", "2"}, "kube job: --iterations 2: fewer than the 4 shards: some pods would run none"},
		{"bad cpu", job("--cpu", "lots"), `kube job: --cpu "lots": want a Kubernetes quantity`},
		{"bad name", job("--job-name", "Shop_Run"), `kube job: --job-name "Shop_Run": a lowercase RFC 1123 label`},
		{"bad memory", job("--memory", "lots"), `kube job: --memory "lots": want a Kubernetes quantity such as 512Mi or 2Gi`},
		{"bad memory twice", job("--memory", "lots", "--cpu", "x"), `kube job: --cpu "x": want a Kubernetes quantity such as 500m or 2; --memory "lots": want a Kubernetes quantity such as 512Mi or 2Gi` + "\n"},
		{"limit under request", job("--memory-request", "2Gi", "--memory-limit", "1Gi"), "kube job: --memory-limit 1Gi: less than --memory-request 2Gi"},
		{"url without memory", []string{"kube", "job", "https://x.example/a.amp", "--shards", "2", "--host", "http://h", "--image", "i", "--duration", "1m"},
			"kube job: the recording is only a URL here, so the pods' memory cannot be estimated: give --memory (e.g. 2Gi), or the local file and --recording-url URL"},
		{"path without claim", job("--recording-path", "a.amp"), "kube job: --recording-path is the recording's path inside --recording-pvc CLAIM, which is missing"},
		{"claim and url", job("--recording-pvc", "recs", "--recording-url", "https://x/a.amp"), "kube job: " + rec + " has more than one source: give the recording itself, --recording-url or --recording-pvc"},
		{"claim of a url", []string{"kube", "job", "https://x.example/a.amp", "--recording-pvc", "recs", "--shards", "2", "--host", "http://h", "--image", "i", "--duration", "1m"}, "give the local copy of the recording the claim holds"},
		{"bad claim", job("--recording-pvc", "Recs"), `kube job: --recording-pvc "Recs": `},
		{"bad path", job("--recording-pvc", "recs", "--recording-path", "../x.amp"), `kube job: --recording-path "../x.amp": want the recording's path inside the volume`},
		{"past start", job("--start-at", "2001-01-01T00:00:00Z"), "kube job: --start-at 2001-01-01T00:00:00Z is not in the future"},
		{"bad start", job("--start-at", "tomorrow"), `kube job: --start-at "tomorrow": want an RFC3339 time`},
		{"both starts", job("--start-at", future, "--start-in", "1m"), "give --start-at or --start-in, not both"},
		{"bad shards", job("--shards", "0"), "kube job: --shards 0: want at least 1"},
		{"missing file", []string{"kube", "job", "nope.amp", "--shards", "2", "--host", "http://h", "--image", "i", "--duration", "1m"}, "kube job: nope.amp: no such file"},
		{"not a recording", []string{"kube", "job", "main.go", "--shards", "2", "--host", "http://h", "--image", "i", "--duration", "1m"}, "main.go: not an amp recording"},
		{"too big", []string{"kube", "job", big, "--shards", "2", "--host", "http://h", "--image", "i", "--duration", "1m"},
			"kube job: " + big + " is 1.1 MiB, more than a Secret holds (1 MiB): serve it over http(s) where the pods can fetch it and add --recording-url URL, or put it on a volume and add --recording-pvc CLAIM"},
		{"bad url", job("--recording-url", "ftp://x/y.amp"), `--recording-url "ftp://x/y.amp": want an http:// or https:// URL`},
		{"web", job("--web"), "kube job: --web: amp kube job does not pass it to the pods"},
		{"unknown flag", job("--bogus"), "flag provided but not defined: -bogus"},
		{"collect no dir", []string{"kube", "collect", "amp-shop"}, "kube collect: --output DIR is missing"},
		{"collect no job", []string{"kube", "collect", "-o", "x"}, "kube collect: want one Job name, got 0 arguments"},
		{"collect no logs", []string{"kube", "collect", "--from-logs", "-o", "x"}, "kube collect: --from-logs wants saved pod logs"},
		{"collect log without result", []string{"kube", "collect", "--from-logs", rec, "-o", t.TempDir()}, "no result block (from amp replay --print-result) in it"},
		{"collect no kubectl", []string{"kube", "collect", "amp-shop", "-o", t.TempDir(), "--kubectl", filepath.Join(t.TempDir(), "kubectl")}, "not found: install kubectl or give its path with --kubectl"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runAmp(t, tc.args...)
			if r.code != 1 {
				t.Errorf("exit code %d, want 1 (stdout %q)", r.code, r.stdout)
			}
			if strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr %q, want one line with %q", r.stderr, tc.want)
			}
		})
	}
}

// TestKubeCollectLate: a shard that began well after the shared start (its
// pod waited for room on a node) is collected, with a warning naming it.
func TestKubeCollectLate(t *testing.T) {
	dir := t.TempDir()
	var logs []string
	for i, start := range []string{"2026-12-02T06:13:20.02Z", "2026-12-02T06:14:00Z"} { // the start, and 40 s later
		var b bytes.Buffer
		js := `{"version":1,"requests":0,"start":"` + start + `","config":{"model":"closed","duration":"20s","shard":"` + fmt.Sprintf("%d/2", i) +
			`","start_at":"2026-12-02T06:13:20Z","run_id":"aaaaaaaaaaaaaaaa"}}`
		if err := kube.WriteResult(&b, fmt.Sprintf("%d/2", i), []byte(js)); err != nil {
			t.Fatal(err)
		}
		logs = append(logs, filepath.Join(dir, fmt.Sprintf("%d.log", i)))
		if err := os.WriteFile(logs[i], b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := runAmp(t, "kube", "collect", "--from-logs", logs[0], logs[1], "-o", filepath.Join(dir, "out"))
	want := "amp: warning: kube collect: shard 1/2 began 40s after the shared start 2026-12-02T06:13:20Z and sent no request: its pod started late"
	if r.code != 0 || !strings.Contains(r.stderr, want) || strings.Contains(r.stderr, "shard 0/2 began") {
		t.Errorf("exit %d, stderr %q: want it to warn %q about shard 1 only", r.code, r.stderr, want)
	}
}

// TestKubeJobCPU: the header says what all the pods ask at once, the CPU a
// cluster must have free for them to start together.
func TestKubeJobCPU(t *testing.T) {
	rec := writeDemoRecording(t)
	args := []string{"kube", "job", rec, "--shards", "4", "--host", "http://h", "--image", "img", "--duration", "1m", "--users", "8"}
	for _, tc := range []struct {
		flags []string
		want  string
	}{
		{nil, "# cpu:     request 1 per pod, 4 for the 4 pods: all must fit at once"},
		{[]string{"--cpu", "250m"}, "# cpu:     request 250m per pod, 1 for the 4 pods: all must fit at once"},
		{[]string{"--cpu", "100m"}, "# cpu:     request 100m per pod, 400m for the 4 pods: all must fit at once"},
	} {
		r := runAmp(t, append(args, tc.flags...)...)
		if r.code != 0 || !strings.Contains(r.stdout, tc.want) {
			t.Errorf("%v: exit %d %s: want the header line %q in\n%s", tc.flags, r.code, r.stderr, tc.want, r.stdout[:min(len(r.stdout), 900)])
		}
	}
}
