package main

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/ampload/amp/internal/outfile"
	"github.com/ampload/amp/stats"
	"github.com/urfave/cli/v2"
)

func reportCommand() *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "re-render a result (console, CSV, HTML, JSON), merge results, or compare two runs",
		ArgsUsage: "RESULT.json [NEW.json]",
		UsageText: "amp report RESULT.json [--csv PREFIX] [--html FILE] [--json FILE] [--junit FILE] [--summary FILE] [--fail-if EXPR]...\n" +
			"   amp report BASELINE.json NEW.json [--fail-if EXPR]... [--fail-on-regression]\n" +
			"   amp report merge PART.json... -o ALL.json [--html FILE] [--csv PREFIX]   (or --merge)\n" +
			"   amp report watch URL|FILE... [--interval 2s]   (a sharded run's /metrics, live and merged)\n\n" +
			"   amp report result.json                        # the end-of-run tables again\n" +
			"   amp report result.json --html report.html     # one self-contained HTML file with charts\n" +
			"   amp report result.json --csv out/run          # Locust's four CSV files\n" +
			"   amp report result.json --fail-if 'p(95)<500'  # exit 99 when a threshold fails\n" +
			"   amp report result.json --fail-if 'p(95)<500' --junit junit.xml --summary \"$GITHUB_STEP_SUMMARY\"   # for CI\n" +
			"   amp report monday.json tuesday.json           # p50/p95/p99 and failures, per endpoint\n" +
			"   amp report merge shard-0.json shard-1.json shard-2.json -o all.json   # one run from several processes",
		Description: "RESULT.json is what 'amp replay --json' writes. With one file, report prints the end-of-run\n" +
			"report and writes the files asked for. With two, it compares the second run with the first\n" +
			"(the baseline): a change counts when it is over 10% (p99: 20%) and 1 ms, or over half a\n" +
			"percentage point of failures. --merge adds up results of the same run recorded by several\n" +
			"processes (exactly: histograms, counts and the per-second series); it refuses a part given\n" +
			"twice and, unless --force, results of different runs (run ids) or recordings.\n\n" +
			"Exit codes: 0 ok, 1 bad usage or input, 99 a --fail-if threshold failed (or, with\n" +
			"--fail-on-regression, the new run regressed).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "csv", Usage: "write Locust's four CSV files `PREFIX`_stats.csv, _stats_history.csv, _failures.csv and _exceptions.csv"},
			&cli.StringFlag{Name: "html", Usage: "write a self-contained HTML report to `FILE`"},
			&cli.StringFlag{Name: "bands", Usage: "the HTML report's latency bands, `LIMITS` such as 800ms,1200ms (default: the --fail-if latency limits, else 800ms,1200ms)"},
			&cli.StringFlag{Name: "json", Aliases: []string{"o"}, Usage: "write the result (with the thresholds' verdicts) to `FILE`"},
			&cli.StringFlag{Name: "junit", Usage: "write JUnit XML to `FILE`: a test case per threshold and per failed --check or kind of difference from the recording"},
			&cli.StringFlag{Name: "summary", Usage: "append a Markdown summary (verdict, thresholds, top endpoints and failures) to `FILE`, e.g. \"$GITHUB_STEP_SUMMARY\""},
			&cli.GenericFlag{Name: "fail-if", Value: &multiFlag{}, Usage: "`EXPR`: a threshold in k6's grammar, e.g. 'p(95)<500', 'rate<0.01', 'GET /x: p(99)<800' (repeatable); exit 99 if one fails"},
			&cli.BoolFlag{Name: "fail-on-regression", Usage: "comparing two results: exit 99 when the new one is worse"},
			&cli.BoolFlag{Name: "merge", Usage: "merge the results given (processes of one run) into one before rendering"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print no report, only the files written and errors"},
			&cli.BoolFlag{Name: "force", Usage: "merging: take results of different runs or recordings together"},
		},
		Subcommands: []*cli.Command{watchCommand()},
		Action:      runReport,
	}
}

func runReport(c *cli.Context) error {
	args, merge, compare, err := reportArgs(c)
	if err != nil {
		return err
	}
	ths, err := failIf(c)
	if err != nil {
		return err
	}
	if err := checkOutputs("report", args, resultFiles(c)); err != nil {
		return err
	}
	var results []*stats.Result
	for _, path := range args {
		r, err := stats.ReadResult(path)
		if err != nil {
			return &exitError{code: exitBadInput, err: fmt.Errorf("report: %s", resultErrorText(path, err))}
		}
		results = append(results, r)
	}
	if compare {
		return compareResults(c, args, results, ths)
	}
	res := results[0]
	if merge {
		if a, b, dup := outfile.Duplicate(args); dup {
			return usageError("report: merge: %s and %s are the same result: give each part once", a, b)
		}
		if err := stats.CheckMerge(results, args, c.Bool("force")); err != nil {
			return usageError("report: merge: %v", err)
		}
		if res, err = stats.Merge(results...); err != nil {
			return &exitError{code: exitBadInput, err: fmt.Errorf("report: --merge: %v", err)}
		}
	}
	if len(ths) > 0 {
		res.CheckThresholds(ths)
	}
	if !c.Bool("quiet") {
		console := stats.NewConsole(c.App.Writer, false)
		console.SetWidth(termColumns(c.App.Writer))
		if err := console.Final(res); err != nil {
			return err
		}
	}
	if err := writeOutputs(c.App.Writer, res, resultFiles(c)); err != nil {
		return &exitError{code: exitBadInput, err: fmt.Errorf("report: %w", err)}
	}
	return thresholdError("report", res)
}

// reportArgs reads amp report's files and mode ("amp report merge a.json
// b.json" or --merge; two files compare), refusing flags the mode ignores.
func reportArgs(c *cli.Context) (args []string, merge, compare bool, err error) {
	args, merge = c.Args().Slice(), c.Bool("merge")
	if len(args) > 0 && args[0] == "merge" {
		merge, args = true, args[1:]
	}
	switch {
	case len(args) == 0:
		return nil, false, false, usageError("report: want a result file (or two to compare), got 0 arguments (run 'amp report --help')")
	case len(args) > 2 && !merge:
		return nil, false, false, usageError("report: want one result, or two to compare, got %d files (use --merge to add up the parts of one run)", len(args))
	}
	compare = len(args) == 2 && !merge
	if compare {
		for _, f := range []string{"csv", "html", "bands", "json", "junit", "summary"} {
			if c.IsSet(f) {
				return nil, false, false, usageError("report: --%s renders one result; comparing two writes no files (render each, or use --merge)", f)
			}
		}
	} else if c.Bool("fail-on-regression") {
		return nil, false, false, usageError("report: --fail-on-regression needs two results to compare")
	}
	if c.IsSet("force") && !merge {
		return nil, false, false, usageError("report: --force is for merging results (amp report merge ...)")
	}
	return args, merge, compare, nil
}

// compareResults prints how the second result differs from the first and
// judges the second's thresholds and, with --fail-on-regression, the change.
func compareResults(c *cli.Context, args []string, results []*stats.Result, ths []stats.Threshold) error {
	quiet := c.Bool("quiet")
	cmp := stats.Compare(results[0], results[1])
	if !quiet {
		if err := cmp.WriteText(c.App.Writer, args[0], args[1]); err != nil {
			return err
		}
	}
	if err := checkThresholds(c, results[1], ths, quiet); err != nil {
		return err
	}
	if c.Bool("fail-on-regression") && cmp.Regressed {
		return &exitError{code: exitThreshold, err: fmt.Errorf("report: %s regressed against %s: %s", args[1], args[0], cmp.Verdict)}
	}
	return nil
}

// checkThresholds evaluates ths on r, prints the verdicts, and returns the
// exit-99 error when one failed.
func checkThresholds(c *cli.Context, r *stats.Result, ths []stats.Threshold, quiet bool) error {
	if len(ths) == 0 {
		return nil
	}
	r.CheckThresholds(ths)
	if !quiet {
		fmt.Fprintln(c.App.Writer, "\nThresholds (new run)")
		for _, t := range r.Thresholds {
			mark := "  ok    "
			if !t.Pass {
				mark = "  FAIL  "
			}
			fmt.Fprintf(c.App.Writer, "%s%s\n", mark, t.Message)
		}
	}
	return thresholdError("report", r)
}

// thresholdError is the exit-99 error of command cmd naming the failed
// thresholds of r and by how much each missed, or nil.
func thresholdError(cmd string, r *stats.Result) error {
	failed := r.ThresholdsFailed()
	if len(failed) == 0 {
		return nil
	}
	var msgs []string
	for _, t := range failed {
		msgs = append(msgs, t.Message)
	}
	return &exitError{code: exitThreshold, err: fmt.Errorf("%s: %d of %d thresholds failed: %s",
		cmd, len(failed), len(r.Thresholds), strings.Join(msgs, "; "))}
}

// resultErrorText turns a result read error into one line naming the file.
func resultErrorText(path string, err error) string {
	if errors.Is(err, fs.ErrNotExist) {
		return path + ": no such file"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Sprintf("%s: %v", path, pe.Err)
	}
	return err.Error() // ReadResult's errors start with the path
}
