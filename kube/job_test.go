package kube_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/internal/fielderr"
	"github.com/ampload/amp/kube"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var testStart = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// testConfigs are the runs the golden files hold.
func testConfigs() map[string]kube.Config {
	small := kube.DefaultConfig()
	small.Name = "amp-shop"
	small.Image = "registry.example/amp:1.0"
	small.Shards = 8
	small.StartAt = testStart
	small.Recording = []byte("\x89AMP\r\n\x1a\n not a real recording, but bytes to ship exactly \x00\xff")
	small.RecordingKey = "shop.amp"
	small.ReplayArgs = []string{"--host", "https://staging.shop", "--users", "4000", "--rate", "200", "--duration", "10m0s"}
	small.Users = 4000
	small.MemoryRequest, small.MemoryLimit = "512Mi", "640Mi"
	small.TerminationGrace = 25 * time.Second
	small.ActiveDeadline = 22 * time.Minute
	small.Comment = "8 shards of shop.amp\nkubectl create -f THIS.yaml"

	url := kube.DefaultConfig()
	url.Name = "amp-big"
	url.Namespace = "load"
	url.Image = "registry.example/amp@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	url.Shards = 3
	url.StartAt = testStart
	url.RecordingURL = "https://files.example/big.amp?token=x"
	url.ReplayArgs = []string{"--host", "http://shop.load.svc:8080", "--timeline", "--multiple", "40", "--quiet"}
	url.Timeline = true
	url.CPU, url.MemoryRequest, url.MemoryLimit = "2500m", "2Gi", "2Gi"
	url.MetricsPort = 9100
	url.TTL = 0
	url.ResultsClaim = "amp-results"

	pvc := kube.DefaultConfig()
	pvc.Name = "amp-week"
	pvc.Image = "registry.example/amp:1.0"
	pvc.Shards = 2
	pvc.StartAt = testStart
	pvc.RecordingClaim = "recordings"
	pvc.RecordingPath = "2026-11/week.amp"
	pvc.ReplayArgs = []string{"--host", "https://staging.shop", "--users", "200", "--iterations", "1000"}
	pvc.Users, pvc.Iterations = 200, 1000
	pvc.MemoryRequest, pvc.MemoryLimit = "3Gi", "3840Mi"
	return map[string]kube.Config{"secret": small, "url": url, "pvc": pvc}
}

func TestBuildGolden(t *testing.T) {
	t.Parallel()
	for name, cfg := range testConfigs() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			objs, err := kube.Build(cfg)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := objs.WriteYAML(&got); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to write it)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("%s differs from the generated YAML (go test -update rewrites it):\n%s", golden, got.String())
			}
		})
	}
}

// decoded are the objects read back from a YAML stream.
type decoded struct {
	sec *corev1.Secret
	svc *corev1.Service
	job *batchv1.Job
}

// decodeYAML reads a YAML stream back into the API types, strictly: an
// unknown or misspelt field is an error.
func decodeYAML(t *testing.T, data []byte) decoded {
	t.Helper()
	var d decoded
	for i, doc := range strings.Split(string(data), "\n---\n") {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		var obj any
		switch tm.APIVersion + " " + tm.Kind {
		case "v1 Secret":
			d.sec = &corev1.Secret{}
			obj = d.sec
		case "v1 Service":
			d.svc = &corev1.Service{}
			obj = d.svc
		case "batch/v1 Job":
			d.job = &batchv1.Job{}
			obj = d.job
		default:
			t.Fatalf("document %d: unexpected %q %q", i, tm.APIVersion, tm.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			t.Fatalf("document %d (%s): %v", i, tm.Kind, err)
		}
	}
	if d.svc == nil || d.job == nil {
		t.Fatal("no Service or no Job")
	}
	return d
}

// validate checks the objects with apimachinery's validation and the rules
// of the Kubernetes API server that matter here (k8s.io/kubernetes, which
// holds the full validation, cannot be imported).
func validate(t *testing.T, d decoded) {
	t.Helper()
	var errs field.ErrorList
	meta := func(m metav1.ObjectMeta, path string) {
		if m.Namespace == "" {
			m.Namespace = "default" // kubectl fills in its current namespace
		}
		errs = append(errs, apivalidation.ValidateObjectMeta(&m, true, apivalidation.NameIsDNSLabel, field.NewPath(path, "metadata"))...)
	}
	meta(d.job.ObjectMeta, "job")
	meta(d.svc.ObjectMeta, "service")
	if len(d.job.Name) > kube.MaxNameLength {
		t.Errorf("job name %q longer than %d", d.job.Name, kube.MaxNameLength)
	}

	// The Job: Indexed, one pod per shard, no retries, RestartPolicy Never
	// (which backoffLimitPerIndex needs).
	spec := d.job.Spec
	if spec.CompletionMode == nil || *spec.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("completionMode %v, want Indexed", spec.CompletionMode)
	}
	if spec.Completions == nil || spec.Parallelism == nil || *spec.Completions != *spec.Parallelism || *spec.Completions < 1 {
		t.Errorf("completions %v, parallelism %v: want equal and positive", spec.Completions, spec.Parallelism)
	}
	if spec.BackoffLimitPerIndex == nil || *spec.BackoffLimitPerIndex != 0 || spec.BackoffLimit != nil {
		t.Errorf("backoffLimitPerIndex %v, backoffLimit %v: want 0 and unset", spec.BackoffLimitPerIndex, spec.BackoffLimit)
	}
	pod := spec.Template.Spec
	if pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy %q", pod.RestartPolicy)
	}
	errs = append(errs, metav1validation.ValidateLabels(spec.Template.Labels, field.NewPath("template", "labels"))...)
	errs = append(errs, apivalidation.ValidateAnnotations(spec.Template.Annotations, field.NewPath("template", "annotations"))...)
	if msgs := validation.IsDNS1123Label(pod.Subdomain); len(msgs) > 0 || pod.Subdomain != d.svc.Name {
		t.Errorf("subdomain %q: %v, want the Service's name %q", pod.Subdomain, msgs, d.svc.Name)
	}
	for _, c := range pod.TopologySpreadConstraints {
		errs = append(errs, metav1validation.ValidateLabelSelector(c.LabelSelector, metav1validation.LabelSelectorValidationOptions{}, field.NewPath("topologySpreadConstraints"))...)
		sel, err := metav1.LabelSelectorAsSelector(c.LabelSelector)
		if err != nil || !sel.Matches(labels.Set(spec.Template.Labels)) {
			t.Errorf("topology spread selector %v does not select the pods (%v)", c.LabelSelector, err)
		}
	}

	// Pod security: what the "restricted" Pod Security Standard asks.
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod security context %+v", psc)
	}

	// The container.
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers", len(pod.Containers))
	}
	c := pod.Containers[0]
	if msgs := validation.IsDNS1123Label(c.Name); len(msgs) > 0 {
		t.Errorf("container name %q: %v", c.Name, msgs)
	}
	if sc := c.SecurityContext; sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("container security context %+v", sc)
	}
	env := map[string]bool{}
	for _, e := range c.Env {
		if msgs := validation.IsEnvVarName(e.Name); len(msgs) > 0 {
			t.Errorf("env %q: %v", e.Name, msgs)
		}
		env[e.Name] = true
	}
	// The kubelet expands $(NAME) only for declared variables: the
	// others would reach amp as they are.
	for _, a := range c.Args {
		for _, m := range regexp.MustCompile(`\$\(([^)]*)\)`).FindAllStringSubmatch(a, -1) {
			if !env[m[1]] {
				t.Errorf("argument %q refers to $(%s), which is not declared in env", a, m[1])
			}
		}
	}
	for _, p := range c.Ports {
		if msgs := append(validation.IsValidPortName(p.Name), validation.IsValidPortNum(int(p.ContainerPort))...); len(msgs) > 0 {
			t.Errorf("port %+v: %v", p, msgs)
		}
	}
	if req, lim := c.Resources.Requests[corev1.ResourceMemory], c.Resources.Limits[corev1.ResourceMemory]; req.IsZero() || lim.Cmp(req) < 0 {
		t.Errorf("memory request %v, limit %v", req.String(), lim.String())
	}
	if _, limited := c.Resources.Limits[corev1.ResourceCPU]; limited {
		t.Error("a CPU limit throttles the load generator")
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		if msgs := validation.IsDNS1123Label(v.Name); len(msgs) > 0 {
			t.Errorf("volume %q: %v", v.Name, msgs)
		}
		volumes[v.Name] = v
	}
	for _, m := range c.VolumeMounts {
		if _, ok := volumes[m.Name]; !ok {
			t.Errorf("mount %q of no volume", m.Name)
		}
	}

	// The Service selects the pods and exposes the metrics port by name,
	// and the scrape annotations name the same port.
	if d.svc.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("Service clusterIP %q, want None (headless)", d.svc.Spec.ClusterIP)
	}
	errs = append(errs, metav1validation.ValidateLabels(d.svc.Spec.Selector, field.NewPath("service", "selector"))...)
	if !labels.SelectorFromSet(d.svc.Spec.Selector).Matches(labels.Set(spec.Template.Labels)) {
		t.Errorf("Service selector %v does not select the pods %v", d.svc.Spec.Selector, spec.Template.Labels)
	}
	for _, p := range d.svc.Spec.Ports {
		if !slices.ContainsFunc(c.Ports, func(cp corev1.ContainerPort) bool { return cp.Name == p.TargetPort.String() }) {
			t.Errorf("Service port %+v targets no container port", p)
		}
	}
	if got, want := spec.Template.Annotations["prometheus.io/port"], fmt.Sprint(c.Ports[0].ContainerPort); got != want {
		t.Errorf("prometheus.io/port %q, container port %s", got, want)
	}

	// The Secret, when there is one, is within its limit (the API server
	// adds up the data values, decoded) and is what the pods read: mounted
	// when it holds the recording, an environment variable when it holds
	// its URL.
	if d.sec != nil {
		meta(d.sec.ObjectMeta, "secret")
		size := 0
		for k, v := range d.sec.Data {
			if msgs := validation.IsConfigMapKey(k); len(msgs) > 0 {
				t.Errorf("Secret key %q: %v", k, msgs)
			}
			size += len(v)
		}
		if size > corev1.MaxSecretSize {
			t.Errorf("Secret holds %d bytes, over %d", size, corev1.MaxSecretSize)
		}
		if d.sec.Type != corev1.SecretTypeOpaque || len(d.sec.StringData) != 0 {
			t.Errorf("Secret type %q, stringData %v", d.sec.Type, d.sec.StringData)
		}
		if _, url := d.sec.Data[kube.SecretURLKey]; url {
			ok := false
			for _, e := range c.Env {
				if r := e.ValueFrom; r != nil && r.SecretKeyRef != nil {
					ok = e.Name == kube.EnvRecordingURL && r.SecretKeyRef.Name == d.sec.Name && r.SecretKeyRef.Key == kube.SecretURLKey
				}
			}
			if !ok {
				t.Errorf("the Secret's URL is not in the container's environment: %+v", c.Env)
			}
		} else {
			v, ok := volumes["recording"]
			if !ok || v.Secret == nil || v.Secret.SecretName != d.sec.Name || v.Secret.DefaultMode == nil || *v.Secret.DefaultMode&0o007 != 0 {
				t.Errorf("no volume of Secret %s readable by the pod's group only: %+v", d.sec.Name, v.Secret)
			}
		}
	}
	if v, ok := volumes["recording"]; ok && v.PersistentVolumeClaim != nil && !v.PersistentVolumeClaim.ReadOnly {
		t.Errorf("the recording's claim is mounted writable: %+v", v.PersistentVolumeClaim)
	}
	for _, m := range c.VolumeMounts {
		if m.Name == "recording" && !m.ReadOnly {
			t.Errorf("the recording is mounted writable: %+v", m)
		}
	}
	for _, e := range errs {
		t.Error(e)
	}
}

func TestBuildDecodesAndValidates(t *testing.T) {
	t.Parallel()
	for name, cfg := range testConfigs() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			objs, err := kube.Build(cfg)
			if err != nil {
				t.Fatal(err)
			}
			var y bytes.Buffer
			if err := objs.WriteYAML(&y); err != nil {
				t.Fatal(err)
			}
			d := decodeYAML(t, y.Bytes())
			validate(t, d)

			if got := *d.job.Spec.Completions; got != int32(cfg.Shards) {
				t.Errorf("completions %d, want %d", got, cfg.Shards)
			}
			c := d.job.Spec.Template.Spec.Containers[0]
			if c.Image != cfg.Image || !slices.Equal(c.Command, []string{"amp"}) {
				t.Errorf("image %q command %q", c.Image, c.Command)
			}
			rec := path(cfg)
			want := []string{"replay", rec, "--shard", fmt.Sprintf("$(JOB_COMPLETION_INDEX)/%d", cfg.Shards),
				"--start-at", "2030-01-02T03:04:05Z", "--metrics", fmt.Sprintf(":%d", cfg.MetricsPort), "--print-result", "--no-default-thresholds"}
			if cfg.ResultsClaim != "" {
				want = append(want, "--json", "/results/"+cfg.Name+"-$(JOB_COMPLETION_INDEX).json")
			}
			want = append(want, cfg.ReplayArgs...)
			if !slices.Equal(c.Args, want) {
				t.Errorf("args\n%q\nwant\n%q", c.Args, want)
			}
			if c.Env[0].Name != "JOB_COMPLETION_INDEX" || c.Env[0].ValueFrom.FieldRef.FieldPath != "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
				t.Errorf("env %+v", c.Env[0])
			}
			lim := resource.MustParse(cfg.MemoryLimit)
			if c.Env[1].Name != "GOMEMLIMIT" || c.Env[1].Value != fmt.Sprint(lim.Value()/10*9) {
				t.Errorf("env %+v, want GOMEMLIMIT 90%% of %s", c.Env[1], cfg.MemoryLimit)
			}
			if req := c.Resources.Requests[corev1.ResourceMemory]; req.String() != cfg.MemoryRequest {
				t.Errorf("memory request %s, want %s", req.String(), cfg.MemoryRequest)
			}
			if got := c.Resources.Limits[corev1.ResourceMemory]; got.String() != cfg.MemoryLimit {
				t.Errorf("memory limit %s, want %s", got.String(), cfg.MemoryLimit)
			}
			switch {
			case cfg.RecordingURL != "":
				if d.sec == nil || string(d.sec.Data[kube.SecretURLKey]) != cfg.RecordingURL || len(d.sec.Data) != 1 {
					t.Errorf("the Secret does not hold exactly the URL: %+v", d.sec)
				}
				if slices.ContainsFunc(c.Args, func(a string) bool { return strings.Contains(a, "token=") }) {
					t.Errorf("the URL, which may grant access, is in the arguments: %q", c.Args)
				}
			case cfg.RecordingClaim != "":
				if d.sec != nil {
					t.Error("a Secret although the recording is on a volume")
				}
				var v *corev1.PersistentVolumeClaimVolumeSource
				for _, vol := range d.job.Spec.Template.Spec.Volumes {
					if vol.Name == "recording" {
						v = vol.PersistentVolumeClaim
					}
				}
				if v == nil || v.ClaimName != cfg.RecordingClaim {
					t.Errorf("no volume of claim %s", cfg.RecordingClaim)
				}
			default:
				if got := d.sec.Data[cfg.RecordingKey]; !bytes.Equal(got, cfg.Recording) || len(d.sec.Data) != 1 {
					t.Errorf("the Secret holds %q, want exactly the recording %q", got, cfg.Recording)
				}
			}
			if cfg.Namespace != "" && (d.job.Namespace != cfg.Namespace || d.svc.Namespace != cfg.Namespace) {
				t.Errorf("namespace %q/%q, want %q", d.job.Namespace, d.svc.Namespace, cfg.Namespace)
			}
			ttl := d.job.Spec.TTLSecondsAfterFinished
			if (cfg.TTL == 0) != (ttl == nil) || (ttl != nil && time.Duration(*ttl)*time.Second != cfg.TTL) {
				t.Errorf("ttlSecondsAfterFinished %v for TTL %v", ttl, cfg.TTL)
			}
		})
	}
}

func path(cfg kube.Config) string {
	switch {
	case cfg.RecordingURL != "":
		return "$(" + kube.EnvRecordingURL + ")"
	case cfg.RecordingClaim != "":
		return kube.RecordingDir + "/" + cfg.RecordingPath
	}
	return kube.RecordingDir + "/" + cfg.RecordingKey
}

// TestSecretLimit ships the largest recording a Secret takes and refuses
// one byte more, naming the alternatives.
func TestSecretLimit(t *testing.T) {
	t.Parallel()
	cfg := testConfigs()["secret"]
	cfg.Recording = bytes.Repeat([]byte{0xa5}, kube.MaxSecretRecording)
	objs, err := kube.Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var y bytes.Buffer
	if err := objs.WriteYAML(&y); err != nil {
		t.Fatal(err)
	}
	validate(t, decodeYAML(t, y.Bytes()))

	cfg.Recording = append(cfg.Recording, 0)
	want := "Recording is 1 MiB, more than a Secret holds (1 MiB): serve it over http(s) where the pods can fetch it and add RecordingURL URL, or put it on a volume and add RecordingClaim CLAIM"
	if _, err := kube.Build(cfg); err == nil || err.Error() != want {
		t.Errorf("Build of a recording over the limit: %v\nwant %s", err, want)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	t.Parallel()
	cfg := kube.Config{Name: "Bad_Name", Namespace: "-x", Image: "a b", Shards: 0, CPU: "lots", MemoryRequest: "0", MemoryLimit: "1Gi",
		MetricsPort: 70000, RecordingURL: "ftp://x", ResultsClaim: "UPPER", TTL: -time.Second}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	wants := []string{`Name "Bad_Name": a lowercase RFC 1123 label`, `Namespace "-x": `, `Image "a b": contains white space`, "Shards 0: want at least 1",
		"StartAt is missing", `RecordingURL "ftp://x": want an http:// or https:// URL`, "MetricsPort 70000: not a port",
		`CPU "lots": want a Kubernetes quantity`, `MemoryRequest "0": want a Kubernetes quantity`, `ResultsClaim "UPPER": `, "TTL -1s: negative"}
	for _, want := range wants {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	// Every problem is a FieldError, one per line.
	if fes := fielderr.All(err); len(fes) != len(wants) || strings.Count(err.Error(), "\n") != len(wants)-1 {
		t.Errorf("%d field errors, want %d:\n%v", len(fes), len(wants), err)
	}
	long := testConfigs()["secret"]
	long.Name = "amp-" + strings.Repeat("x", kube.MaxNameLength)
	if err := long.Validate(); err == nil || !strings.Contains(err.Error(), "more than 52") {
		t.Errorf("long name: %v", err)
	}
}

// TestValidateRules checks the rules between fields: the shard rules of the
// closed model, one source of the recording, the memory limit.
func TestValidateRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*kube.Config)
		want string // "" = valid
	}{
		{"as given", func(*kube.Config) {}, ""},
		{"a user per pod", func(c *kube.Config) { c.Users, c.Shards = 8, 8 }, ""},
		{"fewer users than shards", func(c *kube.Config) { c.Users = 7 }, "Users 7: fewer than the 8 shards: some pods would run no user"},
		{"no users", func(c *kube.Config) { c.Users = 0 }, "Users 0: fewer than the 8 shards"},
		{"fewer iterations than shards", func(c *kube.Config) { c.Iterations = 3 }, "Iterations 3: fewer than the 8 shards: some pods would run none"},
		{"an iteration per pod", func(c *kube.Config) { c.Iterations = 8 }, ""},
		{"timeline: no users needed", func(c *kube.Config) { c.Timeline, c.Users, c.Iterations = true, 0, 2 }, ""},
		{"two sources", func(c *kube.Config) { c.RecordingURL = "https://x/y.amp" }, "Recording has more than one source: give the recording itself, RecordingURL or RecordingClaim"},
		{"claim and URL", func(c *kube.Config) {
			c.Recording, c.RecordingURL, c.RecordingClaim, c.RecordingPath = nil, "https://x/y.amp", "recs", "y.amp"
		}, "Recording has more than one source"},
		{"claim", func(c *kube.Config) { c.Recording, c.RecordingClaim, c.RecordingPath = nil, "recs", "a/y.amp" }, ""},
		{"claim without path", func(c *kube.Config) { c.Recording, c.RecordingClaim = nil, "recs" }, `RecordingPath "": want the recording's path inside the volume`},
		{"claim path outside", func(c *kube.Config) { c.Recording, c.RecordingClaim, c.RecordingPath = nil, "recs", "../etc/y.amp" }, `RecordingPath "../etc/y.amp"`},
		{"claim path absolute", func(c *kube.Config) { c.Recording, c.RecordingClaim, c.RecordingPath = nil, "recs", "/y.amp" }, `RecordingPath "/y.amp"`},
		{"claim path unclean", func(c *kube.Config) { c.Recording, c.RecordingClaim, c.RecordingPath = nil, "recs", "a//y.amp" }, `RecordingPath "a//y.amp"`},
		{"bad claim", func(c *kube.Config) { c.Recording, c.RecordingClaim, c.RecordingPath = nil, "Recs", "y.amp" }, `RecordingClaim "Recs"`},
		{"no recording", func(c *kube.Config) { c.Recording = nil }, "Recording is missing"},
		{"bad key", func(c *kube.Config) { c.RecordingKey = "a b.amp" }, `RecordingKey "a b.amp"`},
		{"limit under request", func(c *kube.Config) { c.MemoryLimit = "500Mi" }, "MemoryLimit 500Mi: less than MemoryRequest 512Mi"},
		{"limit = request", func(c *kube.Config) { c.MemoryLimit = "512Mi" }, ""},
		{"no limit", func(c *kube.Config) { c.MemoryLimit = "" }, `MemoryLimit "": want a Kubernetes quantity`},
	}
	for _, tc := range tests {
		cfg := testConfigs()["secret"]
		tc.edit(&cfg)
		err := cfg.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		case tc.want != "" && len(fielderr.All(err)) != 1:
			t.Errorf("%s: %d field errors, want 1: %v", tc.name, len(fielderr.All(err)), err)
		}
	}
}

func TestFieldErrorDescribe(t *testing.T) {
	t.Parallel()
	flag := func(f string) string {
		return map[string]string{"MemoryLimit": "--memory-limit", "MemoryRequest": "--memory-request"}[f]
	}
	e := &kube.FieldError{Field: "MemoryLimit", Value: "1Gi", Problem: "less than {MemoryRequest} 2Gi"}
	if got, want := e.Describe(flag), "--memory-limit 1Gi: less than --memory-request 2Gi"; got != want {
		t.Errorf("Describe = %q, want %q", got, want)
	}
	if got, want := e.Error(), "MemoryLimit 1Gi: less than MemoryRequest 2Gi"; got != want {
		t.Errorf("Error = %q, want %q", got, want)
	}
	e = &kube.FieldError{Field: "MemoryLimit", Problem: "has a { without its end, {MemoryRequest}, {}"}
	if got, want := e.Describe(flag), "--memory-limit has a { without its end, --memory-request, "; got != want {
		t.Errorf("Describe = %q, want %q", got, want)
	}
}

func TestDefaultName(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"shop.amp", "amp-shop"},
		{"/data/recordings/Black Friday 2026.amp", "amp-black-friday-2026"},
		{"https://files.example/rec/checkout_v2.amp?sig=abc", "amp-checkout-v2"},
		{"--.amp", "amp-replay"},          // nothing usable left
		{"C:\\rec\\Shop.AMP", "amp-shop"}, // Windows paths
		{strings.Repeat("a", 80), "amp-" + strings.Repeat("a", kube.MaxNameLength-4)},
		{strings.Repeat("a", 47) + "_b", "amp-" + strings.Repeat("a", 47)}, // no dash at the end after cutting
	}
	for _, tc := range tests {
		got := kube.DefaultName(tc.in)
		if got != tc.want {
			t.Errorf("DefaultName(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if msgs := validation.IsDNS1123Label(got); len(msgs) > 0 || len(got) > kube.MaxNameLength {
			t.Errorf("DefaultName(%q) = %q: not a valid job name: %v", tc.in, got, msgs)
		}
	}
}

// TestValidateShards checks the shard rules alone: they need nothing else
// of the Config.
func TestValidateShards(t *testing.T) {
	t.Parallel()
	if err := (kube.Config{Shards: 4, Users: 4}).ValidateShards(); err != nil {
		t.Errorf("4 users on 4 shards: %v", err)
	}
	err := (kube.Config{Shards: 4, Users: 3, Iterations: 2}).ValidateShards()
	fes := fielderr.All(err)
	if len(fes) != 2 || fes[0].Field != "Users" || fes[0].Value != "3" || fes[1].Field != "Iterations" {
		t.Errorf("3 users, 2 iterations on 4 shards: %v", err)
	}
	if err := (kube.Config{Shards: 4, Timeline: true}).ValidateShards(); err != nil {
		t.Errorf("timeline: %v", err)
	}
	if fes := fielderr.All((kube.Config{Users: 5}).ValidateShards()); len(fes) != 1 || fes[0].Field != "Shards" {
		t.Errorf("no shards: %v", fes)
	}
}

func TestDescribeError(t *testing.T) {
	t.Parallel()
	flag := func(f string) string { return "--" + strings.ToLower(f) }
	err := errors.Join(
		&kube.FieldError{Field: "Memory", Value: `"x"`, Problem: "want a quantity"},
		errors.Join(&kube.FieldError{Field: "Shards", Value: "0", Problem: "want at least 1"}),
		fmt.Errorf("wrapped: %w", &kube.FieldError{Field: "Memory", Value: `"x"`, Problem: "want a quantity"}),
	)
	if got, want := fielderr.Describe(err, flag), `--memory "x": want a quantity; --shards 0: want at least 1`; got != want {
		t.Errorf("DescribeError = %q, want %q (each problem once, in order)", got, want)
	}
	if got := fielderr.Describe(errors.New("one\ntwo"), flag); got != "one; two" {
		t.Errorf("DescribeError of a plain error = %q", got)
	}
	if fes := fielderr.All(nil); fes != nil {
		t.Errorf("fielderr.All(nil) = %v", fes)
	}
}
