package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/ampload/amp/replay"
	"github.com/ampload/amp/stats"
	"github.com/urfave/cli/v2"
)

// suggest returns the candidate closest to typo (case-insensitive edit
// distance at most a third of its length, or a unique prefix), or "".
func suggest(typo string, candidates []string) string {
	best, bestD := "", 1<<30
	t := strings.ToLower(typo)
	for _, c := range candidates {
		lc := strings.ToLower(c)
		d := editDistance(t, lc)
		if len(t) >= 3 && strings.HasPrefix(lc, t) {
			d = min(d, 1)
		}
		if d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" || bestD > max(1, len(best)/3) {
		return ""
	}
	return best
}

// editDistance is the edit distance of a and b (bytes) where swapping two
// neighbours counts as one edit, as a typo does ("usres" for "users").
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// flagNames lists the names of flags.
func flagNames(flags []cli.Flag) []string {
	var out []string
	for _, f := range flags {
		out = append(out, f.Names()...)
	}
	return out
}

// didYouMeanFlag returns " (did you mean --x?)" for an unknown-flag error of
// a command with flags, or "".
func didYouMeanFlag(err error, flags []cli.Flag) string {
	const prefix = "flag provided but not defined: "
	msg := err.Error()
	i := strings.Index(msg, prefix)
	if i < 0 {
		return ""
	}
	typo := strings.TrimLeft(msg[i+len(prefix):], "-")
	if s := suggest(typo, append(flagNames(flags), "help")); s != "" {
		dash := "--"
		if len(s) == 1 {
			dash = "-"
		}
		return fmt.Sprintf(" (did you mean %s%s?)", dash, s)
	}
	return ""
}

// didYouMeanCommand returns " (did you mean 'amp x'?)" for a mistyped
// command name, or "".
func didYouMeanCommand(typo string, cmds []*cli.Command) string {
	var names []string
	for _, c := range cmds {
		names = append(names, c.Names()...)
	}
	if s := suggest(typo, names); s != "" {
		return fmt.Sprintf(" (did you mean 'amp %s'?)", s)
	}
	return ""
}

// isNumber reports whether s is a bare decimal number ("5", "1.5").
func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil && s != "" && strings.Trim(s, "0123456789.") == ""
}

// durationFlag reports whether the named flag is a duration flag.
func durationFlag(flags []cli.Flag, name string) bool {
	for _, f := range flags {
		if _, ok := f.(*cli.DurationFlag); ok {
			for _, n := range f.Names() {
				if n == name {
					return true
				}
			}
		}
	}
	return false
}

// secondsValue turns a bare number given to a duration flag into seconds
// ("5" → "5s"); other values are left for the flag to parse.
func secondsValue(flags []cli.Flag, name, v string) string {
	if isNumber(v) && durationFlag(flags, name) {
		return v + "s"
	}
	return v
}

// optionalValue reports whether the named flag may stand alone or take a
// value (--web), and whether v, the next argument, is such a value.
func optionalValue(flags []cli.Flag, name, v string) bool {
	for _, f := range flags {
		g, ok := f.(*cli.GenericFlag)
		if !ok {
			continue
		}
		if _, ok := g.Value.(*optionalAddr); !ok {
			continue
		}
		for _, n := range f.Names() {
			if n == name {
				if strings.Contains(v, "://") || strings.HasSuffix(v, ".amp") {
					return false
				}
				_, port, err := net.SplitHostPort(v)
				return err == nil && port != ""
			}
		}
	}
	return false
}

// checkReplayFlags refuses flags that would have no effect in the mode
// chosen, so that a mistaken command line is not silently a different test.
func checkReplayFlags(c *cli.Context, cfg replay.Config) error {
	set := c.IsSet
	type rule struct {
		bad  bool
		flag string
		why  string
	}
	web := set("web")
	thinkFixed := cfg.Think.Mode != replay.ThinkRecorded
	rules := []rule{
		{set("multiple") && !cfg.Timeline, "--multiple", "copies sessions on the timeline: add --timeline"},
		{set("autostart") && !web, "--autostart", "starts the web UI's replay: add --web"},
		{set("web-token") && !web, "--web-token", "protects the web UI: add --web"},
		{set("abort-on-fail") && !set("fail-if"), "--abort-on-fail", "stops when a --fail-if threshold fails: add --fail-if"},
		{set("step-duration") && !set("find-capacity"), "--step-duration", "sets the steps of a capacity search: add --find-capacity"},
		{set("find-capacity") && (cfg.Timeline || len(cfg.Stages) > 0), "--find-capacity", "steps the users, or the arrival rate: drop --timeline and --stages"},
		{set("find-capacity") && (set("abort-on-fail") || set("iterations")), "--find-capacity", "runs its own steps and judges each: drop --abort-on-fail and --iterations"},
		{set("find-capacity") && set("dry-run"), "--dry-run", "sends nothing: drop --find-capacity"},
		{set("find-capacity") && (set("print-result") || set("junit") || set("summary")), "--find-capacity", "answers with its steps (in --json, --html and the console): drop --print-result, --junit and --summary"},
		{set("no-default-thresholds") && set("fail-if"), "--no-default-thresholds", "--fail-if already replaces the default thresholds"},
		{len(cfg.Stages) > 0 && (set("users") || set("rate")), "--stages", "sets the users over time: drop --users and --rate"},
		{cfg.ArrivalRate > 0 && (set("users") || set("rate")), "--arrival-rate", "starts sessions at a rate, each as a new user: drop --users and --rate (--max-users caps the users)"},
		{set("max-think") && (thinkFixed || cfg.Timeline), "--max-think", "caps recorded pauses: it needs --think recorded in the closed model"},
		{set("speed") && thinkFixed && !cfg.Timeline, "--speed", "divides recorded pauses and offsets: with --think " + c.String("think") + " there are none"},
		{set("dry-run") && web, "--dry-run", "sends nothing: drop --web"},
		{set("quiet") && web, "--quiet", "applies to the console: the web UI shows the statistics"},
		{set("insecure") && !hasHTTPS(cfg), "--insecure", "skips TLS verification, but no --host or --map target is https"},
		{set("http1") && !hasHTTPS(cfg), "--http1", "turns off h2 to https targets, but no --host or --map target is https"},
		{set("h2c") && !hasHTTP(cfg), "--h2c", "speaks cleartext HTTP/2 to http targets, but every --host and --map target is https"},
	}
	for _, f := range []string{"json", "csv", "html", "bands", "junit", "summary", "metrics", "fail-if", "print-result"} {
		rules = append(rules, rule{set("dry-run") && set(f), "--dry-run", "sends nothing, so --" + f + " would have nothing to show"})
	}
	for _, r := range rules {
		if r.bad {
			return usageError("replay: %s has no effect here: it %s", r.flag, r.why)
		}
	}
	return nil
}

// hasHTTPS reports whether a target of cfg is https.
func hasHTTPS(cfg replay.Config) bool {
	if strings.HasPrefix(strings.ToLower(cfg.Host), "https://") {
		return true
	}
	for _, m := range cfg.Map {
		if strings.HasPrefix(strings.ToLower(m.To), "https://") {
			return true
		}
	}
	return false
}

// hasHTTP reports whether a target of cfg is not https.
func hasHTTP(cfg replay.Config) bool {
	if !strings.HasPrefix(strings.ToLower(cfg.Host), "https://") {
		return true
	}
	for _, m := range cfg.Map {
		if !strings.HasPrefix(strings.ToLower(m.To), "https://") {
			return true
		}
	}
	return false
}

// checkThresholdScopes refuses thresholds scoped to an endpoint the plan
// does not send, before the run rather than as a failure after it.
func checkThresholdScopes(ths []stats.Threshold, plan *replay.Plan) error {
	labels, complete := plan.EndpointLabels()
	if !complete {
		return nil // a recording of too many endpoints to know them all before it runs
	}
	for _, th := range ths {
		if th.HasEndpoint(labels) {
			continue
		}
		scope := th.Name
		if th.Method != "" {
			scope = th.Method + " " + th.Name
		}
		hint := ""
		var names []string
		for _, l := range labels {
			_, n, _ := strings.Cut(l, " ")
			names = append(names, n, l)
		}
		if s := suggest(scope, names); s != "" {
			hint = fmt.Sprintf(" (did you mean %q?)", s)
		}
		return usageError("replay: --fail-if %q: the replay sends no endpoint %q%s; 'amp replay --dry-run' lists them", th.Expr, scope, hint)
	}
	return nil
}

// judgeDefaults applies the default thresholds to a run given none: it
// fails (exit 99) when nothing finished or 5 % or more failed, unless
// --no-default-thresholds.
func judgeDefaults(c *cli.Context, res *stats.Result, ths []stats.Threshold) error {
	if len(ths) > 0 || c.Bool("no-default-thresholds") {
		return nil
	}
	var failed []string
	for _, th := range stats.DefaultThresholds() {
		if v := res.Check(th); !v.Pass {
			failed = append(failed, v.Message)
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return &exitError{code: exitThreshold, err: fmt.Errorf("replay: the run failed the default thresholds (%s); "+
		"set your own with --fail-if, or --no-default-thresholds to exit 0 whatever happens", strings.Join(failed, "; "))}
}

// warnUnmatchedMaps warns of --map rules for hosts the recording lacks.
func warnUnmatchedMaps(c *cli.Context, cfg replay.Config, plan *replay.Plan) {
	for _, m := range replay.UnmatchedMaps(plan, cfg.Map) {
		hosts := make([]string, 0, len(plan.Hosts))
		for h := range plan.Hosts {
			hosts = append(hosts, h)
		}
		sort.Strings(hosts)
		if len(hosts) > 5 {
			hosts = append(hosts[:5], "...")
		}
		fmt.Fprintf(c.App.ErrWriter, "amp: warning: --map %s matches no recorded host (the recording has %s)\n", m, strings.Join(hosts, ", "))
	}
}

// check does what can be checked before a run on its plan (nil: make
// one): endpoint thresholds name endpoints the replay sends, and --map rules
// match a recorded host (a warning).
func (s *replaySetup) check(c *cli.Context, cfg replay.Config, plan *replay.Plan) error {
	if plan == nil {
		var err error
		if s.file != nil {
			plan, err = replay.OpenPlan(s.file, s.facts, cfg, s.opts.Name)
		} else {
			plan, err = replay.NewPlan(s.rec, cfg, s.opts.Name)
		}
		if err != nil {
			return usageError("replay: %s: %s", s.path, describeReplay(err))
		}
	}
	s.checked = true
	warnUnmatchedMaps(c, cfg, plan)
	return checkThresholdScopes(s.opts.Thresholds, plan)
}

// webToken returns the token the web UI on addr requires: --web-token, or,
// on an address other machines can reach, a random one (printed with the
// URL); "" on loopback without --web-token.
func webToken(c *cli.Context, addr string) (string, error) {
	if t := c.String("web-token"); c.IsSet("web-token") {
		if len(t) < 8 || strings.ContainsAny(t, " \t\r\n&#?/") {
			return "", usageError("replay: --web-token: want at least 8 characters, without spaces or & # ? /")
		}
		return t, nil
	}
	if host, _, _ := net.SplitHostPort(addr); isLoopback(host) {
		return "", nil
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	fmt.Fprintf(c.App.ErrWriter, "amp: the web UI on %s is reachable from other machines: it requires the token in the URL below (or --web-token)\n", addr)
	return hex.EncodeToString(b), nil
}
