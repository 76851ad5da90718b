package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/replay"
	"github.com/ampload/amp/stats"
	"github.com/urfave/cli/v2"
)

func replayCommand() *cli.Command {
	def := replay.DefaultConfig()
	return &cli.Command{
		Name:      "replay",
		Usage:     "replay a recording as many concurrent simulated users",
		ArgsUsage: "REC.amp|URL",
		UsageText: "amp replay REC.amp --host URL [--users N --rate R] [--duration D | --iterations K] [flags]\n\n" +
			"   amp replay shop.amp --host http://127.0.0.1:5000 --users 1000 --rate 50 --duration 5m\n" +
			"   amp replay shop.amp --host http://127.0.0.1:5000 --timeline --multiple 3 --speed 2\n" +
			"   amp replay shop.amp --host https://staging.shop --map cdn.shop=https://cdn.staging \\\n" +
			"       --users 200 --iterations 1000 --fail-if 'p(95)<500' --fail-if 'rate<0.01' --json result.json",
		Description: "Closed model (default): --users users start at --rate per second; each replays a recorded\n" +
			"session's tasks in order with the recorded think time (--think, --speed), then the next session.\n" +
			"Open model (--timeline): every recorded session starts at its recorded offset ÷ --speed,\n" +
			"--multiple copies of it; latency counts from each task's intended start.\n\n" +
			"Each user has its own cookies and keep-alive connection, and values the server generated\n" +
			"(CSRF tokens, ids) are correlated automatically (see amp sessions --correlations).\n" +
			"Only mapped hosts get traffic: --host maps the recording's main host, --map the others;\n" +
			"requests to other hosts are skipped and counted. Ctrl-C stops gracefully, twice at once.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "host", Usage: "URL the recording's main host is replayed against (required)"},
			&cli.StringSliceFlag{Name: "map", Usage: "map another recorded host: OLDHOST=URL (repeatable)"},
			&cli.BoolFlag{Name: "insecure", Usage: "skip TLS certificate verification of https targets"},
			&cli.IntFlag{Name: "users", Aliases: []string{"u"}, Value: def.Users, Usage: "concurrent simulated users (closed model)"},
			&cli.Float64Flag{Name: "rate", Aliases: []string{"r"}, Value: def.Rate, Usage: "users started per second"},
			&cli.DurationFlag{Name: "duration", Aliases: []string{"d"}, Usage: "run time (default: until the iterations or the timeline end, or Ctrl-C)"},
			&cli.IntFlag{Name: "iterations", Usage: "stop after this many sessions in all (closed model)"},
			&cli.StringFlag{Name: "think", Value: "recorded", Usage: "pause between tasks: recorded, none or a duration"},
			&cli.Float64Flag{Name: "speed", Value: 1, Usage: "divide recorded pauses and offsets by this factor"},
			&cli.BoolFlag{Name: "timeline", Usage: "open model: start sessions at their recorded offsets"},
			&cli.Float64Flag{Name: "multiple", Value: 1, Usage: "copies of each recorded session on the timeline (2.5 = 250 %)"},
			&cli.BoolFlag{Name: "loop", Usage: "repeat the timeline until --duration"},
			&cli.DurationFlag{Name: "timeout", Value: def.Timeout, Usage: "bound of one request"},
			&cli.DurationFlag{Name: "stop-timeout", Value: def.StopTimeout, Usage: "time in-flight requests get to finish at the end"},
			&cli.BoolFlag{Name: "no-correlate", Usage: "send recorded tokens and ids as they are"},
			&cli.StringSliceFlag{Name: "name", Usage: "endpoint naming rule REGEX=NAME, tried before the automatic templates (repeatable)"},
			&cli.StringSliceFlag{Name: "fail-if", Usage: "threshold in k6's grammar, e.g. 'p(95)<500', 'rate<0.01', 'GET /x: p(99)<800' (repeatable); exit 99 if one fails"},
			&cli.BoolFlag{Name: "abort-on-fail", Usage: "stop the run as soon as a --fail-if threshold fails"},
			&cli.StringFlag{Name: "json", Usage: "write the full result as JSON to this file"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no live statistics, only the final report"},
		},
		Action: runReplay,
	}
}

// replayConfig turns the flags into a replay.Config.
func replayConfig(c *cli.Context) (replay.Config, error) {
	cfg := replay.DefaultConfig()
	cfg.Host = c.String("host")
	cfg.Map = c.StringSlice("map")
	cfg.Insecure = c.Bool("insecure")
	cfg.Users = c.Int("users")
	cfg.Rate = c.Float64("rate")
	cfg.Duration = c.Duration("duration")
	cfg.Iterations = c.Int("iterations")
	cfg.Speed = c.Float64("speed")
	cfg.Timeline = c.Bool("timeline")
	cfg.Multiple = c.Float64("multiple")
	cfg.Loop = c.Bool("loop")
	cfg.Timeout = c.Duration("timeout")
	cfg.StopTimeout = c.Duration("stop-timeout")
	cfg.NoCorrelate = c.Bool("no-correlate")
	var err error
	if cfg.Think, cfg.ThinkTime, err = replay.ParseThink(c.String("think")); err != nil {
		return cfg, err
	}
	if cfg.Loop && cfg.Duration == 0 {
		return cfg, errors.New("--loop needs --duration (or stop it with Ctrl-C)")
	}
	return cfg, cfg.Validate()
}

func runReplay(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError("replay: want one recording file, got %d arguments (run 'amp replay --help')", c.NArg())
	}
	cfg, err := replayConfig(c)
	if err != nil {
		return usageError("replay: %s", oneLine(err))
	}
	namer, err := stats.NewNamer(c.StringSlice("name"))
	if err != nil {
		return usageError("replay: --name: %v", err)
	}
	var ths []stats.Threshold
	for _, expr := range c.StringSlice("fail-if") {
		th, err := stats.ParseThreshold(expr)
		if err != nil {
			return usageError("replay: --fail-if: %v", err)
		}
		ths = append(ths, th)
	}

	path := c.Args().First()
	rec, err := loadRecording(c.Context, path)
	if err != nil {
		if rec == nil || errors.Is(err, capture.ErrCorrupt) {
			return describeReadError(path, err)
		}
		fmt.Fprintf(c.App.ErrWriter, "amp: warning: %s; replaying the %d whole records before it\n", readErrorText(path, err), rec.Exchanges())
	}
	plan, err := replay.NewPlan(rec, cfg, namer.Name)
	if err != nil {
		return usageError("replay: %s: %v", path, err)
	}
	col := stats.NewCollector(stats.Config{})
	col.SetConfig(resultConfig(path, cfg, plan))
	player, err := replay.NewPlayer(plan, cfg, col)
	if err != nil {
		return usageError("replay: %v", err)
	}
	out := c.App.Writer
	fmt.Fprintf(out, "replaying %s: %d sessions, %d requests (%d to mapped hosts); %s → %s\n",
		path, len(plan.Scripts), plan.Tasks, plan.Sendable, plan.MainHost, cfg.Host)
	if cfg.Duration == 0 && cfg.Iterations == 0 && !cfg.Timeline {
		fmt.Fprintln(out, "running until Ctrl-C (set --duration or --iterations to stop by itself)")
	}

	res := play(c.Context, player, col, cfg, ths, c.Bool("abort-on-fail"), c.Bool("quiet"), out, c.App.ErrWriter)
	results := res.CheckThresholds(ths)
	res.Thresholds = results
	printSummary(out, res, plan)
	if p := c.String("json"); p != "" {
		if err := res.WriteJSONFile(p); err != nil {
			return fmt.Errorf("replay: --json %s: %w", p, err)
		}
		fmt.Fprintf(out, "result written to %s\n", p)
	}
	if failed := res.ThresholdsFailed(); len(failed) > 0 {
		var names []string
		for _, f := range failed {
			names = append(names, f.Expr)
		}
		return &exitError{code: exitThreshold, err: fmt.Errorf("replay: %d threshold(s) failed: %s", len(failed), strings.Join(names, ", "))}
	}
	return nil
}

// play runs the player until it ends, showing live statistics, handling a
// second Ctrl-C and --abort-on-fail, and returns the final result.
func play(ctx context.Context, p *replay.Player, col *stats.Collector, cfg replay.Config, ths []stats.Threshold,
	abortOnFail, quiet bool, out, errw io.Writer) *stats.Result {
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-done:
			return
		}
		fmt.Fprintf(errw, "\namp: stopping: in-flight requests get %v to finish (Ctrl-C again stops at once)\n", cfg.StopTimeout)
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(sig)
		select {
		case <-sig:
			p.Kill()
		case <-done:
		}
	}()
	go func() {
		tick := time.NewTicker(2 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			res := col.Snapshot()
			if abortOnFail && len(ths) > 0 {
				if failed := failedNow(res, ths); len(failed) > 0 {
					fmt.Fprintf(errw, "amp: --abort-on-fail: %s failed, stopping\n", failed)
					p.Stop()
				}
			}
			if !quiet {
				st := p.Status()
				fmt.Fprintf(out, "%s  users %d  requests %d  failures %d  %.1f req/s  p95 %.1f ms\n",
					st.Elapsed.Truncate(time.Second), st.Users, res.Requests, res.Failures, res.RPS, res.Latency.P95)
			}
		}
	}()
	_ = p.Run(ctx)
	close(done)
	return col.Snapshot()
}

// failedNow names the thresholds that fail on a live result.
func failedNow(res *stats.Result, ths []stats.Threshold) string {
	var names []string
	for _, r := range res.CheckThresholds(ths) {
		if !r.Pass {
			names = append(names, r.Expr)
		}
	}
	return strings.Join(names, ", ")
}

// resultConfig is the run's configuration as stored in the result.
func resultConfig(path string, cfg replay.Config, plan *replay.Plan) map[string]any {
	m := map[string]any{
		"recording": path, "host": cfg.Host, "main_host": plan.MainHost,
		"users": cfg.Users, "rate": cfg.Rate, "duration": cfg.Duration.String(),
		"iterations": cfg.Iterations, "speed": cfg.Speed, "correlate": !cfg.NoCorrelate,
	}
	if cfg.Timeline {
		m["model"] = "timeline"
		m["multiple"] = cfg.Multiple
		m["loop"] = cfg.Loop
	} else {
		m["model"] = "closed"
	}
	if len(cfg.Map) > 0 {
		m["map"] = cfg.Map
	}
	return m
}

// printSummary prints the end-of-run report.
func printSummary(w io.Writer, res *stats.Result, plan *replay.Plan) {
	fmt.Fprintf(w, "\n%d requests, %d failures (%.2f %%), %.1f req/s over %.1f s, peak %d users\n",
		res.Requests, res.Failures, 100*res.FailureRate, res.RPS, res.DurationS, res.Users)
	fmt.Fprintf(w, "latency ms: p50 %.1f  p95 %.1f  p99 %.1f  max %.1f\n",
		res.Latency.P50, res.Latency.P95, res.Latency.P99, res.Latency.Max)
	for _, ep := range res.Endpoints {
		fmt.Fprintf(w, "  %-6s %-40s %7d req %5d fail  p50 %7.1f  p95 %7.1f ms\n",
			ep.Method, ep.Name, ep.Requests, ep.Failures, ep.Latency.P50, ep.Latency.P95)
	}
	for _, e := range res.Errors {
		fmt.Fprintf(w, "  failure: %s %s: %s ×%d\n", e.Method, e.Name, e.Reason, e.Count)
	}
	for reason, n := range res.Skipped {
		fmt.Fprintf(w, "  skipped: %s ×%d\n", reason, n)
	}
	for _, th := range res.Thresholds {
		mark := "✓"
		if !th.Pass {
			mark = "✗"
		}
		fmt.Fprintf(w, "  %s %s\n", mark, th.Expr)
	}
	_ = plan
}
