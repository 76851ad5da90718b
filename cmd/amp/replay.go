package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/internal/outfile"
	"github.com/ampload/amp/replay"
	"github.com/ampload/amp/stats"
	"github.com/ampload/amp/stats/prom"
	"github.com/ampload/amp/web"
	"github.com/urfave/cli/v2"
)

func replayCommand() *cli.Command {
	def := replay.DefaultConfig()
	cmd := &cli.Command{
		Name:      "replay",
		Usage:     "replay a recording as many concurrent simulated users",
		ArgsUsage: "REC.amp|URL [MORE.amp:WEIGHT ...]",
		UsageText: "amp replay REC.amp --host URL [--users N --rate R] [--duration D | --iterations K] [flags]\n\n" +
			"   amp replay shop.amp --host http://127.0.0.1:5000 --users 1000 --rate 50 --duration 5m\n" +
			"   amp replay shop.amp --host http://127.0.0.1:5000 --timeline --multiple 3 --speed 2\n" +
			"   amp replay shop.amp --host http://127.0.0.1:5000 --stages 1m:500,5m:500,1m:0\n" +
			"   amp replay shop.amp --host http://127.0.0.1:5000 --arrival-rate 20 --max-users 2000 --duration 10m\n" +
			"   amp replay browse.amp:80 checkout.amp:20 --host http://127.0.0.1:5000 --users 500   # weighted journeys\n" +
			"   amp replay shop.amp --host https://staging.shop --map cdn.shop=https://cdn.staging \\\n" +
			"       --users 200 --iterations 1000 --fail-if 'p(95)<500' --fail-if 'rate<0.01' --json result.json",
		Description: "Closed model (default): --users users start at --rate per second; each replays a recorded\n" +
			"session's tasks in order with the recorded think time (--think, --speed), then the next session.\n" +
			"Open model (--timeline): every recorded session starts at its recorded offset ÷ --speed,\n" +
			"--multiple copies of it; latency counts from each task's intended start.\n" +
			"Arrival rate (--arrival-rate R): R sessions start a second, each as a new user, in their\n" +
			"recorded proportion, whatever the latency; --max-users caps the users, and arrivals that\n" +
			"find them all busy are dropped and counted.\n\n" +
			"Each user has its own cookies and keep-alive connection, and values the server generated\n" +
			"(CSRF tokens, ids) are correlated automatically (see amp sessions --correlations).\n" +
			"Each response is compared with its recording (status, redirect, title, forms, JSON shape,\n" +
			"size): a difference fails the task as \"differs: ...\" (--checks=status: by status class only);\n" +
			"--check adds assertions, e.g. --check 'POST /login: status == 302'.\n" +
			"Only mapped hosts get traffic: --host maps the recording's main host, --map the others;\n" +
			"requests to other hosts are skipped and counted. Ctrl-C stops gracefully, twice at once.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "host", Usage: "URL the recording's main host is replayed against (required)"},
			&cli.GenericFlag{Name: "map", Value: &multiFlag{}, Usage: "map another recorded host: `OLDHOST=URL` (repeatable)"},
			&cli.BoolFlag{Name: "insecure", Usage: "skip TLS certificate verification of https targets"},
			&cli.BoolFlag{Name: "http1", Usage: "speak HTTP/1.1 to https targets (default: offer h2 and http/1.1 by ALPN)"},
			&cli.BoolFlag{Name: "h2c", Usage: "speak HTTP/2 with prior knowledge to http targets (cleartext gRPC servers)"},
			&cli.IntFlag{Name: "users", Aliases: []string{"u"}, Value: def.Users, Usage: "concurrent simulated users (closed model)"},
			&cli.Float64Flag{Name: "rate", Aliases: []string{"r"}, Value: def.Rate, Usage: "users started per second"},
			&cli.DurationFlag{Name: "duration", Aliases: []string{"d"}, Usage: "run time (default: until the iterations or the timeline end, or Ctrl-C)"},
			&cli.IntFlag{Name: "iterations", Usage: "stop after this many sessions in all (closed model)"},
			&cli.StringFlag{Name: "stages", Usage: "ramp the users instead of --users/--rate, k6-style: `D:N,...` e.g. 1m:500,5m:500,1m:0 (linear from 0; the run ends after the last stage)"},
			&cli.StringFlag{Name: "think", Value: "recorded", Usage: "pause between tasks: recorded, none or a duration"},
			&cli.Float64Flag{Name: "speed", Value: 1, Usage: "divide recorded pauses and offsets by this factor"},
			&cli.DurationFlag{Name: "max-think", Usage: "cap recorded pauses between tasks at this (0: as recorded)"},
			&cli.BoolFlag{Name: "timeline", Usage: "open model: start sessions at their recorded offsets"},
			&cli.StringFlag{Name: "mix", Usage: "weight named groups of the recording's sessions: `NAME=W,...` where NAME is a session name as amp sessions lists it, or a glob over names, e.g. 'login*=80,home→articles*=20' (sessions in no group are not replayed)"},
			&cli.GenericFlag{Name: "session", Value: &multiFlag{}, Usage: "replay only this session: its number as amp sessions lists it (from 1), its key, or its name or a glob over names (`N|KEY|NAME`, repeatable)"},
			&cli.Float64Flag{Name: "arrival-rate", Usage: "open model: start this many sessions a second, each as a new user, whatever the latency (k6's arrival rate); with --stages the rate ramps from it, each stage's number being sessions a second"},
			&cli.IntFlag{Name: "max-users", Usage: "with --arrival-rate: at most this many users at once; an arrival that finds them all busy is dropped and counted (default: no cap)"},
			&cli.Float64Flag{Name: "multiple", Value: 1, Usage: "copies of each recorded session on the timeline (2.5 = 250 %)"},
			&cli.BoolFlag{Name: "loop", Usage: "repeat the timeline until --duration"},
			&cli.DurationFlag{Name: "timeout", Value: def.Timeout, Usage: "bound of one request"},
			&cli.DurationFlag{Name: "stop-timeout", Value: def.StopTimeout, Usage: "time in-flight requests get to finish at the end"},
			&cli.BoolFlag{Name: "no-correlate", Usage: "send recorded tokens and ids as they are"},
			&cli.StringFlag{Name: "checks", Value: "auto", Usage: "judge responses: auto (compare each with its recording: status, redirect, title, forms, JSON shape, size) or status (by status class only)"},
			&cli.BoolFlag{Name: "no-checks", Usage: "judge responses by status class only (--checks=status)"},
			&cli.GenericFlag{Name: "check", Value: &multiFlag{}, Usage: "assert on responses, optionally for one endpoint (`EXPR`, repeatable): 'POST /login: status == 302', 'GET /cart: body contains \"Total\"', 'json $.id exists', 'header Location contains /x', 'status in 200,302', 'json $.a == \"v\"'"},
			&cli.GenericFlag{Name: "header", Value: &multiFlag{}, Usage: "set this field on every request, replacing the recorded one: `'Name: value'` (repeatable), e.g. 'X-Load-Test: amp'"},
			&cli.StringFlag{Name: "data", Usage: "per-user values: a CSV `FILE` with a header row, or JSON lines; a column named like a recorded form field, JSON member, query parameter or header replaces the recorded value"},
			&cli.StringFlag{Name: "data-mode", Value: "next", Usage: "which row each session takes: next (in turn, wrapping), random, unique (each row once, then stop) or loop (each user keeps its row)"},
			&cli.BoolFlag{Name: "keep-client-values", Usage: "send values the client generated (UUIDs, nonces, timestamps) as recorded instead of fresh ones per user and iteration"},
			&cli.StringFlag{Name: "shard", Usage: "run the I-th (from 0) of N equal parts of this test: `I/N` (users, rate and iterations divided, timeline copies dealt out)"},
			&cli.StringFlag{Name: "start-at", Usage: "wait for this shared start time (`RFC3339`), so the ramps of all shards line up"},
			&cli.StringFlag{Name: "run-id", Usage: "the run's `ID` in the result, shared by all its shards so amp report merge takes them together (default: random, or derived from --start-at and --shard)"},
			&cli.IntFlag{Name: "max-conns", Usage: "share at most this many connections per target among all users (default: one per user, capped by the open-file limit)"},
			&cli.GenericFlag{Name: "name", Value: &multiFlag{}, Usage: "endpoint naming rule `REGEX=NAME`, tried before the automatic templates (repeatable)"},
			&cli.GenericFlag{Name: "fail-if", Value: &multiFlag{}, Usage: "threshold in k6's grammar, e.g. 'p(95)<500', 'rate<0.01', 'GET /x: p(99)<800' (`EXPR`, repeatable); exit 99 if one fails"},
			&cli.BoolFlag{Name: "abort-on-fail", Usage: "stop the run as soon as a --fail-if threshold fails"},
			&cli.BoolFlag{Name: "find-capacity", Usage: "find how many users the target takes: from --users (10), double them every --step-duration while every --fail-if threshold holds, then narrow in on the last step that held; bounded by --max-users and --duration, Ctrl-C gives the best answer so far"},
			&cli.DurationFlag{Name: "step-duration", Value: 30 * time.Second, Usage: "with --find-capacity: how long each step holds its users (the first third is not judged)"},
			&cli.BoolFlag{Name: "no-default-thresholds", Usage: "without --fail-if, exit 0 even when nothing finished or 5 % or more failed (the default thresholds count>0 and rate<0.05)"},
			&cli.StringFlag{Name: "json", Usage: "write the full result as JSON to this file (re-render it with amp report)"},
			&cli.StringFlag{Name: "csv", Usage: "write Locust's four CSV files: PREFIX_stats.csv, _stats_history.csv, _failures.csv, _exceptions.csv"},
			&cli.StringFlag{Name: "html", Usage: "write a self-contained HTML report with charts to this file"},
			&cli.StringFlag{Name: "bands", Usage: "the HTML report's latency bands, `LIMITS` such as 800ms,1200ms (default: the --fail-if latency limits, else 800ms,1200ms)"},
			&cli.StringFlag{Name: "junit", Usage: "write JUnit XML to `FILE`: a test case per threshold (--fail-if, or the defaults), per --check and per kind of difference from the recording"},
			&cli.StringFlag{Name: "summary", Usage: "append a Markdown summary (verdict, thresholds, top endpoints and failures) to `FILE`, e.g. \"$GITHUB_STEP_SUMMARY\""},
			&cli.StringFlag{Name: "metrics", Usage: "serve Prometheus /metrics on this address while running, e.g. 127.0.0.1:9464"},
			&cli.DurationFlag{Name: "metrics-linger", Value: defaultMetricsLinger, Usage: "with --metrics: keep /metrics up this long after the run, so that the next scrape reads the final figures (Ctrl-C ends it sooner; 0: stop with the run)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no live statistics, only the final report"},
			&cli.BoolFlag{Name: "dry-run", Usage: "print what would be sent where (hosts, endpoints, correlations) and send nothing"},
			&cli.BoolFlag{Name: "print-result", Usage: "end the output with the result in a marked block (gzip, base64) that amp kube collect reads from pod logs"},
			&cli.GenericFlag{Name: "web", Value: &optionalAddr{def: "127.0.0.1:8089"}, Usage: "watch and steer the replay in the browser: --web (127.0.0.1:8089) or --web `HOST:PORT` (not loopback: needs a token)"},
			&cli.StringFlag{Name: "web-token", Usage: "with --web: require this `TOKEN` (?token= in the browser, or Authorization: Bearer); generated and printed when --web is not on loopback"},
			&cli.BoolFlag{Name: "autostart", Usage: "with --web: start at once, and exit when the replay ends"},
			&cli.StringFlag{Name: "cpuprofile", Hidden: true, Usage: "write a CPU profile of amp itself to `FILE`"},
		},
		Action: runReplay,
	}
	cmd.Flags = append(cmd.Flags, validateFlags()...)
	return cmd
}

// replayConfig turns the flags into a replay.Config.
func replayConfig(c *cli.Context) (replay.Config, error) {
	cfg := replay.DefaultConfig()
	var err error
	cfg.Host = c.String("host")
	for _, m := range multi(c, "map") {
		hm, err := replay.ParseHostMap(m)
		if err != nil {
			return cfg, err
		}
		cfg.Map = append(cfg.Map, hm)
	}
	cfg.Insecure = c.Bool("insecure")
	cfg.HTTP1, cfg.H2C = c.Bool("http1"), c.Bool("h2c")
	cfg.Users = c.Int("users")
	cfg.Rate = c.Float64("rate")
	cfg.Duration = c.Duration("duration")
	cfg.Iterations = c.Int("iterations")
	cfg.Speed = c.Float64("speed")
	if st := c.String("stages"); st != "" {
		stages, err := replay.ParseStages(st)
		if err != nil {
			return cfg, err
		}
		cfg.Stages = stages
	}
	cfg.Timeline = c.Bool("timeline")
	cfg.ArrivalRate = c.Float64("arrival-rate")
	if !c.Bool("find-capacity") || cfg.ArrivalRate > 0 { // a search of users is bounded by --max-users
		cfg.MaxUsers = c.Int("max-users")
	}
	cfg.Multiple = c.Float64("multiple")
	cfg.Loop = c.Bool("loop")
	cfg.Timeout = c.Duration("timeout")
	cfg.StopTimeout = c.Duration("stop-timeout")
	cfg.NoCorrelate = c.Bool("no-correlate")
	if cfg.CheckMode, err = replay.ParseCheckMode(c.String("checks")); err != nil {
		return cfg, err
	}
	if c.Bool("no-checks") {
		cfg.CheckMode = replay.CheckStatus
	}
	for _, expr := range multi(c, "check") {
		ck, err := replay.ParseCheck(expr)
		if err != nil {
			return cfg, err
		}
		cfg.Checks = append(cfg.Checks, ck)
	}
	for _, h := range multi(c, "header") {
		f, err := replay.ParseHeader(h)
		if err != nil {
			return cfg, err
		}
		cfg.Headers = append(cfg.Headers, f)
	}
	cfg.MaxConns = c.Int("max-conns")
	cfg.DataFile = c.String("data")
	cfg.KeepClientValues = c.Bool("keep-client-values")
	if cfg.DataMode, err = replay.ParseDataMode(c.String("data-mode")); err != nil {
		return cfg, err
	}
	if c.IsSet("data-mode") && cfg.DataFile == "" {
		return cfg, errors.New("--data-mode needs --data FILE")
	}
	if sh := c.String("shard"); sh != "" {
		i, n, ok := strings.Cut(sh, "/")
		if cfg.Shard, err = strconv.Atoi(i); ok && err == nil {
			cfg.Shards, err = strconv.Atoi(n)
		}
		if !ok || err != nil || cfg.Shards < 1 {
			return cfg, fmt.Errorf("--shard %q: want I/N, e.g. 0/4", sh)
		}
	}
	if at := c.String("start-at"); at != "" {
		if cfg.StartAt, err = time.Parse(time.RFC3339, at); err != nil {
			return cfg, fmt.Errorf("--start-at %q: want an RFC3339 time such as 2026-11-26T12:00:00Z", at)
		}
	}
	if cfg.Think, err = replay.ParseThink(c.String("think")); err != nil {
		return cfg, err
	}
	cfg.Think.Max = c.Duration("max-think")
	if cfg.Loop && cfg.Duration == 0 {
		return cfg, errors.New("--loop needs --duration (or stop it with Ctrl-C)")
	}
	return cfg, cfg.Validate()
}

func runReplay(c *cli.Context) error {
	if c.NArg() < 1 {
		return usageError("replay: want a recording file (or several, FILE:WEIGHT), got none (run 'amp replay --help')")
	}
	setup, cfg, bindings, err := prepareReplay(c)
	if err != nil {
		return err
	}
	defer setup.close()
	if p := c.String("cpuprofile"); p != "" {
		stop, err := startCPUProfile(p)
		if err != nil {
			return usageError("replay: --cpuprofile: %v", err)
		}
		defer stop()
	}
	if c.IsSet("web") {
		return serveWeb(c, setup, cfg, c.Bool("autostart"), c.Bool("autostart"))
	}
	run, err := setup.newRun(cfg)
	if err != nil {
		return err
	}
	if setup.valid.only {
		if v := run.Verification; v != nil && (len(v.Differs) > 0 || len(v.Errors) > 0) {
			return &exitError{code: exitThreshold, err: fmt.Errorf("replay: --validate: %s of %d differ from the recording",
				plural(len(v.Differs)+len(v.Errors), "request"), v.Requests)}
		}
		return nil
	}
	if !setup.checked {
		if err := setup.check(c, cfg, run.Plan); err != nil {
			return err
		}
	}
	if c.Bool("dry-run") {
		printData(c.App.Writer, cfg, bindings)
		return printPlan(c.App.Writer, setup.path, cfg, run.Plan)
	}
	printReplayStart(c, setup.path, cfg, run.Plan)
	printJourneys(c.App.Writer, run.Plan)
	if addr := c.String("metrics"); addr != "" {
		stop, err := serveMetrics(c, addr, prom.NewHandler(run.Collector, metricsOptions(run)))
		if err != nil {
			return err
		}
		defer stop()
	}
	if c.Bool("find-capacity") {
		return findCapacity(c, setup, run)
	}
	res := play(c.Context, run, c.Bool("quiet"), c.App.Writer, c.App.ErrWriter)
	printRuleCounts(c.App.Writer, run.Player.RuleCounts())
	if err := run.Player.Err(); err != nil {
		fmt.Fprintf(c.App.ErrWriter, "amp: the run stopped early: %s\n", describeReplay(err))
	}
	return finish(c, res, setup.opts.Thresholds)
}

// prepareReplay turns amp replay's flags and recording into what every run
// of it shares, refusing bad input before anything is sent.
func prepareReplay(c *cli.Context) (*replaySetup, replay.Config, [][]replay.DataBinding, error) {
	cfg, err := replayConfig(c)
	if err != nil {
		return nil, cfg, nil, usageError("replay: %s", describeReplay(err))
	}
	if err := checkReplayFlags(c, cfg); err != nil {
		return nil, cfg, nil, err
	}
	namer, err := stats.NewNamer(multi(c, "name"))
	if err != nil {
		return nil, cfg, nil, usageError("replay: --name: %v", err)
	}
	ths, err := failIf(c)
	if err != nil {
		return nil, cfg, nil, err
	}
	if c.Bool("find-capacity") {
		if err := replay.CheckCapacityThresholds(ths); err != nil {
			return nil, cfg, nil, usageError("replay: --find-capacity: %s", describeReplay(err))
		}
		if d := c.Duration("step-duration"); d < replay.MinCapacityHold {
			return nil, cfg, nil, usageError("replay: --step-duration %v is too short: a step is judged on the whole seconds after its first third (at least %v)", d, replay.MinCapacityHold)
		}
	}
	args, err := parseJourneyArgs(c.Args().Slice())
	if err != nil {
		return nil, cfg, nil, err
	}
	inputs := []string{c.String("rules"), c.String("data")}
	for _, a := range args {
		inputs = append(inputs, a.path)
	}
	if err := checkOutputs("replay", inputs, resultFiles(c), outfile.Output{Flag: "--cpuprofile", Path: c.String("cpuprofile")},
		outfile.Output{Flag: "--save-rules", Path: c.String("save-rules")}); err != nil {
		return nil, cfg, nil, err
	}
	valid, err := validationOf(c)
	if err != nil {
		return nil, cfg, nil, err
	}
	if valid.rulesFrom != "" {
		if cfg.Rules, err = replay.LoadRules(valid.rulesFrom); err != nil {
			return nil, cfg, nil, usageError("replay: --rules %s: %s", valid.rulesFrom, oneLine(err))
		}
	}
	path := shownName(args[0].path) // printed from here on
	for _, a := range args[1:] {
		path += " " + shownName(a.path)
	}
	if onDemand(c, args) {
		if args[0].weight != 0 {
			return nil, cfg, nil, usageError("replay: %s: a weight needs another recording to weigh against (or --mix, within one)", args[0].path+":"+strconv.FormatFloat(args[0].weight, 'g', -1, 64))
		}
		f, facts, err := openReplayFile(c, args[0].path)
		if err != nil {
			return nil, cfg, nil, err
		}
		data, bindings, err := replay.PrepareDataFile(cfg, f)
		if err != nil {
			f.Close()
			return nil, cfg, nil, usageError("replay: %s", describeReplay(err))
		}
		cfg.Data = data
		return finishSetup(c, &replaySetup{file: f, facts: facts, path: path}, cfg, namer.Name, ths, valid, bindings)
	}
	rec, journeys, err := loadJourneys(c, args)
	if err != nil {
		return nil, cfg, nil, err
	}
	if picks := multi(c, "session"); len(picks) > 0 {
		if err := pickSessions(rec, picks, namer.Name); err != nil {
			return nil, cfg, nil, err
		}
	}
	if m := c.String("mix"); m != "" {
		if len(args) > 1 {
			return nil, cfg, nil, usageError("replay: --mix weights the sessions of one recording; several recordings are weighted as FILE:WEIGHT")
		}
		if journeys, err = replay.ParseMix(m); err == nil {
			journeys, err = mixJourneys(rec, journeys, namer.Name)
		}
		if err != nil {
			return nil, cfg, nil, usageError("replay: %s", describeReplay(err))
		}
	}
	if cfg.Journeys = journeys; len(journeys) > 0 && cfg.Timeline {
		return nil, cfg, nil, usageError("replay: weighted journeys start sessions by weight; --timeline replays each at its recorded offset: give one")
	}
	data, bindings, err := replay.PrepareData(cfg, rec.Sessions)
	if err != nil {
		return nil, cfg, nil, usageError("replay: %s", describeReplay(err))
	}
	cfg.Data = data
	return finishSetup(c, &replaySetup{rec: rec, path: path}, cfg, namer.Name, ths, valid, bindings)
}

// finishSetup completes setup (its recording and path set) with what every
// run of it shares, and checks what can be checked before anything is sent.
func finishSetup(c *cli.Context, setup *replaySetup, cfg replay.Config, name func(method, rawURL string) string,
	ths []stats.Threshold, valid validPass, bindings [][]replay.DataBinding) (*replaySetup, replay.Config, [][]replay.DataBinding, error) {
	setup.valid, setup.ctx, setup.out, setup.errw = valid, c.Context, c.App.Writer, c.App.ErrWriter
	setup.opts = replay.RunOptions{Name: name, Validate: valid.only || !valid.skip && valid.rulesFrom == "",
		Thresholds: ths, AbortOnFail: c.Bool("abort-on-fail"), RunID: c.String("run-id"), Recording: setup.path}
	if !c.IsSet("max-conns") {
		setup.opts.FileLimit = openFileLimit()
	}
	if c.IsSet("web") || setup.opts.Validate {
		// Check before the web UI, or the validation pass, sends anything.
		if err := setup.check(c, cfg, nil); err != nil {
			return nil, cfg, nil, err
		}
	}
	return setup, cfg, bindings, nil
}

// loadReplayRecording reads the recording to replay, warning about a cut
// or damaged file and refusing one with nothing to replay.
func loadReplayRecording(c *cli.Context, arg string) (*capture.Recording, error) {
	path := shownName(arg)
	rec, err := loadRecording(c.Context, arg)
	if err != nil {
		if rec == nil || errors.Is(err, capture.ErrCorrupt) {
			return nil, describeReadError(path, err)
		}
		fmt.Fprintf(c.App.ErrWriter, "amp: warning: %s; replaying the %d whole records before it\n", readErrorText(path, err), rec.Exchanges())
	}
	if d := damageText(path, rec); d != "" {
		fmt.Fprintf(c.App.ErrWriter, "amp: warning: %s; replaying the %d intact records\n", d, rec.Exchanges())
	}
	return rec, nil
}

// printReplayStart says what the replay is about to do.
func printReplayStart(c *cli.Context, path string, cfg replay.Config, plan *replay.Plan) {
	out := c.App.Writer
	fmt.Fprintf(out, "replaying %s: %s, %s (%d to mapped hosts); %s → %s\n",
		path, plural(len(plan.Scripts), "session"), plural(plan.Tasks, "request"), plan.Sendable, plan.MainHost, cfg.Host)
	if cfg.Shards > 1 {
		fmt.Fprintf(out, "shard %d of %d (numbered from 0): this process runs its share of the users, rate and iterations\n", cfg.Shard, cfg.Shards)
	}
	if d := time.Until(cfg.StartAt); d > 0 {
		fmt.Fprintf(out, "waiting %v for the shared start at %s\n", d.Round(time.Second), cfg.StartAt.Format(time.RFC3339))
	}
	if cfg.ArrivalRate > 0 {
		limit := "no cap on users"
		if cfg.MaxUsers > 0 {
			limit = fmt.Sprintf("at most %d users; arrivals that find them all busy are dropped", cfg.MaxUsers)
		}
		fmt.Fprintf(out, "arrival rate: %g sessions a second, each a new user (%s)\n", cfg.ArrivalRate, limit)
	}
	if len(cfg.Stages) > 0 {
		fmt.Fprintf(out, "stages: %s, %v in all\n", c.String("stages"), replay.StagesLength(cfg.Stages))
	} else if cfg.Duration == 0 && cfg.Iterations == 0 && !cfg.Timeline && !c.Bool("find-capacity") {
		fmt.Fprintln(out, "running until Ctrl-C (set --duration or --iterations to stop by itself)")
	}
}

// startCPUProfile profiles amp itself into path until stop.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// finish prints the final report of a run, writes the files asked for and
// turns failed thresholds into exit code 99.
func finish(c *cli.Context, res *stats.Result, ths []stats.Threshold) error {
	out := c.App.Writer
	res.Thresholds = res.CheckThresholds(ths)
	fmt.Fprintln(out)
	console := stats.NewConsole(out, false)
	console.SetWidth(termColumns(out))
	if err := console.Final(res); err != nil {
		return err
	}
	var failed []string // every output is attempted
	if c.Bool("print-result") {
		if err := printResult(out, res); err != nil {
			failed = append(failed, "--print-result: "+err.Error())
		}
	}
	files := resultFiles(c)
	files.CI = stats.CIOptions{DefaultThresholds: !c.Bool("no-default-thresholds"), Checks: multi(c, "check")}
	if err := writeOutputs(out, res, files); err != nil {
		failed = append(failed, err.Error())
	}
	if len(failed) > 0 {
		return fmt.Errorf("replay: %s", strings.Join(failed, "; "))
	}
	if err := thresholdError("replay", res); err != nil {
		return err
	}
	return judgeDefaults(c, res, ths)
}

// replaySetup is what every replay of one recording shares; newRun builds
// one run (the web UI starts several).
type replaySetup struct {
	rec     *capture.Recording
	file    *capture.File // instead of rec: read a session at a time (onDemand)
	facts   *replay.Facts // file's
	path    string
	opts    replay.RunOptions
	valid   validPass // saved rules or the validation pass, before each run
	checked bool      // check has run

	ctx       context.Context
	out, errw io.Writer
}

// close closes the recording read on demand, if any.
func (s *replaySetup) close() {
	if s.file != nil {
		s.file.Close()
	}
}

// newRun prepares one run with cfg and says what its preparation did.
func (s *replaySetup) newRun(cfg replay.Config) (*replay.Run, error) {
	ctx := s.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	start := time.Now()
	var run *replay.Run
	var err error
	if s.file != nil {
		run, err = replay.NewRunFile(ctx, s.file, s.facts, cfg, s.opts)
	} else {
		run, err = replay.NewRun(ctx, s.rec, cfg, s.opts)
	}
	if err != nil {
		return nil, usageError("replay: %s: %s", s.path, describeReplay(err))
	}
	if err := s.valid.report(s.out, run, time.Since(start)); err != nil {
		return nil, err
	}
	if cc := run.ConnCap; cc != nil {
		fmt.Fprintf(s.errw, "amp: %d users could need more connections than the open-file limit (%d) allows: "+
			"users share %d connections per host (raise ulimit -n for one each, or set --max-conns)\n", cc.Users, cc.Limit, cc.PerTarget)
	}
	return run, nil
}

// serveWeb serves the web UI for setup until Ctrl-C (or, with exitWhenDone,
// until the first replay finishes), then reports the last replay.
func serveWeb(c *cli.Context, setup *replaySetup, cfg replay.Config, autostart, exitWhenDone bool) error {
	out := c.App.Writer
	addr := c.Generic("web").(*optionalAddr).addr
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return usageError("--web %s: %v", addr, err)
	}
	token, err := webToken(c, addr)
	if err != nil {
		ln.Close()
		return err
	}
	wc := web.Config{Defaults: cfg, Recording: setup.rec, Path: setup.path, NewRun: setup.newRun, Autostart: autostart, Token: token,
		Thresholds: setup.opts.Thresholds}
	if c.Bool("find-capacity") {
		cc := capacityConfig(c, setup)
		wc.Capacity = &cc
	}
	ui := web.New(wc)
	srv := &http.Server{Handler: ui, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	if maddr := c.String("metrics"); maddr != "" {
		stop, err := serveMetrics(c, maddr, ui.Metrics())
		if err != nil {
			ui.Close()
			return err
		}
		defer stop()
	}
	query := ""
	if token != "" {
		query = "/?token=" + token
	}
	fmt.Fprintf(out, "web UI on http://%s%s — %s; Ctrl-C stops\n", ln.Addr(), query, map[bool]string{
		true: "the replay has started", false: "set users and spawn rate, then Start"}[autostart])
	var done <-chan struct{}
	if exitWhenDone {
		done = ui.Done()
	} else {
		go func() {
			select {
			case <-ui.Done():
				fmt.Fprintln(out, "the replay has finished; the UI stays up until Ctrl-C")
			case <-c.Context.Done():
			}
		}()
	}
	select {
	case <-c.Context.Done():
	case <-done:
	}
	ui.Close()
	res := ui.Result()
	if res == nil {
		fmt.Fprintln(out, "no replay was started")
		return nil
	}
	if c.Bool("find-capacity") {
		return finishCapacity(c, res)
	}
	return finish(c, res, setup.opts.Thresholds)
}

// isLoopback reports whether host (a name or an address) is a loopback one.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// play runs the replay until it ends, showing the live console (and
// Locust's keys on a terminal) and cutting the graceful stop short on a
// second Ctrl-C, and returns the final result.
func play(ctx context.Context, run *replay.Run, quiet bool, out, errw io.Writer) *stats.Result {
	p, cfg := run.Player, run.Config()
	done := make(chan struct{})
	go onSecondInterrupt(ctx, done, systemInterrupts, func() {
		fmt.Fprintf(errw, "\namp: stopping: in-flight requests get %v to finish (Ctrl-C again stops at once)\n", cfg.StopTimeout)
	}, p.Kill)
	tty := isTerminal(out)
	console := stats.NewConsole(out, tty)
	console.SetWidth(termColumns(out))
	if tty && !cfg.Timeline && cfg.ArrivalRate == 0 && isTerminal(os.Stdin) {
		// Locust's keys: w/W add 1/10 users, s/S remove 1/10.
		restore := watchKeys(func(k byte) {
			step := map[byte]int{'w': 1, 'W': 10, '+': 10, 's': -1, 'S': -10, '-': -10}[k]
			if step != 0 {
				p.SetUsers(p.Status().Target + step)
			}
		})
		defer restore()
		fmt.Fprintln(out, "keys: w/W add 1/10 users, s/S remove 1/10")
	}
	ticked := make(chan struct{})
	go func() {
		defer close(ticked)
		if quiet {
			return
		}
		tick := time.NewTicker(console.Interval())
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			st := p.Status()
			note := string(st.State)
			if st.State == replay.StateSpawning {
				note = fmt.Sprintf("spawning %d/%d users", st.Users, st.Target)
			}
			_ = console.Update(run.Collector.Snapshot(), stats.Progress{Elapsed: st.Elapsed, Duration: cfg.Duration, Users: st.Users, Note: note})
		}
	}()
	res, _ := run.Run(ctx)
	close(done)
	<-ticked
	if failed := run.Aborted(); len(failed) > 0 {
		fmt.Fprintf(errw, "amp: --abort-on-fail: %s failed: the run was stopped\n", strings.Join(failed, ", "))
	}
	return res
}

// resultFiles are the result files the command's --json, --csv, --html,
// --junit and --summary ask for.
func resultFiles(c *cli.Context) stats.Files {
	bands, _ := htmlBands(c) // checked with the flags, by failIf
	return stats.Files{JSON: c.String("json"), CSV: c.String("csv"), HTML: c.String("html"), Bands: bands,
		JUnit: c.String("junit"), Summary: c.String("summary")}
}

// htmlBands reads --bands, where the command has it.
func htmlBands(c *cli.Context) ([]time.Duration, error) {
	if !c.IsSet("bands") {
		return nil, nil
	}
	bands, err := stats.ParseBands(c.String("bands"))
	if err != nil {
		return nil, usageError("%s: --bands: %v", c.Command.Name, err)
	}
	return bands, nil
}

// checkOutputs refuses, before anything runs, outputs that would replace an
// input or a recording, or that cannot be written (see outfile.Plan).
func checkOutputs(cmd string, inputs []string, files stats.Files, more ...outfile.Output) error {
	p := outfile.Plan{Inputs: inputs, Outputs: append(files.Outputs(), more...)}
	if err := p.Check(); err != nil {
		return usageError("%s: %v", cmd, err)
	}
	return nil
}

// writeOutputs writes the result files asked for and says where they are.
// Every file is attempted; the error names each that failed, on one line.
func writeOutputs(out io.Writer, res *stats.Result, files stats.Files) error {
	written, err := files.Write(res)
	for _, w := range written {
		fmt.Fprintln(out, w)
	}
	if err != nil {
		return errors.New(strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return nil
}

// defaultMetricsLinger is how long /metrics stays up after the run: one
// scrape at the common 15 s interval reads the final figures.
const defaultMetricsLinger = 15 * time.Second

// metricsOptions are the /metrics options of a run: its target users.
func metricsOptions(run *replay.Run) prom.Options {
	return prom.Options{TargetUsers: func() int { return run.Player.Status().Target }}
}

// serveMetrics serves Prometheus /metrics from h on --metrics addr until
// stop, and says where. Unless the command was interrupted, stop keeps it
// up for --metrics-linger first, so that the last scrape sees the end.
func serveMetrics(c *cli.Context, addr string, h http.Handler) (stop func(), err error) {
	out, linger := c.App.Writer, c.Duration("metrics-linger")
	if linger < 0 {
		return nil, usageError("replay: --metrics-linger %v: want 0 or more", linger)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, usageError("replay: --metrics %s: %v", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	url := fmt.Sprintf("http://%s/metrics", ln.Addr())
	fmt.Fprintf(out, "Prometheus metrics on %s\n", url)
	return func() {
		defer srv.Close()
		if linger == 0 || c.Context.Err() != nil {
			return
		}
		fmt.Fprintf(out, "%s stays up for %v (--metrics-linger); Ctrl-C ends it\n", url, linger)
		t := time.NewTimer(linger)
		defer t.Stop()
		select {
		case <-t.C:
		case <-c.Context.Done():
		}
	}, nil
}

// failIf parses the command's --fail-if thresholds, and checks its --bands.
func failIf(c *cli.Context) ([]stats.Threshold, error) {
	if _, err := htmlBands(c); err != nil {
		return nil, err // read with the thresholds, which give its default
	}
	var ths []stats.Threshold
	for _, expr := range multi(c, "fail-if") {
		th, err := stats.ParseThreshold(expr)
		if err != nil {
			return nil, usageError("%s: --fail-if: %v", c.Command.Name, err)
		}
		ths = append(ths, th)
	}
	return ths, nil
}

// printPlan says what a replay would send where, for --dry-run.
func printPlan(w io.Writer, path string, cfg replay.Config, plan *replay.Plan) error {
	fmt.Fprintf(w, "%s: %s, %s over %v as recorded\n", path, plural(len(plan.Scripts), "session"), plural(plan.Tasks, "request"), plan.Span.Round(time.Millisecond))
	hosts := make([]string, 0, len(plan.Hosts))
	for h := range plan.Hosts {
		hosts = append(hosts, h)
	}
	sort.Slice(hosts, func(i, j int) bool {
		return plan.Hosts[hosts[i]] > plan.Hosts[hosts[j]] || (plan.Hosts[hosts[i]] == plan.Hosts[hosts[j]] && hosts[i] < hosts[j])
	})
	targets := map[string]string{}
	endpoints := map[string]int{}
	rules := 0
	var kinds ruleKinds
	checks := replay.CheckSummary{Mode: cfg.CheckMode}
	// One session at a time: a plan read on demand holds none of them.
	err := plan.Each(func(sc *replay.Script) error {
		rules += len(sc.Rules)
		for i := range sc.Tasks {
			t := &sc.Tasks[i]
			if t.Target != nil {
				targets[t.Host] = t.Target.Origin + " (" + t.Target.Protocol() + ")"
				endpoints[t.Method+" "+t.Name]++
			}
		}
		kinds.add(sc)
		checks.Add(sc)
		return nil
	})
	if err != nil {
		return describeReadError(path, err)
	}
	fmt.Fprintln(w, "\nhosts (recorded requests → where they go)")
	for _, h := range hosts {
		dest := "skipped: not mapped (--host maps the main host, --map the others)"
		if t, ok := targets[h]; ok {
			dest = t
		}
		fmt.Fprintf(w, "  %-32s %6d  → %s\n", h, plan.Hosts[h], dest)
	}
	names := make([]string, 0, len(endpoints))
	for n := range endpoints {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "\nendpoints (recorded requests)")
	const most = 60 // beyond, the busiest 50 and the rest summed
	shown := names
	if len(names) > most {
		shown = slices.Clone(names)
		sort.SliceStable(shown, func(i, j int) bool { return endpoints[shown[i]] > endpoints[shown[j]] })
		shown = shown[:50]
	}
	rest := plan.Sendable
	for _, n := range shown {
		fmt.Fprintf(w, "  %-48s %6d\n", n, endpoints[n])
		rest -= endpoints[n]
	}
	if len(shown) < len(names) {
		fmt.Fprintf(w, "  … and %d more endpoints, %s\n", len(names)-len(shown), plural(rest, "request"))
	}
	if cfg.NoCorrelate {
		fmt.Fprintln(w, "\ncorrelation off (--no-correlate): recorded tokens and ids are sent as they are")
	} else {
		fmt.Fprintf(w, "\n%d values correlated per user (amp sessions %s --correlations lists every use)\n", rules, path)
		kinds.print(w)
	}
	printChecks(w, checks.Done(cfg))
	fmt.Fprintln(w, "dry run: nothing was sent")
	return nil
}

// printChecks says how the responses will be judged, for --dry-run.
func printChecks(w io.Writer, sum replay.CheckSummary) {
	if sum.Mode == replay.CheckStatus {
		fmt.Fprintln(w, "responses judged by status class only (--checks=status): a 5xx, or a 4xx where the recording had 2xx/3xx")
	} else {
		fmt.Fprintf(w, "%d of %d requests compared with their recording: status; redirect target %d, title %d, form set %d, JSON shape %d\n",
			sum.Compared, sum.Tasks, sum.Redirects, sum.Titles, sum.Forms, sum.JSON)
	}
	for _, ck := range sum.Checks {
		fmt.Fprintf(w, "  --check %-48s on %d requests\n", ck.Expr, ck.Tasks)
	}
}
