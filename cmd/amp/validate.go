package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ampload/amp/replay"
	"github.com/urfave/cli/v2"
)

// validateFlags are amp replay's flags of the validation pass.
func validateFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "validate", Usage: "only replay each distinct session once as one user, compare every response with its recording, print what it learned and what differs, and exit (99 if a request differs)"},
		&cli.BoolFlag{Name: "no-validate", Usage: "skip the validation pass that runs before the load (see --validate)"},
		&cli.StringFlag{Name: "rules", Usage: "apply the rules a validation pass saved in `FILE` (--save-rules) instead of running the pass"},
		&cli.StringFlag{Name: "save-rules", Usage: "write the rules the validation pass learned to `FILE`, for --rules"},
	}
}

// validPass says what a replay does before the load: apply saved rules,
// run the validation pass, or neither.
type validPass struct {
	only      bool   // --validate: the pass alone
	skip      bool   // --no-validate, --dry-run, --no-correlate
	rulesFrom string // --rules
	saveTo    string // --save-rules
}

func validationOf(c *cli.Context) (validPass, error) {
	v := validPass{only: c.Bool("validate"), skip: c.Bool("no-validate") || c.Bool("dry-run") || c.Bool("no-correlate"),
		rulesFrom: c.String("rules"), saveTo: c.String("save-rules")}
	switch {
	case v.only && c.Bool("no-validate"):
		return v, usageError("replay: --validate and --no-validate contradict each other")
	case v.rulesFrom != "" && v.saveTo != "":
		return v, usageError("replay: --rules applies saved rules and skips the pass; --save-rules saves what a pass learns: give one")
	case v.only && c.Bool("dry-run"):
		return v, usageError("replay: --validate sends requests; --dry-run sends none: give one")
	case v.saveTo != "" && c.Bool("no-validate"):
		return v, usageError("replay: --save-rules saves what the validation pass learns, but --no-validate skips it")
	}
	if v.saveTo != "" {
		if _, err := os.Stat(v.saveTo); err == nil {
			return v, usageError("replay: --save-rules %s: the file exists (remove it, or pick another name)", v.saveTo)
		}
	}
	return v, nil
}

// report says what the preparation of run did: the saved rules it applied,
// or the validation pass it ran (saving its rules with --save-rules).
func (v validPass) report(w io.Writer, run *replay.Run, took time.Duration) error {
	if v.rulesFrom != "" {
		fmt.Fprintf(w, "rules: %s added %s\n", v.rulesFrom, plural(run.Plan.RulesApplied, "rule"))
		return nil
	}
	res := run.Verification
	if res == nil {
		return nil
	}
	printVerification(w, res, took)
	if v.saveTo != "" {
		var b bytes.Buffer
		if err := replay.SaveRules(&b, res.Rules); err != nil {
			return err
		}
		if err := os.WriteFile(v.saveTo, b.Bytes(), 0o600); err != nil {
			return fmt.Errorf("replay: --save-rules: %w", err)
		}
		fmt.Fprintf(w, "rules saved to %s (use them with --rules %s)\n", v.saveTo, v.saveTo)
	}
	return nil
}

// printVerification prints the short table of a validation pass.
func printVerification(w io.Writer, v *replay.Verification, took time.Duration) {
	fmt.Fprintf(w, "validation: %s replayed once (%s) in %v: %s learned, %s differ",
		plural(v.Sessions, "distinct session"), plural(v.Requests, "request"), took.Round(time.Millisecond),
		plural(len(v.Learned), "rule"), plural(len(v.Differs), "request"))
	if len(v.Errors) > 0 {
		fmt.Fprintf(w, ", %s failed", plural(len(v.Errors), "request"))
	}
	if v.Unfinished > 0 {
		fmt.Fprintf(w, ", %s not reached in its time", plural(v.Unfinished, "session"))
	}
	fmt.Fprintln(w, " (--no-validate skips this)")
	for _, l := range v.Learned {
		fmt.Fprintf(w, "  learned  %-14s %q → %q  from #%d: %s  (session %s)\n", l.Rule.Name, abbreviate(l.Rule.Value, 22),
			abbreviate(l.Live, 22), l.Rule.Source.Task+1, l.Rule.Source.Describe(), l.Session)
	}
	for _, d := range v.Differs {
		fmt.Fprintf(w, "  differs  #%d %s %s: %s  (session %s)\n", d.Task+1, d.Method, d.Name, d.Reason, d.Session)
	}
	for _, d := range v.Errors {
		fmt.Fprintf(w, "  failed   #%d %s %s: %s  (session %s; the rest of it was not sent)\n", d.Task+1, d.Method, d.Name, d.Reason, d.Session)
	}
}

// plural says "1 rule", "2 rules".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// printRuleCounts says how the correlation rules fared in a replay: how
// often live responses carried their values, and a warning for each rule
// that never found its value (its requests went out with the recorded one).
func printRuleCounts(w io.Writer, counts []replay.RuleCount) {
	if len(counts) == 0 {
		return
	}
	var found, missed int64
	var never []replay.RuleCount
	for _, c := range counts {
		found, missed = found+c.Found, missed+c.Missed
		if c.Found == 0 {
			never = append(never, c)
		}
	}
	fmt.Fprintf(w, "correlation: %s applied; live values found %d times, missing %d times\n", plural(len(counts), "rule"), found, missed)
	const most = 10
	for i, c := range never {
		if i == most {
			fmt.Fprintf(w, "  … and %d more\n", len(never)-most)
			break
		}
		fmt.Fprintf(w, "  warning: %s %q (session %s, from #%d: %s) was never in the live response (%d times); its requests sent the recorded value\n",
			c.Rule.Name, abbreviate(c.Rule.Value, 22), c.Session, c.Rule.Source.Task+1, c.Rule.Source.Describe(), c.Missed)
	}
}

// ruleKinds groups a plan's rules by name and source, with how many
// sessions have each and how many places it fills: where every value comes
// from, and why that place is trusted. Scripts are added one at a time.
type ruleKinds struct {
	order  []string
	groups map[string]*ruleKind
}

type ruleKind struct {
	name, source, from string
	sessions, uses     int
}

// add counts the rules of sc.
func (rk *ruleKinds) add(sc *replay.Script) {
	if rk.groups == nil {
		rk.groups = map[string]*ruleKind{}
	}
	seen := map[string]bool{}
	for _, r := range sc.Rules {
		from := ""
		if t := r.Source.Task; t >= 0 && t < len(sc.Tasks) {
			from = "from " + sc.Tasks[t].Method + " " + sc.Tasks[t].Name + ": "
		}
		k := r.Name + "\x00" + from + r.Source.Describe()
		g := rk.groups[k]
		if g == nil {
			g = &ruleKind{name: r.Name, source: r.Source.Describe(), from: from}
			rk.groups[k] = g
			rk.order = append(rk.order, k)
		}
		if !seen[k] {
			g.sessions++
			seen[k] = true
		}
		g.uses += len(r.Uses)
	}
}

// print lists the groups, the first 40 of them.
func (rk *ruleKinds) print(w io.Writer) {
	const most = 40
	for i, k := range rk.order {
		if i == most {
			fmt.Fprintf(w, "  … and %d more\n", len(rk.order)-most)
			break
		}
		g := rk.groups[k]
		fmt.Fprintf(w, "  %-22s %s%s  (%s, %s)\n", abbreviate(g.name, 22), g.from, g.source, plural(g.sessions, "session"), plural(g.uses, "use"))
	}
}
