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
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/internal/outfile"
	"github.com/ampload/amp/kube"
	"github.com/ampload/amp/replay"
	"github.com/ampload/amp/stats"
	"github.com/urfave/cli/v2"
	"k8s.io/apimachinery/pkg/util/validation"
)

// kubePassed are the amp replay flags amp kube job passes to every pod.
func kubePassed(flag string) bool {
	switch flag {
	case "host", "map", "insecure", "users", "rate", "duration", "iterations", "stages", "think", "max-think", "speed",
		"timeline", "multiple", "loop", "timeout", "stop-timeout", "no-correlate", "header", "max-conns", "name", "quiet":
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
	case "json", "csv", "html":
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
			"amp replay --shard I/N --start-at T, the recording in a ConfigMap (or fetched from a URL),\n" +
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
		&cli.StringFlag{Name: "job-name", Usage: "`NAME` of the Job, ConfigMap and Service (default: amp- and the recording's name)"},
		&cli.DurationFlag{Name: "start-in", Value: time.Minute, Usage: "shared start this long from now: time to apply, schedule and pull the image"},
		&cli.StringFlag{Name: "start-at", Usage: "shared start time (`RFC3339`) instead of --start-in"},
		&cli.StringFlag{Name: "recording-url", Usage: "the pods fetch the recording from this http(s) `URL` instead of a ConfigMap (needed over 900 KiB)"},
		&cli.StringFlag{Name: "cpu", Value: def.CPU, Usage: "CPU request of each pod (no limit: throttling would skew latencies)"},
		&cli.StringFlag{Name: "memory", Value: def.Memory, Usage: "memory request and limit of each pod"},
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
			"among the shards. Apply with kubectl create -f - (or kubectl apply --server-side): a large\n" +
			"ConfigMap does not fit the annotation that client-side kubectl apply adds.",
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
	kc.CPU, kc.Memory = c.String("cpu"), c.String("memory")
	kc.MetricsPort = c.Int("metrics-port")
	kc.TTL = c.Duration("ttl")
	kc.ResultsClaim = c.String("results-pvc")
	kc.Name = c.String("job-name")
	if kc.Name == "" {
		kc.Name = kube.DefaultName(arg)
	}
	if !c.IsSet("shards") {
		return usageError("kube job: --shards is missing: how many pods share the test")
	}
	if !c.IsSet("image") {
		return usageError("kube job: --image is missing: a container image with amp on its PATH (build one with kube/Dockerfile)")
	}

	now := time.Now()
	if at := c.String("start-at"); at != "" {
		if c.IsSet("start-in") {
			return usageError("kube job: give --start-at or --start-in, not both")
		}
		t, err := time.Parse(time.RFC3339, at)
		if err != nil {
			return usageError("kube job: --start-at %q: want an RFC3339 time such as 2026-11-26T12:00:00Z", at)
		}
		if !t.After(now) {
			return usageError("kube job: --start-at %s is not in the future", at)
		}
		kc.StartAt = t
	} else {
		d := c.Duration("start-in")
		if d < 0 {
			return usageError("kube job: --start-in %v is negative", d)
		}
		kc.StartAt = now.Add(d + time.Second - 1).Truncate(time.Second)
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
	switch {
	case !cfg.Timeline && cfg.Users < kc.Shards:
		return usageError("kube job: --users %d is fewer than --shards %d: some pods would run no user", cfg.Users, kc.Shards)
	case !cfg.Timeline && cfg.Iterations > 0 && cfg.Iterations < kc.Shards:
		return usageError("kube job: --iterations %d is fewer than --shards %d: some pods would run none", cfg.Iterations, kc.Shards)
	}
	namer, err := stats.NewNamer(multi(c, "name"))
	if err != nil {
		return usageError("kube job: --name: %v", err)
	}

	where := ""
	if url := c.String("recording-url"); url != "" || isURL(arg) {
		if url != "" && isURL(arg) && url != arg {
			return usageError("kube job: the recording is the URL %s; --recording-url is for a local file the pods fetch from elsewhere", arg)
		}
		kc.RecordingURL = cmp.Or(url, arg)
		where = "fetched by each pod from " + kc.RecordingURL
	}
	if !isURL(arg) {
		data, err := os.ReadFile(arg)
		if err != nil {
			return usageError("kube job: %s", readErrorText(arg, err))
		}
		rec, err := capture.ReadWith(bytes.NewReader(data), capture.ReadOptions{SkipDamaged: true})
		if err != nil {
			if rec == nil || errors.Is(err, capture.ErrCorrupt) {
				return usageError("kube job: %s", readErrorText(arg, err))
			}
			fmt.Fprintf(c.App.ErrWriter, "amp: warning: %s; the pods replay the %d whole records before it\n", readErrorText(arg, err), rec.Exchanges())
		}
		if d := damageText(arg, rec); d != "" {
			fmt.Fprintf(c.App.ErrWriter, "amp: warning: %s; the pods replay the %d intact records\n", d, rec.Exchanges())
		}
		if _, err := replay.NewPlan(rec, cfg, namer.Name); err != nil {
			return usageError("kube job: %s: %v", arg, err)
		}
		if kc.RecordingURL == "" {
			if len(data) > kube.MaxConfigMapRecording {
				return usageError("kube job: %s is %s, more than a ConfigMap holds (%s): serve it over http(s) where the pods can fetch it and add --recording-url URL",
					arg, kube.Size(len(data)), kube.Size(kube.MaxConfigMapRecording))
			}
			kc.Recording = data
			kc.RecordingKey = path.Base(arg)
			if len(validation.IsConfigMapKey(kc.RecordingKey)) > 0 {
				kc.RecordingKey = "recording.amp"
			}
			where = fmt.Sprintf("%s, in ConfigMap %s", kube.Size(len(data)), kc.Name)
		}
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
	ns := ""
	if kc.Namespace != "" {
		ns = " -n " + kc.Namespace
	}
	kc.Comment = fmt.Sprintf("amp kube job: %d shards of %s (%s) against %s\n"+
		"all shards start at %s: create the objects before then\n"+
		"run:     kubectl create%s -f THIS.yaml   (or kubectl apply --server-side: a large ConfigMap is too big for client-side apply)\n"+
		"watch:   kubectl get pods%s -l %s=%s -w\n"+
		"collect: amp kube collect %s%s -o results --wait 1h && amp report --merge results/*.json --json all.json\n"+
		"again:   kubectl delete%s job,configmap,service %s",
		kc.Shards, arg, where, cfg.Host, kc.StartAt.UTC().Format(time.RFC3339),
		ns, ns, kube.LabelJobName, kc.Name, kc.Name, ns, ns, kc.Name)

	objs, err := kube.Build(kc)
	if err != nil {
		return usageError("kube job: %s", oneLine(err))
	}
	return objs.WriteYAML(c.App.Writer)
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
