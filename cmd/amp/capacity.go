package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/ampload/amp/replay"
	"github.com/ampload/amp/stats"
	"github.com/urfave/cli/v2"
)

// findCapacity runs amp replay --find-capacity: the search, a line per
// step, the run's report and the answer. It exits 0 with an answer, 99 when
// no step met the thresholds.
func findCapacity(c *cli.Context, setup *replaySetup, run *replay.Run) error {
	out := c.App.Writer
	cc := capacityConfig(c, setup)
	var exprs []string
	for _, th := range cc.Thresholds {
		exprs = append(exprs, th.Expr)
	}
	what := "the users"
	if run.Config().ArrivalRate > 0 {
		what = "the arrival rate"
	}
	fmt.Fprintf(out, "finding capacity of %s: steps of %v, doubling %s while %s hold, then narrowing in\n",
		run.Config().Host, cc.Hold, what, strings.Join(exprs, " and "))
	cc.OnStep = func(s replay.CapacityStep) { printCapacityStep(out, s) }
	_, res, err := run.FindCapacity(c.Context, cc)
	if err != nil {
		return usageError("replay: --find-capacity: %s", describeReplay(err))
	}
	printRuleCounts(out, run.Player.RuleCounts())
	return finishCapacity(c, res)
}

// capacityConfig is the search amp replay --find-capacity asks for.
func capacityConfig(c *cli.Context, setup *replaySetup) replay.CapacityConfig {
	cc := replay.CapacityConfig{Thresholds: setup.opts.Thresholds, Start: c.Int("users"), Hold: c.Duration("step-duration")}
	if !c.IsSet("users") {
		cc.Start = 0
	}
	if c.Float64("arrival-rate") == 0 {
		cc.Max = c.Int("max-users")
	}
	return cc
}

// finishCapacity prints the report of a capacity search's run, writes the
// files asked for and gives the answer.
func finishCapacity(c *cli.Context, res *stats.Result) error {
	out := c.App.Writer
	res.Thresholds = nil // each step was judged on its own: the whole run mixes steps that held and failed
	fmt.Fprintln(out)
	if err := stats.NewConsole(out, false).Final(res); err != nil {
		return err
	}
	if err := writeOutputs(out, res, resultFiles(c)); err != nil {
		return fmt.Errorf("replay: %s", err)
	}
	if res.Capacity == nil {
		return &exitError{code: exitThreshold, err: fmt.Errorf("replay: --find-capacity: the search did not run")}
	}
	return capacityVerdict(out, res.Capacity)
}

// printCapacityStep prints one step of the search as it ends.
func printCapacityStep(w io.Writer, s replay.CapacityStep) {
	verdict := "held"
	if !s.Pass {
		verdict = "failed: " + strings.Join(s.Failed, "; ")
	}
	load := fmt.Sprintf("%6d users", s.Users)
	if s.ArrivalRate > 0 {
		load = fmt.Sprintf("%7.2f sessions/s", s.ArrivalRate)
	}
	fmt.Fprintf(w, "  %s  %8.1f req/s  p95 %8.1f ms  %5.2f%% of requests failed  %s\n", load, s.RPS, s.P95MS, 100*s.FailureRate, verdict)
}

// capacityVerdict prints the answer and returns the exit error, if any.
func capacityVerdict(w io.Writer, capa *replay.Capacity) error {
	why := map[string]string{
		"converged": "", "max load": " (it held at the most the search may try: the capacity may be higher)",
		"duration": " (--duration ended the search: the best answer so far)", "stopped": " (stopped: the best answer so far)",
	}[capa.Ended]
	held, failed, unit := float64(capa.Users), float64(capa.FailedAt), "users"
	if capa.ArrivalRate > 0 || capa.FailedAtRate > 0 {
		held, failed, unit = capa.ArrivalRate, capa.FailedAtRate, "sessions a second"
	}
	if held == 0 {
		return &exitError{code: exitThreshold, err: fmt.Errorf("replay: --find-capacity: no step met the thresholds (the least tried, %g %s, failed)%s", failed, unit, why)}
	}
	next := ""
	if failed > 0 {
		next = fmt.Sprintf("; %g %s failed", failed, unit)
	}
	fmt.Fprintf(w, "\nCAPACITY: %g %s, %.1f req/s: the most that met every threshold%s%s\n", held, unit, capa.RPS, next, why)
	return nil
}
