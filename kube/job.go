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

	"github.com/ampload/amp/internal/fielderr"
)

// Defaults of Config.
const (
	DefaultMetricsPort = 9464
	DefaultCPU         = "1"
	DefaultTTL         = 24 * time.Hour
	DefaultRunAsUser   = 65532 // distroless's nonroot user
)

// MaxSecretRecording is the largest recording Build ships in a Secret: the
// API server refuses a Secret whose data values add up to more than
// corev1.MaxSecretSize (1 MiB of decoded bytes; base64 only grows the
// request). Larger recordings are fetched from a URL or mounted from a
// volume.
const MaxSecretRecording = corev1.MaxSecretSize

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

// SecretURLKey is the key of the Secret holding Config.RecordingURL, and
// EnvRecordingURL the variable the pods read it from: a URL that grants
// access (a signed link, a token in its query) is no plain argument.
const (
	SecretURLKey    = "recording-url"
	EnvRecordingURL = "AMP_RECORDING_URL"
)

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
	// Name names the Job, its Secret and its Service; a DNS-1123 label
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

	// The recording comes from exactly one of three places. Recording is
	// the recording itself, shipped in a Secret under RecordingKey (it holds
	// cookies and passwords) and mounted read-only in RecordingDir; at most
	// MaxSecretRecording bytes.
	Recording    []byte
	RecordingKey string // file name in the Secret and in RecordingDir
	// RecordingURL is an http(s) URL each pod's amp replay fetches the
	// recording from at its start (no init container: the image has no
	// shell). The URL itself travels in the Secret (SecretURLKey).
	RecordingURL string
	// RecordingClaim is a PersistentVolumeClaim holding the recording at
	// RecordingPath (relative to the volume's root), mounted read-only in
	// RecordingDir; ReadOnlyMany (or ReadWriteMany) when the shards run on
	// several nodes.
	RecordingClaim string
	RecordingPath  string

	// ReplayArgs are the amp replay flags passed to every shard (--host,
	// --users, ...), already checked; Build adds --shard, --start-at,
	// --metrics and --print-result.
	ReplayArgs []string
	// Users, Iterations and Timeline are the run's shape as ReplayArgs
	// give it, for the shard rules: in the closed model (not Timeline)
	// every pod needs at least one user, and one iteration when Iterations
	// is set.
	Users      int
	Iterations int
	Timeline   bool

	// MetricsPort is where each pod serves Prometheus /metrics.
	MetricsPort int
	// CPU is each pod's CPU request (a Kubernetes quantity). No CPU limit:
	// CFS throttling would add latency to the measurements.
	CPU string
	// MemoryRequest and MemoryLimit are each pod's memory request and limit
	// (Kubernetes quantities; see PodMemory); the limit is at least the
	// request, and GOMEMLIMIT is 90 % of it.
	MemoryRequest, MemoryLimit string
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

// DefaultConfig returns a Config with the defaults of amp kube job. The
// memory has no default: it depends on the recording (PodMemory).
func DefaultConfig() Config {
	return Config{MetricsPort: DefaultMetricsPort, CPU: DefaultCPU, TTL: DefaultTTL}
}

// FieldError is one problem of a Config: the field it is in, the value
// given and what is wrong, so that a command line can name its own flag.
// It is replay's FieldError.
type FieldError = fielderr.Error

// Validate reports every problem of c at once, each a *FieldError (see
// FieldErrors), joined.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, value, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Value: value, Problem: fmt.Sprintf(format, args...)})
	}
	q := strconv.Quote
	if msgs := validation.IsDNS1123Label(c.Name); len(msgs) > 0 {
		bad("Name", q(c.Name), "%s", msgs[0])
	} else if len(c.Name) > MaxNameLength {
		bad("Name", q(c.Name), "%d characters, more than %d (pod host names add -INDEX)", len(c.Name), MaxNameLength)
	}
	if c.Namespace != "" {
		if msgs := validation.IsDNS1123Label(c.Namespace); len(msgs) > 0 {
			bad("Namespace", q(c.Namespace), "%s", msgs[0])
		}
	}
	if c.Image == "" {
		bad("Image", "", "is missing: an image with amp on its PATH")
	} else if strings.ContainsAny(c.Image, " \t\n") {
		bad("Image", q(c.Image), "contains white space")
	}
	if err := c.ValidateShards(); err != nil {
		errs = append(errs, err)
	}
	if c.StartAt.IsZero() {
		bad("StartAt", "", "is missing")
	}
	c.validateRecording(bad)
	if c.MetricsPort < 1 || c.MetricsPort > 65535 {
		bad("MetricsPort", strconv.Itoa(c.MetricsPort), "not a port")
	}
	if _, err := resource.ParseQuantity(c.CPU); err != nil {
		bad("CPU", q(c.CPU), "want a Kubernetes quantity such as 500m or 2")
	}
	req, reqErr := resource.ParseQuantity(c.MemoryRequest)
	if reqErr != nil || req.Sign() <= 0 {
		bad("MemoryRequest", q(c.MemoryRequest), "want a Kubernetes quantity such as 512Mi or 2Gi")
	}
	lim, limErr := resource.ParseQuantity(c.MemoryLimit)
	switch {
	case limErr != nil || lim.Sign() <= 0:
		bad("MemoryLimit", q(c.MemoryLimit), "want a Kubernetes quantity such as 512Mi or 2Gi")
	case reqErr == nil && lim.Cmp(req) < 0:
		bad("MemoryLimit", c.MemoryLimit, "less than {MemoryRequest} %s", c.MemoryRequest)
	}
	if c.TTL < 0 {
		bad("TTL", c.TTL.String(), "negative")
	}
	if c.ActiveDeadline < 0 {
		bad("ActiveDeadline", c.ActiveDeadline.String(), "negative")
	}
	if c.TerminationGrace < 0 {
		bad("TerminationGrace", c.TerminationGrace.String(), "negative")
	}
	if c.ResultsClaim != "" {
		if msgs := validation.IsDNS1123Subdomain(c.ResultsClaim); len(msgs) > 0 {
			bad("ResultsClaim", q(c.ResultsClaim), "%s", msgs[0])
		}
	}
	return errors.Join(errs...)
}

// ValidateShards checks the shard rules alone, which need no recording:
// at least one shard, and in the closed model (not Timeline) at least one
// user per pod, and one iteration when Iterations is set (amp replay
// --shard I/N divides them; a pod with none would idle). Validate checks
// them too.
func (c Config) ValidateShards() error {
	var errs []error
	switch {
	case c.Shards < 1:
		errs = append(errs, &FieldError{Field: "Shards", Value: strconv.Itoa(c.Shards), Problem: "want at least 1"})
	case c.Timeline:
	default:
		if c.Users < c.Shards {
			errs = append(errs, &FieldError{Field: "Users", Value: strconv.Itoa(c.Users),
				Problem: fmt.Sprintf("fewer than the %d shards: some pods would run no user", c.Shards)})
		}
		if c.Iterations > 0 && c.Iterations < c.Shards {
			errs = append(errs, &FieldError{Field: "Iterations", Value: strconv.Itoa(c.Iterations),
				Problem: fmt.Sprintf("fewer than the %d shards: some pods would run none", c.Shards)})
		}
	}
	return errors.Join(errs...)
}

// validateRecording checks that the recording comes from one place, and
// that place.
func (c Config) validateRecording(bad func(field, value, format string, args ...any)) {
	q := strconv.Quote
	sources := 0
	for _, set := range []bool{c.Recording != nil, c.RecordingURL != "", c.RecordingClaim != ""} {
		if set {
			sources++
		}
	}
	switch {
	case sources > 1:
		bad("Recording", "", "has more than one source: give the recording itself, {RecordingURL} or {RecordingClaim}")
	case c.RecordingURL != "":
		if !strings.HasPrefix(c.RecordingURL, "http://") && !strings.HasPrefix(c.RecordingURL, "https://") {
			bad("RecordingURL", q(c.RecordingURL), "want an http:// or https:// URL")
		}
	case c.RecordingClaim != "":
		if msgs := validation.IsDNS1123Subdomain(c.RecordingClaim); len(msgs) > 0 {
			bad("RecordingClaim", q(c.RecordingClaim), "%s", msgs[0])
		}
		p := c.RecordingPath
		if p == "" || strings.HasPrefix(p, "/") || path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../") {
			bad("RecordingPath", q(p), "want the recording's path inside the volume, relative and clean (e.g. shop.amp or recs/shop.amp)")
		}
	case len(c.Recording) == 0:
		bad("Recording", "", "is missing")
	case len(c.Recording) > MaxSecretRecording:
		fe := SecretFits(int64(len(c.Recording))).(*FieldError)
		bad(fe.Field, fe.Value, "%s", fe.Problem)
	default:
		if msgs := validation.IsConfigMapKey(c.RecordingKey); len(msgs) > 0 {
			bad("RecordingKey", q(c.RecordingKey), "%s", msgs[0])
		}
	}
}

// SecretFits reports whether a recording of size bytes fits in the Secret
// Build ships it in: nil, or the *FieldError naming the alternatives
// (RecordingURL, RecordingClaim). Check it before reading a large file.
func SecretFits(size int64) error {
	if size <= MaxSecretRecording {
		return nil
	}
	return &FieldError{Field: "Recording", Problem: fmt.Sprintf("is %s, more than a Secret holds (%s): serve it over http(s) where the pods can fetch it and add {RecordingURL} URL, or put it on a volume and add {RecordingClaim} CLAIM",
		Size(size), Size(MaxSecretRecording))}
}

// Kinds lists the kinds of the objects Build makes of c, for kubectl
// delete: "job,secret,service".
func (c Config) Kinds() string {
	if c.RecordingClaim != "" {
		return "job,service"
	}
	return "job,secret,service"
}

// Objects are the Kubernetes objects of one sharded run.
type Objects struct {
	Secret  *corev1.Secret // the recording or its URL; nil when it is on a volume
	Service *corev1.Service
	Job     *batchv1.Job
	comment string
}

// List returns the objects in the order they are applied.
func (o *Objects) List() []any {
	var l []any
	if o.Secret != nil {
		l = append(l, o.Secret)
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

	var recording string
	var volumes []corev1.Volume
	var mounts []corev1.VolumeMount
	var env []corev1.EnvVar
	secret := func(key string, data []byte) {
		o.Secret = &corev1.Secret{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
			ObjectMeta: meta(),
			Type:       corev1.SecretTypeOpaque,
			Data:       map[string][]byte{key: data},
			Immutable:  ptr(true),
		}
	}
	switch {
	case c.RecordingURL != "":
		secret(SecretURLKey, []byte(c.RecordingURL))
		recording = "$(" + EnvRecordingURL + ")"
		env = append(env, corev1.EnvVar{Name: EnvRecordingURL, ValueFrom: &corev1.EnvVarSource{
			SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: c.Name}, Key: SecretURLKey},
		}})
	case c.RecordingClaim != "":
		recording = path.Join(RecordingDir, c.RecordingPath)
		volumes = append(volumes, corev1.Volume{Name: "recording", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: c.RecordingClaim, ReadOnly: true},
		}})
		mounts = append(mounts, corev1.VolumeMount{Name: "recording", MountPath: RecordingDir, ReadOnly: true})
	default:
		secret(c.RecordingKey, c.Recording)
		recording = path.Join(RecordingDir, c.RecordingKey)
		volumes = append(volumes, corev1.Volume{Name: "recording", VolumeSource: corev1.VolumeSource{
			// Readable by the pod's group (FSGroup) only.
			Secret: &corev1.SecretVolumeSource{SecretName: c.Name, DefaultMode: ptr(int32(0o440))},
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

	memReq, memLim := resource.MustParse(c.MemoryRequest), resource.MustParse(c.MemoryLimit)
	env = append([]corev1.EnvVar{
		// The Job controller sets this too; declaring it makes the
		// $(JOB_COMPLETION_INDEX) in args explicit.
		{Name: "JOB_COMPLETION_INDEX", ValueFrom: &corev1.EnvVarSource{
			FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.annotations['" + AnnotationIndex + "']"},
		}},
		// Let the Go GC work harder before the memory limit kills the pod.
		{Name: "GOMEMLIMIT", Value: strconv.FormatInt(memLim.Value()/10*9, 10)},
	}, env...)

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
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(c.CPU), corev1.ResourceMemory: memReq},
				Limits:   corev1.ResourceList{corev1.ResourceMemory: memLim},
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

// Size formats a byte count for messages: 900 KiB, 5.2 MiB, 1 MiB.
func Size(n int64) string {
	switch {
	case n >= 1<<20:
		return strings.TrimSuffix(strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64), ".0") + " MiB"
	case n >= 1<<10:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " B"
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
