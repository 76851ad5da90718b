package main

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/internal/fielderr"
	"github.com/ampload/amp/internal/outfile"
	"github.com/ampload/amp/kube"
	"github.com/ampload/amp/replay"
	"github.com/ampload/amp/stats"
	"github.com/urfave/cli/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// kubePassed are the amp replay flags amp kube job passes to every pod.
func kubePassed(flag string) bool {
	switch flag {
	case "host", "map", "insecure", "http1", "h2c", "users", "rate", "duration", "iterations", "stages", "think", "max-think", "speed",
		"timeline", "multiple", "loop", "timeout", "stop-timeout", "no-correlate", "header", "max-conns", "name", "quiet", "metrics-linger":
		return true
	}
	return false
}

// kubeRefusal says why amp kube job does not pass an amp replay flag to the
// pods.
func kubeRefusal(flag string) string {
	switch flag {
	case "shard":
		return "each pod gets its own --shard I/N; give the number of pods with --shards N"
	case "metrics":
		return "each pod serves /metrics on --metrics-port"
	case "json", "csv", "html", "bands", "junit", "summary":
		return "files written inside the pods are lost; collect the results with amp kube collect and render them with amp report --merge ... --" + flag
	case "fail-if":
		return "thresholds judge the merged result: give them to amp report --merge after amp kube collect"
	case "abort-on-fail":
		return "a shard cannot see the merged result; check thresholds with amp report --merge ... --fail-if"
	}
	return "amp kube job does not pass it to the pods"
}

// kubeReplayFlags are the amp replay flags amp kube job takes: the ones it
// passes to every pod, and the others, refused with a reason rather than
// "flag provided but not defined".
func kubeReplayFlags() []cli.Flag {
	var fl []cli.Flag
	for _, f := range replayCommand().Flags {
		switch f.Names()[0] {
		case "start-at", "print-result", "run-id":
			continue // amp kube job sets them
		}
		fl = append(fl, f)
	}
	return fl
}

func kubeCommand() *cli.Command {
	return &cli.Command{
		Name:  "kube",
		Usage: "run a replay as N shards on Kubernetes (an Indexed Job) and collect the results",
		UsageText: "amp kube job REC.amp|URL --shards N --host URL --image IMG [replay flags] | kubectl create -f -\n" +
			"   amp kube collect JOB -o DIR [--wait 30m]\n\n" +
			"   amp kube job shop.amp --shards 8 --host https://staging.shop --image registry.example/amp:1.0 \\\n" +
			"       --users 4000 --rate 200 --duration 10m > shop-job.yaml\n" +
			"   kubectl create -f shop-job.yaml\n" +
			"   amp kube collect amp-shop -o results --wait 30m\n" +
			"   amp report --merge results/*.json --json all.json --html all.html --fail-if 'p(95)<500'",
		Description: "amp kube job prints the manifests of one sharded run: an Indexed Job whose pod I runs\n" +
			"amp replay --shard I/N --start-at T, the recording in a Secret (or fetched from a URL, or on a volume),\n" +
			"and a headless Service plus Prometheus annotations for each pod's /metrics. Each pod ends\n" +
			"its log with its result; amp kube collect reads them back (kubectl logs) into one file\n" +
			"per shard, and amp report --merge adds them up exactly.",
		Subcommands: []*cli.Command{kubeJobCommand(), kubeCollectCommand()},
	}
}

func kubeJobCommand() *cli.Command {
	def := kube.DefaultConfig()
	flags := []cli.Flag{
		&cli.IntFlag{Name: "shards", Usage: "number of pods, each running 1/N of the test (required)"},
		&cli.StringFlag{Name: "image", Usage: "container `IMAGE` with amp on its PATH (required; see kube/Dockerfile)"},
		&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Usage: "namespace of the objects (default: kubectl's current one)"},
		&cli.StringFlag{Name: "job-name", Usage: "`NAME` of the Job, Secret and Service (default: amp- and the recording's name)"},
		&cli.DurationFlag{Name: "start-in", Value: time.Minute, Usage: "shared start this long from now: time to apply, schedule and pull the image"},
		&cli.StringFlag{Name: "start-at", Usage: "shared start time (`RFC3339`) instead of --start-in"},
		&cli.StringFlag{Name: "recording-url", Usage: "each pod's amp replay fetches the recording from this http(s) `URL` at its start, instead of a Secret holding it (needed over 1 MiB; the URL goes in the Secret)"},
		&cli.StringFlag{Name: "recording-pvc", Usage: "the pods read the recording from this PersistentVolumeClaim (`CLAIM`, mounted read-only at /recording; ReadOnlyMany for pods on several nodes) instead of a Secret"},
		&cli.StringFlag{Name: "recording-path", Usage: "with --recording-pvc: the recording's `PATH` inside the volume (default: the file's name)"},
		&cli.StringFlag{Name: "cpu", Value: def.CPU, Usage: "CPU request of each pod (no limit: throttling would skew latencies)"},
		&cli.StringFlag{Name: "memory", Usage: "memory request and limit of each pod (`QUANTITY`, e.g. 2Gi; default: estimated from the recording and the users per pod)"},
		&cli.StringFlag{Name: "memory-request", Usage: "memory request of each pod (`QUANTITY`; default: --memory or the estimate)"},
		&cli.StringFlag{Name: "memory-limit", Usage: "memory limit of each pod (`QUANTITY`; default: --memory or the estimate)"},
		&cli.IntFlag{Name: "metrics-port", Value: def.MetricsPort, Usage: "port of each pod's Prometheus /metrics"},
		&cli.DurationFlag{Name: "ttl", Value: def.TTL, Usage: "keep the finished Job and its pods' logs this long (0 = until deleted)"},
		&cli.StringFlag{Name: "results-pvc", Usage: "also write each result to this ReadWriteMany PersistentVolumeClaim (`CLAIM`), at /results"},
	}
	return &cli.Command{
		Name:      "job",
		Usage:     "print the Kubernetes manifests (YAML) of a replay run as N shards",
		ArgsUsage: "REC.amp|URL",
		UsageText: "amp kube job REC.amp|URL --shards N --host URL --image IMG [replay flags]\n\n" +
			"   amp kube job shop.amp --shards 8 --host https://staging.shop --image registry.example/amp:1.0 \\\n" +
			"       --users 4000 --rate 200 --duration 10m | kubectl create -f -\n" +
			"   amp kube job big.amp --recording-url https://files.example/big.amp --shards 20 \\\n" +
			"       --host https://staging.shop --image registry.example/amp:1.0 --timeline --multiple 40",
		Description: "The replay flags (--users, --rate, --duration, --timeline, --map, ...) are those of amp replay,\n" +
			"checked here and passed to every pod; users, rate, iterations and timeline copies are divided\n" +
			"among the shards. The recording (it holds cookies and passwords) goes in a Secret up to 1 MiB;\n" +
			"bigger ones are fetched by the pods (--recording-url) or read from a volume (--recording-pvc).\n" +
			"Each pod's memory request and limit are estimated from the recording and its users (see the\n" +
			"YAML's header); --memory overrides them. Apply with kubectl create -f - (or kubectl apply\n" +
			"--server-side): a large Secret does not fit the annotation that client-side kubectl apply adds.",
		Flags:  append(flags, kubeReplayFlags()...),
		Action: runKubeJob,
	}
}

func kubeCollectCommand() *cli.Command {
	return &cli.Command{
		Name:      "collect",
		Usage:     "gather the shards' results of a finished amp kube job from its pods' logs",
		ArgsUsage: "JOB | --from-logs FILE...",
		UsageText: "amp kube collect JOB -o DIR [--namespace NS] [--wait D]\n" +
			"   amp kube collect --from-logs LOG... -o DIR\n\n" +
			"   amp kube collect amp-shop -o results --wait 30m && amp report --merge results/*.json --json all.json\n" +
			"   kubectl logs -l batch.kubernetes.io/job-name=amp-shop --tail=-1 \\\n" +
			"       | amp kube collect --from-logs - -o results",
		Description: "Reads each indexed pod's log with kubectl logs, takes the result block amp replay\n" +
			"--print-result ended it with, and writes DIR/shard-I.json for amp report --merge. A shard\n" +
			"without a result is named with its pod's state (OOMKilled, ...) and makes the exit code 1,\n" +
			"after the others are written. --from-logs reads saved logs instead (\"-\" = standard input).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "`DIR` to write shard-I.json files to (required; created if missing)"},
			&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Usage: "namespace of the Job (default: kubectl's current one)"},
			&cli.StringFlag{Name: "context", Usage: "kubeconfig context (default: the current one)"},
			&cli.StringFlag{Name: "kubectl", Value: "kubectl", Usage: "kubectl command to run"},
			&cli.DurationFlag{Name: "wait", Usage: "wait this long for a Job still running (default: refuse it)"},
			&cli.BoolFlag{Name: "from-logs", Usage: "the arguments are saved pod logs, not a Job"},
		},
		Action: runKubeCollect,
	}
}

func runKubeJob(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError("kube job: want one recording file or URL, got %d arguments (run 'amp kube job --help')", c.NArg())
	}
	for _, f := range kubeReplayFlags() {
		if name := f.Names()[0]; c.IsSet(name) && !kubePassed(name) {
			return usageError("kube job: --%s: %s", name, kubeRefusal(name))
		}
	}
	arg := c.Args().First()
	kc := kube.DefaultConfig()
	kc.Namespace = c.String("namespace")
	kc.Image = c.String("image")
	kc.Shards = c.Int("shards")
	kc.CPU = c.String("cpu")
	kc.MetricsPort = c.Int("metrics-port")
	kc.TTL = c.Duration("ttl")
	kc.ResultsClaim = c.String("results-pvc")
	kc.Name = cmp.Or(c.String("job-name"), kube.DefaultName(arg))
	if !c.IsSet("shards") {
		return usageError("kube job: --shards is missing: how many pods share the test")
	}
	if !c.IsSet("image") {
		return usageError("kube job: --image is missing: a container image with amp on its PATH (build one with kube/Dockerfile)")
	}
	var err error
	if kc.StartAt, err = kubeStartAt(c, time.Now()); err != nil {
		return err
	}

	// The replay flags: checked as amp replay checks them, for shard 0.
	cfg, err := replayConfig(c)
	if err != nil {
		return usageError("kube job: %s", describeReplay(err))
	}
	cfg.Shard, cfg.Shards, cfg.StartAt = 0, max(kc.Shards, 1), kc.StartAt
	if err := cfg.Validate(); err != nil {
		return usageError("kube job: %s", describeReplay(err))
	}
	kc.Users, kc.Iterations, kc.Timeline = peakUsers(cfg), cfg.Iterations, cfg.Timeline
	if err := kc.ValidateShards(); err != nil { // before reading a recording of any size
		return usageError("kube job: %s", kubeErrorText(c, arg, err))
	}
	namer, err := stats.NewNamer(multi(c, "name"))
	if err != nil {
		return usageError("kube job: --name: %v", err)
	}

	where, mem, err := kubeRecording(c, arg, &kc, cfg, namer)
	if err != nil {
		return err
	}
	kc.MemoryRequest, kc.MemoryLimit = mem.With(cmp.Or(c.String("memory-request"), c.String("memory")), cmp.Or(c.String("memory-limit"), c.String("memory")))
	memory := fmt.Sprintf("request %s, limit %s per pod", kc.MemoryRequest, kc.MemoryLimit)
	if mem.Formula != "" {
		memory += " (estimate: " + mem.Formula + "; --memory overrides)"
	}

	if cfg.Duration == 0 && cfg.Iterations == 0 && !cfg.Timeline {
		// After the checks of the recording: a real error comes first.
		return usageError("kube job: pods cannot be stopped with Ctrl-C: give --duration, --iterations or --timeline")
	}
	kc.ReplayArgs = passThrough(c)
	kc.RunID = stats.NewRunID() // one for all the pods
	grace := cfg.StopTimeout + 15*time.Second
	kc.TerminationGrace = grace
	if cfg.Duration > 0 {
		// A Job that outlives its run by far is stuck: stop it.
		kc.ActiveDeadline = (time.Until(kc.StartAt) + cfg.Duration + grace + 10*time.Minute + time.Minute - 1).Truncate(time.Minute)
	}
	kc.Comment = kubeComment(kc, arg, where, cfg.Host, memory)
	objs, err := kube.Build(kc)
	if err != nil {
		return usageError("kube job: %s", kubeErrorText(c, arg, err))
	}
	return objs.WriteYAML(c.App.Writer)
}

// kubeStartAt is the shared start of amp kube job's pods: --start-at, or
// --start-in from now, on a whole second.
func kubeStartAt(c *cli.Context, now time.Time) (time.Time, error) {
	at := c.String("start-at")
	if at == "" {
		d := c.Duration("start-in")
		if d < 0 {
			return time.Time{}, usageError("kube job: --start-in %v is negative", d)
		}
		return now.Add(d + time.Second - 1).Truncate(time.Second), nil
	}
	if c.IsSet("start-in") {
		return time.Time{}, usageError("kube job: give --start-at or --start-in, not both")
	}
	t, err := time.Parse(time.RFC3339, at)
	if err != nil {
		return time.Time{}, usageError("kube job: --start-at %q: want an RFC3339 time such as 2026-11-26T12:00:00Z", at)
	}
	if !t.After(now) {
		return time.Time{}, usageError("kube job: --start-at %s is not in the future", at)
	}
	return t, nil
}

// kubeRecording sets where kc's pods take the recording arg from (a Secret
// holding it, its URL, a claim), reads a local recording to check it
// against cfg and to estimate the pods' memory, and says where the
// recording is, for the YAML's comment. A recording known only by its URL
// gives no estimate (a zero Memory).
func kubeRecording(c *cli.Context, arg string, kc *kube.Config, cfg replay.Config, namer *stats.Namer) (string, kube.Memory, error) {
	where := ""
	url, claim := c.String("recording-url"), c.String("recording-pvc")
	if claim != "" {
		if isURL(arg) {
			return "", kube.Memory{}, usageError("kube job: --recording-pvc: give the local copy of the recording the claim holds, not the URL %s", arg)
		}
		kc.RecordingClaim = claim
		kc.RecordingPath = cmp.Or(c.String("recording-path"), path.Base(arg))
		where = fmt.Sprintf("read from %s on claim %s", path.Join(kube.RecordingDir, kc.RecordingPath), claim)
	} else if c.IsSet("recording-path") {
		return "", kube.Memory{}, usageError("kube job: --recording-path is the recording's path inside --recording-pvc CLAIM, which is missing")
	}
	if url != "" || isURL(arg) {
		if url != "" && isURL(arg) && url != arg {
			return "", kube.Memory{}, usageError("kube job: the recording is the URL %s; --recording-url is for a local file the pods fetch from elsewhere", arg)
		}
		kc.RecordingURL = cmp.Or(url, arg) // with a claim too: kube's Validate refuses the pair
		where = "fetched by each pod from " + noQuery(kc.RecordingURL) + ", the URL in Secret " + kc.Name
	}
	if isURL(arg) {
		if !c.IsSet("memory") && !c.IsSet("memory-request") && !c.IsSet("memory-limit") {
			return "", kube.Memory{}, usageError("kube job: the recording is only a URL here, so the pods' memory cannot be estimated: give --memory (e.g. 2Gi), or the local file and --recording-url URL")
		}
		return where, kube.Memory{}, nil
	}

	info, err := os.Stat(arg)
	if err != nil {
		return "", kube.Memory{}, usageError("kube job: %s", readErrorText(arg, err))
	}
	ship := kc.RecordingURL == "" && kc.RecordingClaim == ""
	if err := kube.SecretFits(info.Size()); ship && err != nil {
		// Refused before reading a file of any size.
		return "", kube.Memory{}, usageError("kube job: %s", kubeErrorText(c, arg, err))
	}
	var data []byte
	var load kube.Load
	if ship {
		// At most a Secret's size: read whole, and planned as the pods will.
		if data, err = os.ReadFile(arg); err != nil {
			return "", kube.Memory{}, usageError("kube job: %s", readErrorText(arg, err))
		}
		rec, err := capture.ReadWith(bytes.NewReader(data), capture.ReadOptions{SkipDamaged: true})
		if err != nil {
			if rec == nil || errors.Is(err, capture.ErrCorrupt) {
				return "", kube.Memory{}, usageError("kube job: %s", readErrorText(arg, err))
			}
			fmt.Fprintf(c.App.ErrWriter, "amp: warning: %s; the pods replay the %d whole records before it\n", readErrorText(arg, err), rec.Exchanges())
		}
		if d := damageText(arg, rec); d != "" {
			fmt.Fprintf(c.App.ErrWriter, "amp: warning: %s; the pods replay the %d intact records\n", d, rec.Exchanges())
		}
		if _, err := replay.NewPlan(rec, cfg, namer.Name); err != nil {
			return "", kube.Memory{}, usageError("kube job: %s: %s", arg, describeReplay(err))
		}
		load = kube.LoadOf(rec, info.Size())
	} else if load, err = streamKubeLoad(c, arg, cfg, namer.Name, info.Size()); err != nil {
		return "", kube.Memory{}, err
	}
	load.Users, load.Timeline, load.Multiple, load.Shards = kc.Users, cfg.Timeline, cfg.Multiple, kc.Shards
	load.Streamed = kc.RecordingURL == "" // a file in the pod (a Secret or a volume) is read on demand
	if ship {
		kc.Recording = data
		kc.RecordingKey = path.Base(arg)
		if len(validation.IsConfigMapKey(kc.RecordingKey)) > 0 {
			kc.RecordingKey = "recording.amp"
		}
		where = fmt.Sprintf("%s, in Secret %s", kube.Size(int64(len(data))), kc.Name)
	}
	return where, kube.PodMemory(load), nil
}

// kubeComment is the header of amp kube job's YAML: what runs where, and
// the kubectl commands to run, watch, collect and delete it.
func kubeComment(kc kube.Config, arg, where, host, memory string) string {
	ns := ""
	if kc.Namespace != "" {
		ns = " -n " + kc.Namespace
	}
	return fmt.Sprintf("amp kube job: %d shards of %s (%s) against %s\n"+
		"memory:  %s\n"+
		"cpu:     %s\n"+
		"all shards start at %s: create the objects before then\n"+
		"run:     kubectl create%s -f THIS.yaml   (or kubectl apply --server-side: a large Secret is too big for client-side apply)\n"+
		"watch:   kubectl get pods%s -l %s=%s -w\n"+
		"collect: amp kube collect %s%s -o results --wait 1h && amp report --merge results/*.json --json all.json\n"+
		"again:   kubectl delete%s %s %s",
		kc.Shards, noQuery(arg), where, host, memory, kubeCPU(kc), kc.StartAt.UTC().Format(time.RFC3339),
		ns, ns, kube.LabelJobName, kc.Name, kc.Name, ns, ns, kc.Kinds(), kc.Name)
}

// kubeCPU is the YAML header's CPU line: the request of each pod and of
// all of them, which must be free at once, else the pods that do not fit
// wait and miss the shared start (amp kube collect then warns).
func kubeCPU(kc kube.Config) string {
	q, err := resource.ParseQuantity(kc.CPU)
	if err != nil { // Build refuses it
		return kc.CPU
	}
	total := resource.NewMilliQuantity(q.MilliValue()*int64(kc.Shards), resource.DecimalSI)
	return fmt.Sprintf("request %s per pod, %s for the %d pods: all must fit at once, or the late ones miss the start (--cpu sets it)",
		kc.CPU, total, kc.Shards)
}

// peakUsers is the most users the closed model runs at once: --users, or
// the highest of --stages.
func peakUsers(cfg replay.Config) int {
	if len(cfg.Stages) == 0 {
		return cfg.Users
	}
	n := 0
	for _, s := range cfg.Stages {
		n = max(n, s.Users)
	}
	return n
}

// noQuery is a URL without its query and fragment (which may carry a
// token), for the YAML's comment.
func noQuery(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 && isURL(u) {
		return u[:i] + "?…"
	}
	return u
}

// kubeFlagName names the kube.Config fields by the flags of amp kube job
// (the recording by its argument).
func kubeFlagName(c *cli.Context, arg string) func(field string) string {
	return func(field string) string {
		switch field {
		case "MemoryRequest", "MemoryLimit":
			if name := "memory-" + strings.ToLower(strings.TrimPrefix(field, "Memory")); c.IsSet(name) || !c.IsSet("memory") {
				return "--" + name
			}
			return "--memory"
		case "Recording":
			return arg
		}
		if flag, ok := map[string]string{
			"Name": "--job-name", "Namespace": "--namespace", "Image": "--image", "Shards": "--shards",
			"Users": "--users", "Iterations": "--iterations", "StartAt": "--start-at",
			"RecordingURL": "--recording-url", "RecordingClaim": "--recording-pvc", "RecordingPath": "--recording-path",
			"RecordingKey": "the recording's file name", "MetricsPort": "--metrics-port", "CPU": "--cpu",
			"TTL": "--ttl", "ResultsClaim": "--results-pvc",
		}[field]; ok {
			return flag
		}
		return field
	}
}

// kubeErrorText is an error of kube's Validate or Build in flag names, on
// one line.
func kubeErrorText(c *cli.Context, arg string, err error) string {
	return fielderr.Describe(err, kubeFlagName(c, arg))
}

// passThrough returns the amp replay flags set on c, as arguments for the
// pods' amp replay.
func passThrough(c *cli.Context) []string {
	var args []string
	for _, f := range kubeReplayFlags() {
		name := f.Names()[0]
		if !kubePassed(name) || !c.IsSet(name) {
			continue
		}
		switch f.(type) {
		case *cli.BoolFlag:
			if c.Bool(name) {
				args = append(args, "--"+name)
			} else {
				args = append(args, "--"+name+"=false")
			}
		case *cli.GenericFlag:
			for _, v := range multi(c, name) {
				args = append(args, "--"+name, v)
			}
		case *cli.IntFlag:
			args = append(args, "--"+name, strconv.Itoa(c.Int(name)))
		case *cli.Float64Flag:
			args = append(args, "--"+name, strconv.FormatFloat(c.Float64(name), 'g', -1, 64))
		case *cli.DurationFlag:
			args = append(args, "--"+name, c.Duration(name).String())
		default:
			args = append(args, "--"+name, c.String(name))
		}
	}
	return args
}

func runKubeCollect(c *cli.Context) error {
	dir := c.String("output")
	if dir == "" {
		return usageError("kube collect: --output DIR is missing: where to write the shard results")
	}
	if err := outfile.Writable(dir); err != nil {
		return usageError("kube collect: -o %s: %v", dir, err)
	}
	out := c.App.Writer
	var col *kube.Collected
	var err error
	if c.Bool("from-logs") {
		if c.NArg() == 0 {
			return usageError("kube collect: --from-logs wants saved pod logs as arguments (\"-\" = standard input)")
		}
		var found []kube.Result
		for _, name := range c.Args().Slice() {
			var log []byte
			if name == "-" {
				log, err = io.ReadAll(os.Stdin)
			} else {
				log, err = os.ReadFile(name)
			}
			if err != nil {
				return usageError("kube collect: %s", readErrorText(name, err))
			}
			res, err := kube.ReadResults(log)
			if err != nil {
				return usageError("kube collect: %s: %v", name, err)
			}
			if len(res) == 0 {
				return usageError("kube collect: %s: no result block (from amp replay --print-result) in it", name)
			}
			found = append(found, res...)
		}
		col, err = kube.SaveResults(dir, found, 0)
	} else {
		if c.NArg() != 1 {
			return usageError("kube collect: want one Job name, got %d arguments (run 'amp kube collect --help')", c.NArg())
		}
		if c.Duration("wait") < 0 {
			return usageError("kube collect: --wait %v is negative", c.Duration("wait"))
		}
		col, err = kube.Collect(c.Context, kube.CollectConfig{
			Job: c.Args().First(), Namespace: c.String("namespace"), Context: c.String("context"),
			Kubectl: c.String("kubectl"), Dir: dir, Wait: c.Duration("wait"), Progress: c.App.ErrWriter,
		})
	}
	if col != nil && len(col.Files) > 0 {
		fmt.Fprintf(out, "collected %d of %d shard results into %s\n", len(col.Files), col.Shards, dir)
		fmt.Fprintf(out, "merge them: amp report --merge %s --json all.json\n", path.Join(dir, "shard-*.json"))
	}
	if col != nil {
		for _, l := range col.Late {
			fmt.Fprintf(c.App.ErrWriter, "amp: warning: kube collect: %s: its pod started late (too little CPU or memory free for all the pods at once? see kubectl describe pod); the merged result is not the load planned\n", l)
		}
	}
	if err == nil && col != nil {
		err = col.Err()
	}
	if err != nil {
		return &exitError{code: exitBadInput, err: fmt.Errorf("kube collect: %s", oneLine(err))}
	}
	return nil
}

// printResult ends amp replay's output with the result in the block amp
// kube collect reads back (amp replay --print-result).
func printResult(w io.Writer, res *stats.Result) error {
	var b bytes.Buffer
	if err := res.WriteJSON(&b); err != nil {
		return err
	}
	shard, _ := res.Config["shard"].(string) // "I/N" when sharded
	return kube.WriteResult(w, shard, b.Bytes())
}

// streamKubeLoad reads a recording the pods fetch or mount a session at a
// time, in memory that does not grow with it: it counts what sizes the
// pods and checks what replay.NewPlan would refuse.
func streamKubeLoad(c *cli.Context, arg string, cfg replay.Config, name func(method, rawURL string) string, size int64) (kube.Load, error) {
	status := newStatusLine(c.App.ErrWriter, false)
	f, err := capture.OpenWith(arg, capture.OpenOptions{SkipDamaged: true, Progress: func(done, total int64) {
		status.show(fmt.Sprintf("amp kube job: indexing %s: %d%%", arg, 100*done/max(total, 1)))
	}})
	status.clear()
	if err != nil && (f == nil || errors.Is(err, capture.ErrCorrupt)) {
		return kube.Load{}, usageError("kube job: %s", readErrorText(arg, err))
	}
	defer f.Close()
	if err != nil {
		fmt.Fprintf(c.App.ErrWriter, "amp: warning: %s; the pods replay the %d whole records before it\n", readErrorText(arg, err), f.Exchanges())
	}
	lc, scopes := kube.NewLoadCounter(size), replay.NewScopes(cfg, name)
	for i := range f.Sessions() {
		s, err := f.Session(i)
		if err != nil {
			return kube.Load{}, usageError("kube job: %s", readErrorText(arg, err))
		}
		lc.Add(s)
		scopes.Add(s)
	}
	if d := damageText(arg, &capture.Recording{Damaged: f.Damaged()}); d != "" {
		fmt.Fprintf(c.App.ErrWriter, "amp: warning: %s; the pods replay the %d intact records\n", d, f.Exchanges())
	}
	if err := scopes.Err(); err != nil {
		return kube.Load{}, usageError("kube job: %s: %s", arg, describeReplay(err))
	}
	return lc.Load(), nil
}
