package stats

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Threshold is a pass/fail criterion in k6's grammar, optionally scoped to
// an endpoint:
//
//	[SCOPE:] AGGREGATION OPERATOR VALUE
//
//	AGGREGATION  avg | min | max | med | p(N)   latency in ms (from the intended start)
//	             rate                           failure rate, 0..1 (or VALUE with %)
//	             rps                            requests per second
//	             count | failures               number of requests | of failures
//	             differs                        failures that differ from the recording
//	                                            (reason "differs: ...")
//	             failed_checks                  failures of explicit checks
//	                                            (reason "check ... failed")
//	OPERATOR     < | <= | > | >= | == | === | !=
//	VALUE        a number; latencies also take ms or s ("1.5s"), rates a % ("1%")
//	SCOPE        "METHOD NAME" (GET /articles/{id}) or "NAME" (all methods); k6's
//	             metric names http_req_duration, http_req_failed, http_reqs mean
//	             the whole run
//
// Examples: "p(95)<500", "avg<200", "rate<0.01", "rps>100", "differs==0",
// "GET /articles/{id}: p(99)<800".
type Threshold struct {
	Expr   string  // as given
	Method string  // scope method; "" = any
	Name   string  // scope endpoint name; "" = the whole run
	Agg    string  // avg, min, max, med, p, rate, rps, count, failures, differs, failed_checks
	P      float64 // the percentile of Agg "p"
	Op     string  // <, <=, >, >=, ==, !=
	Value  float64 // the limit, in ms for latencies
}

// ThresholdResult is the verdict of one threshold on a result.
type ThresholdResult struct {
	Expr     string  `json:"expr"`
	Pass     bool    `json:"pass"`
	Observed float64 `json:"observed"`
	Limit    float64 `json:"limit"`
	Unit     string  `json:"unit,omitempty"` // ms, req/s, or "" for rates and counts
	Over     float64 `json:"over"`           // by how much a failed threshold missed its limit, in Unit
	Message  string  `json:"message"`        // one line, e.g. "p(95)<500: 612 ms, 112 ms over the limit (+22%)"
}

// isAggregation reports the aggregation names a threshold may use.
func isAggregation(name string) bool {
	switch name {
	case "avg", "min", "max", "med", "p", "rate", "rps", "count", "failures", "differs", "failed_checks":
		return true
	}
	return false
}

// isK6Metric reports k6's metric names, accepted as a scope meaning the
// whole run.
func isK6Metric(name string) bool {
	switch name {
	case "http_req_duration", "http_req_failed", "http_reqs":
		return true
	}
	return false
}

// ParseThreshold parses one threshold expression. Its errors are one line
// that names the expression, ready to print.
func ParseThreshold(expr string) (Threshold, error) {
	th := Threshold{Expr: expr}
	fail := func(format string, args ...any) (Threshold, error) {
		return Threshold{}, fmt.Errorf("invalid threshold %q: %s", expr, fmt.Sprintf(format, args...))
	}
	body := strings.TrimSpace(expr)
	if body == "" {
		return fail("empty expression; want e.g. 'p(95)<500' or 'GET /articles/{id}: p(99)<800'")
	}
	if i := strings.LastIndex(body, ":"); i >= 0 {
		scope := strings.TrimSpace(body[:i])
		body = strings.TrimSpace(body[i+1:])
		if scope == "" {
			return fail("nothing before ':'; want an endpoint such as 'GET /articles/{id}: p(99)<800'")
		}
		if !isK6Metric(scope) {
			th.Name = scope
			if m, rest, ok := strings.Cut(scope, " "); ok && isMethod(m) {
				th.Method, th.Name = m, strings.TrimSpace(rest)
			}
		}
	}
	// aggregation
	rest := body
	switch {
	case strings.HasPrefix(rest, "p("):
		end := strings.IndexByte(rest, ')')
		if end < 0 {
			return fail("missing ')' after %q", rest)
		}
		p, err := strconv.ParseFloat(strings.TrimSpace(rest[2:end]), 64)
		if err != nil || math.IsNaN(p) {
			return fail("%q is not a percentile; want p(N) with N in 0..100, e.g. p(95)", rest[:end+1])
		}
		if p < 0 || p > 100 {
			return fail("percentile %s is outside 0..100", pctName(p))
		}
		th.Agg, th.P, rest = "p", p, rest[end+1:]
	default:
		i := 0
		for i < len(rest) && (rest[i] >= 'a' && rest[i] <= 'z' || rest[i] >= 'A' && rest[i] <= 'Z' || rest[i] >= '0' && rest[i] <= '9' || rest[i] == '_') {
			i++
		}
		agg := rest[:i]
		if !isAggregation(agg) {
			hint := ""
			if len(agg) > 1 && agg[0] == 'p' {
				if _, err := strconv.ParseFloat(agg[1:], 64); err == nil {
					hint = fmt.Sprintf(" (did you mean p(%s)?)", agg[1:])
				}
			}
			if agg == "" {
				return fail("no aggregation before %q; want avg, min, max, med, p(N), rate, rps, count, failures, differs or failed_checks", rest)
			}
			return fail("unknown aggregation %q%s; want avg, min, max, med, p(N), rate, rps, count, failures, differs or failed_checks", agg, hint)
		}
		th.Agg, rest = agg, rest[i:]
	}
	// operator
	rest = strings.TrimSpace(rest)
	for _, op := range []string{"===", "==", "!=", "<=", ">=", "<", ">"} {
		if strings.HasPrefix(rest, op) {
			th.Op, rest = op, rest[len(op):]
			break
		}
	}
	if th.Op == "" {
		if rest == "" {
			return fail("missing comparison; want e.g. '%s<500'", strings.TrimSpace(body))
		}
		return fail("%q is not a comparison; want <, <=, >, >=, == or !=", rest)
	}
	if th.Op == "===" {
		th.Op = "=="
	}
	// value
	num := strings.TrimSpace(rest)
	if num == "" {
		return fail("missing number after %q", th.Op)
	}
	scale := 1.0
	switch {
	case th.latency() && strings.HasSuffix(num, "ms"):
		num = strings.TrimSuffix(num, "ms")
	case th.latency() && strings.HasSuffix(num, "s"):
		num, scale = strings.TrimSuffix(num, "s"), 1000
	case th.Agg == "rate" && strings.HasSuffix(num, "%"):
		num, scale = strings.TrimSuffix(num, "%"), 0.01
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return fail("%q is not a number", strings.TrimSpace(rest))
	}
	th.Value = v * scale
	return th, nil
}

func isMethod(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

func (th Threshold) latency() bool {
	switch th.Agg {
	case "avg", "min", "max", "med", "p":
		return true
	}
	return false
}

// String returns the expression.
func (th Threshold) String() string { return th.Expr }

// scoped returns the statistics the threshold applies to, or an explanation
// of why there are none.
func (r *Result) scoped(th Threshold) (*Stats, string) {
	if th.Name == "" {
		return &r.Stats, ""
	}
	var s Stats
	s.lat = hdr.NewPacked(lowestUS, highestUS, sigFigs)
	s.svc = hdr.NewPacked(lowestUS, highestUS, sigFigs)
	found := false
	for i := range r.Endpoints {
		e := &r.Endpoints[i]
		if e.Name == th.Name && (th.Method == "" || e.Method == th.Method) {
			s.add(&e.Stats)
			found = true
		}
	}
	if !found {
		scope := th.Name
		if th.Method != "" {
			scope = th.Method + " " + th.Name
		}
		return nil, fmt.Sprintf("no endpoint %q in this run", scope)
	}
	s.derive(nil, r.DurationS)
	return &s, ""
}

// CheckThresholds evaluates each threshold on the result, stores the
// verdicts in r.Thresholds and returns them. A threshold on a scope without
// requests (whatever its aggregation), or one scoped to an endpoint that the
// run does not have, fails.
func (r *Result) CheckThresholds(ths []Threshold) []ThresholdResult {
	out := make([]ThresholdResult, 0, len(ths))
	for _, th := range ths {
		out = append(out, r.check(th))
	}
	r.Thresholds = out
	return out
}

func (r *Result) check(th Threshold) ThresholdResult {
	res := ThresholdResult{Expr: th.Expr, Limit: th.Value}
	s, why := r.scoped(th)
	if s == nil {
		res.Observed = math.NaN()
		res.Message = fmt.Sprintf("%s: %s", th.Expr, why)
		return res.jsonSafe()
	}
	if th.latency() {
		res.Unit = "ms"
	}
	if s.Requests == 0 {
		// Nothing to judge is never a pass: "rate<0.01" or "failures<1" on
		// a run in which nothing finished would otherwise hold.
		res.Message = fmt.Sprintf("%s: no requests to measure", th.Expr)
		return res
	}
	switch th.Agg {
	case "avg":
		res.Observed = s.Latency.Avg
	case "min":
		res.Observed = s.Latency.Min
	case "max":
		res.Observed = s.Latency.Max
	case "med":
		res.Observed = s.Latency.P50
	case "p":
		res.Observed = clampPct(s.lat, th.P, s.Latency.Min, s.Latency.Max)
	case "rate":
		res.Observed = s.FailureRate
	case "rps":
		res.Observed, res.Unit = s.RPS, "req/s"
	case "count":
		res.Observed = float64(s.Requests)
	case "failures":
		res.Observed = float64(s.Failures)
	case "differs", "failed_checks":
		res.Observed = float64(r.failuresOfKind(th))
	}
	o, l := res.Observed, th.Value
	switch th.Op {
	case "<":
		res.Pass = o < l
	case "<=":
		res.Pass = o <= l
	case ">":
		res.Pass = o > l
	case ">=":
		res.Pass = o >= l
	case "==":
		res.Pass = o == l
	case "!=":
		res.Pass = o != l
	}
	obs := formatValue(o, res.Unit, th.Agg)
	if res.Pass {
		res.Message = fmt.Sprintf("%s: %s", th.Expr, obs)
		return res
	}
	res.Over = math.Abs(o - l)
	switch th.Op {
	case "<", "<=":
		res.Message = fmt.Sprintf("%s: %s, %s over the limit", th.Expr, obs, formatValue(res.Over, res.Unit, th.Agg))
	case ">", ">=":
		res.Message = fmt.Sprintf("%s: %s, %s under the limit", th.Expr, obs, formatValue(res.Over, res.Unit, th.Agg))
	default:
		res.Message = fmt.Sprintf("%s: %s", th.Expr, obs)
	}
	if l != 0 && (th.Op != "==" && th.Op != "!=") {
		res.Message += fmt.Sprintf(" (%+.0f%%)", (o-l)/math.Abs(l)*100)
	}
	return res
}

// failuresOfKind counts the failures in the threshold's scope whose reason
// is of its kind: "differs: ..." (a response unlike its recording) or
// "check ... failed" (an explicit check).
func (r *Result) failuresOfKind(th Threshold) int64 {
	var n int64
	for _, e := range r.Errors {
		if th.Name != "" && (e.Name != th.Name || th.Method != "" && e.Method != th.Method) {
			continue
		}
		if th.Agg == "differs" && strings.HasPrefix(e.Reason, "differs: ") ||
			th.Agg == "failed_checks" && strings.HasPrefix(e.Reason, "check ") && strings.Contains(e.Reason, " failed") {
			n += e.Count
		}
	}
	return n
}

// jsonSafe replaces NaN, which JSON cannot hold, by 0.
func (t ThresholdResult) jsonSafe() ThresholdResult {
	if math.IsNaN(t.Observed) {
		t.Observed = 0
	}
	return t
}

func formatValue(v float64, unit, agg string) string {
	switch {
	case unit == "ms":
		return fmtMS(v) + " ms"
	case unit == "req/s":
		return strconv.FormatFloat(v, 'f', 1, 64) + " req/s"
	case agg == "rate":
		return trimFloat(v*100, 3) + "%"
	}
	return trimFloat(v, 3)
}

// trimFloat formats v with at most prec decimals, without trailing zeros.
func trimFloat(v float64, prec int) string {
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// fmtMS formats milliseconds with precision that suits their size.
func fmtMS(ms float64) string {
	switch a := math.Abs(ms); {
	case a == 0:
		return "0"
	case a < 10:
		return strconv.FormatFloat(ms, 'f', 2, 64)
	case a < 100:
		return strconv.FormatFloat(ms, 'f', 1, 64)
	}
	return strconv.FormatFloat(ms, 'f', 0, 64)
}

// ThresholdsFailed returns the thresholds of r that failed.
func (r *Result) ThresholdsFailed() []ThresholdResult {
	var out []ThresholdResult
	for _, t := range r.Thresholds {
		if !t.Pass {
			out = append(out, t)
		}
	}
	return out
}

// Check evaluates one threshold on r, like CheckThresholds, without storing
// the verdict.
func (r *Result) Check(th Threshold) ThresholdResult { return r.check(th) }

// DefaultThresholds are what a run is judged by when it is given none (amp
// replay without --fail-if): at least one request finished, and fewer than
// 5 % failed. They fail exactly when Result.Verdict says NO DATA or FAILING.
func DefaultThresholds() []Threshold {
	return []Threshold{
		{Expr: "count>0", Agg: "count", Op: ">", Value: 0},
		{Expr: "rate<0.05", Agg: "rate", Op: "<", Value: 0.05},
	}
}

// HasEndpoint reports whether a threshold's scope names an endpoint that
// exists among labels ("METHOD name"), or has no endpoint scope; amp checks
// it against the recording before a run.
func (th Threshold) HasEndpoint(labels []string) bool {
	if th.Name == "" {
		return true
	}
	for _, l := range labels {
		m, n, _ := strings.Cut(l, " ")
		if n == th.Name && (th.Method == "" || m == th.Method) {
			return true
		}
	}
	return false
}
