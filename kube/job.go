package kube

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// Defaults of Config.
const (
	DefaultMetricsPort = 9464
	DefaultCPU         = "1"
	DefaultMemory      = "512Mi"
	DefaultTTL         = 24 * time.Hour
	DefaultRunAsUser   = 65532 // distroless's nonroot user
)

// MaxConfigMapRecording is the largest recording Build ships in a
// ConfigMap. Kubernetes caps a ConfigMap at 1 MiB of data; the rest is left
// for the object's metadata. Larger recordings are fetched from a URL.
const MaxConfigMapRecording = 900 << 10

// MaxNameLength bounds Config.Name: the pods' host names are NAME-INDEX and
// must stay within a 63-character DNS label.
const MaxNameLength = 52

// Paths inside the pods.
const (
	RecordingDir = "/recording"
	ResultsDir   = "/results"
)

// Container is the name of the amp container in each pod.
const Container = "amp"

// Label keys set on every object and pod.
const (
	LabelName      = "app.kubernetes.io/name"
	LabelInstance  = "app.kubernetes.io/instance"
	LabelComponent = "app.kubernetes.io/component"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// LabelJobName is the label the Job controller puts on its pods.
	LabelJobName = "batch.kubernetes.io/job-name"
	// AnnotationIndex is the annotation holding a pod's completion index.
	AnnotationIndex = "batch.kubernetes.io/job-completion-index"
)

// Config describes one sharded replay on Kubernetes.
type Config struct {
	// Name names the Job, its ConfigMap and its Service; a DNS-1123 label
	// of at most MaxNameLength characters (see DefaultName).
	Name string
	// Namespace of the objects; "" leaves it to kubectl (the current one).
	Namespace string
	// Image is a container image with amp on its PATH.
	Image string
	// Shards is the number of pods, each running 1/Shards of the test.
	Shards int
	// StartAt is the shared start time of all shards.
	StartAt time.Time
	// RunID, when set, is passed to every shard (--run-id), so that their
	// results merge as one run.
	RunID string

	// Recording is the recording itself, shipped in a ConfigMap under
	// RecordingKey; or, when RecordingURL is set, nil: the pods fetch it.
	Recording    []byte
	RecordingKey string // file name in the ConfigMap and in RecordingDir
	RecordingURL string

	// ReplayArgs are the amp replay flags passed to every shard (--host,
	// --users, ...), already checked; Build adds --shard, --start-at,
	// --metrics and --print-result.
	ReplayArgs []string

	// MetricsPort is where each pod serves Prometheus /metrics.
	MetricsPort int
	// CPU and Memory are each pod's requests (Kubernetes quantities); Memory
	// is also its limit. No CPU limit: CFS throttling would add latency to
	// the measurements.
	CPU, Memory string
	// TTL is how long the finished Job and its pods (and so their logs) are
	// kept; 0 keeps them until deleted.
	TTL time.Duration
	// ActiveDeadline, when set, stops a Job still running that long after
	// it was created.
	ActiveDeadline time.Duration
	// TerminationGrace is how long a pod asked to stop gets before it is
	// killed; 0 leaves Kubernetes' default (30 s).
	TerminationGrace time.Duration
	// ResultsClaim, when set, is a ReadWriteMany PersistentVolumeClaim
	// mounted at ResultsDir where each pod also writes its result JSON.
	ResultsClaim string
	// Comment is printed at the top of the YAML (lines prefixed with "# ").
	Comment string
}

// DefaultConfig returns a Config with the defaults of amp kube job.
func DefaultConfig() Config {
	return Config{MetricsPort: DefaultMetricsPort, CPU: DefaultCPU, Memory: DefaultMemory, TTL: DefaultTTL}
}

// Validate reports every problem of c at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if msgs := validation.IsDNS1123Label(c.Name); len(msgs) > 0 {
		bad("job name %q: %s", c.Name, msgs[0])
	} else if len(c.Name) > MaxNameLength {
		bad("job name %q is %d characters, more than %d (pod host names add -INDEX)", c.Name, len(c.Name), MaxNameLength)
	}
	if c.Namespace != "" {
		if msgs := validation.IsDNS1123Label(c.Namespace); len(msgs) > 0 {
			bad("--namespace %q: %s", c.Namespace, msgs[0])
		}
	}
	if c.Image == "" {
		bad("--image is missing: an image with amp on its PATH")
	} else if strings.ContainsAny(c.Image, " \t\n") {
		bad("--image %q contains white space", c.Image)
	}
	if c.Shards < 1 {
		bad("--shards %d: want at least 1", c.Shards)
	}
	if c.StartAt.IsZero() {
		bad("no start time")
	}
	switch {
	case c.RecordingURL != "" && c.Recording != nil:
		bad("both a recording to ship and a recording URL")
	case c.RecordingURL != "":
		if !strings.HasPrefix(c.RecordingURL, "http://") && !strings.HasPrefix(c.RecordingURL, "https://") {
			bad("--recording-url %q: want an http:// or https:// URL", c.RecordingURL)
		}
	case len(c.Recording) == 0:
		bad("no recording")
	case len(c.Recording) > MaxConfigMapRecording:
		bad("the recording is %s, more than a ConfigMap holds (%s): serve it over http(s) and give --recording-url",
			Size(len(c.Recording)), Size(MaxConfigMapRecording))
	default:
		if msgs := validation.IsConfigMapKey(c.RecordingKey); len(msgs) > 0 {
			bad("recording file name %q: %s", c.RecordingKey, msgs[0])
		}
	}
	if c.MetricsPort < 1 || c.MetricsPort > 65535 {
		bad("--metrics-port %d is not a port", c.MetricsPort)
	}
	if _, err := resource.ParseQuantity(c.CPU); err != nil {
		bad("--cpu %q: want a Kubernetes quantity such as 500m or 2", c.CPU)
	}
	if q, err := resource.ParseQuantity(c.Memory); err != nil || q.Sign() <= 0 {
		bad("--memory %q: want a Kubernetes quantity such as 512Mi or 2Gi", c.Memory)
	}
	if c.TTL < 0 || c.ActiveDeadline < 0 || c.TerminationGrace < 0 {
		bad("negative TTL, deadline or grace period")
	}
	if c.ResultsClaim != "" {
		if msgs := validation.IsDNS1123Subdomain(c.ResultsClaim); len(msgs) > 0 {
			bad("--results-pvc %q: %s", c.ResultsClaim, msgs[0])
		}
	}
	return errors.Join(errs...)
}

// Objects are the Kubernetes objects of one sharded run.
type Objects struct {
	ConfigMap *corev1.ConfigMap // nil when the pods fetch the recording
	Service   *corev1.Service
	Job       *batchv1.Job
	comment   string
}

// List returns the objects in the order they are applied.
func (o *Objects) List() []any {
	var l []any
	if o.ConfigMap != nil {
		l = append(l, o.ConfigMap)
	}
	return append(l, o.Service, o.Job)
}

// Labels returns the labels of the objects and pods of the run named name.
func Labels(name string) map[string]string {
	return map[string]string{
		LabelName:      "amp",
		LabelInstance:  name,
		LabelComponent: "replay",
		LabelManagedBy: "amp",
	}
}

// Build makes the objects of the run c describes.
func Build(c Config) (*Objects, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	labels := Labels(c.Name)
	meta := func() metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: c.Name, Namespace: c.Namespace, Labels: Labels(c.Name)}
	}
	o := &Objects{comment: c.Comment}

	recording := c.RecordingURL
	var volumes []corev1.Volume
	var mounts []corev1.VolumeMount
	if c.RecordingURL == "" {
		o.ConfigMap = &corev1.ConfigMap{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: meta(),
			BinaryData: map[string][]byte{c.RecordingKey: c.Recording},
			Immutable:  ptr(true),
		}
		recording = path.Join(RecordingDir, c.RecordingKey)
		volumes = append(volumes, corev1.Volume{Name: "recording", VolumeSource: corev1.VolumeSource{
			ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: c.Name}},
		}})
		mounts = append(mounts, corev1.VolumeMount{Name: "recording", MountPath: RecordingDir, ReadOnly: true})
	}

	args := []string{
		"replay", recording,
		"--shard", "$(JOB_COMPLETION_INDEX)/" + strconv.Itoa(c.Shards),
		"--start-at", c.StartAt.UTC().Format(time.RFC3339),
		"--metrics", ":" + strconv.Itoa(c.MetricsPort),
		"--print-result",
		// A shard's part is judged with the others, by amp report --merge
		// --fail-if: a pod exits 0 whatever its share of failures.
		"--no-default-thresholds",
	}
	if c.RunID != "" {
		args = append(args, "--run-id", c.RunID)
	}
	if c.ResultsClaim != "" {
		args = append(args, "--json", path.Join(ResultsDir, c.Name+"-$(JOB_COMPLETION_INDEX).json"))
		volumes = append(volumes, corev1.Volume{Name: "results", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: c.ResultsClaim},
		}})
		mounts = append(mounts, corev1.VolumeMount{Name: "results", MountPath: ResultsDir})
	}
	args = append(args, c.ReplayArgs...)

	mem := resource.MustParse(c.Memory)
	env := []corev1.EnvVar{
		// The Job controller sets this too; declaring it makes the
		// $(JOB_COMPLETION_INDEX) in args explicit.
		{Name: "JOB_COMPLETION_INDEX", ValueFrom: &corev1.EnvVarSource{
			FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.annotations['" + AnnotationIndex + "']"},
		}},
		// Let the Go GC work harder before the memory limit kills the pod.
		{Name: "GOMEMLIMIT", Value: strconv.FormatInt(mem.Value()/10*9, 10)},
	}

	port := int32(c.MetricsPort)
	o.Service = &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: meta(),
		Spec: corev1.ServiceSpec{
			ClusterIP:                corev1.ClusterIPNone, // headless: one DNS record per pod
			Selector:                 labels,
			PublishNotReadyAddresses: true,
			Ports:                    []corev1.ServicePort{{Name: "metrics", Port: port, TargetPort: intstr.FromString("metrics")}},
		},
	}

	pod := corev1.PodSpec{
		RestartPolicy:                 corev1.RestartPolicyNever,
		Subdomain:                     c.Name, // NAME-INDEX.NAME resolves to shard INDEX
		EnableServiceLinks:            ptr(false),
		AutomountServiceAccountToken:  ptr(false),
		TerminationGracePeriodSeconds: seconds(c.TerminationGrace),
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot:   ptr(true),
			RunAsUser:      ptr(int64(DefaultRunAsUser)),
			RunAsGroup:     ptr(int64(DefaultRunAsUser)),
			FSGroup:        ptr(int64(DefaultRunAsUser)),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		// One shard per node where the cluster has room: each load
		// generator gets its own CPU and NIC.
		TopologySpreadConstraints: []corev1.TopologySpreadConstraint{{
			MaxSkew:           1,
			TopologyKey:       "kubernetes.io/hostname",
			WhenUnsatisfiable: corev1.ScheduleAnyway,
			LabelSelector:     &metav1.LabelSelector{MatchLabels: Labels(c.Name)},
		}},
		Containers: []corev1.Container{{
			Name:    Container,
			Image:   c.Image,
			Command: []string{"amp"},
			Args:    args,
			Env:     env,
			Ports:   []corev1.ContainerPort{{Name: "metrics", ContainerPort: port, Protocol: corev1.ProtocolTCP}},
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(c.CPU), corev1.ResourceMemory: mem},
				Limits:   corev1.ResourceList{corev1.ResourceMemory: mem},
			},
			VolumeMounts: mounts,
			SecurityContext: &corev1.SecurityContext{
				AllowPrivilegeEscalation: ptr(false),
				ReadOnlyRootFilesystem:   ptr(true),
				Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			},
		}},
		Volumes: volumes,
	}
	mode := batchv1.IndexedCompletion
	o.Job = &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: meta(),
		Spec: batchv1.JobSpec{
			CompletionMode:          &mode,
			Completions:             ptr(int32(c.Shards)),
			Parallelism:             ptr(int32(c.Shards)),
			BackoffLimitPerIndex:    ptr(int32(0)),
			TTLSecondsAfterFinished: ttl(c.TTL),
			ActiveDeadlineSeconds:   seconds(c.ActiveDeadline),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{
					Labels: labels,
					Annotations: map[string]string{
						"prometheus.io/scrape": "true",
						"prometheus.io/port":   strconv.Itoa(c.MetricsPort),
						"prometheus.io/path":   "/metrics",
					},
				},
				Spec: pod,
			},
		},
	}
	return o, nil
}

// WriteYAML writes the objects as one YAML stream ("---" between
// documents), for kubectl create -f -.
func (o *Objects) WriteYAML(w io.Writer) error {
	var b strings.Builder
	for line := range strings.Lines(o.comment) {
		b.WriteString(strings.TrimRight("# "+line, " \n") + "\n")
	}
	for i, obj := range o.List() {
		if i > 0 {
			b.WriteString("---\n")
		}
		y, err := marshal(obj)
		if err != nil {
			return err
		}
		b.Write(y)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// marshal writes obj as YAML without the empty status and creation time
// that the API types carry.
func marshal(obj any) ([]byte, error) {
	j, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(j, &m); err != nil {
		return nil, err
	}
	delete(m, "status")
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "creationTimestamp")
	}
	if spec, ok := m["spec"].(map[string]any); ok {
		if tpl, ok := spec["template"].(map[string]any); ok {
			if md, ok := tpl["metadata"].(map[string]any); ok {
				delete(md, "creationTimestamp")
			}
		}
	}
	return yaml.Marshal(m)
}

// DefaultName derives a job name from a recording's file name or URL:
// "amp-" and the name without its extension, lower case, other characters
// turned into dashes, cut to MaxNameLength.
func DefaultName(recording string) string {
	base := recording
	if i := strings.IndexAny(base, "?#"); i >= 0 && (strings.HasPrefix(base, "http://") || strings.HasPrefix(base, "https://")) {
		base = base[:i]
	}
	base = path.Base(strings.ReplaceAll(base, "\\", "/"))
	base = strings.TrimSuffix(base, path.Ext(base))
	var b strings.Builder
	b.WriteString("amp-")
	dash := true
	for _, r := range strings.ToLower(base) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	name := strings.TrimRight(b.String()[:min(b.Len(), MaxNameLength)], "-")
	if name == "amp" {
		return "amp-replay"
	}
	return name
}

// Size formats a byte count for messages: 900 KiB, 5.2 MiB.
func Size(n int) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
	case n >= 1<<10:
		return strconv.Itoa(n>>10) + " KiB"
	}
	return strconv.Itoa(n) + " B"
}

func ptr[T any](v T) *T { return &v }

func seconds(d time.Duration) *int64 {
	if d <= 0 {
		return nil
	}
	return ptr(int64((d + time.Second - 1) / time.Second))
}

func ttl(d time.Duration) *int32 {
	if d <= 0 {
		return nil
	}
	return ptr(int32(min((d+time.Second-1)/time.Second, 1<<31-1)))
}
