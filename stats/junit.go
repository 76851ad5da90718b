package stats

import (
	"cmp"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// CIOptions say how a run is judged, beyond what its result holds, for the
// CI outputs (WriteJUnit, WriteSummary).
type CIOptions struct {
	// DefaultThresholds judges a result without thresholds by
	// DefaultThresholds, as amp replay does without --fail-if.
	DefaultThresholds bool
	// Checks are the --check expressions the run asserted: each is a test
	// case, passing when no response failed it. Checks that failed but are
	// not listed (a result re-rendered by amp report) are cases too.
	Checks []string
}

// Judged returns the threshold verdicts the run is judged by: r.Thresholds,
// or, when it has none and opts.DefaultThresholds, those of
// DefaultThresholds.
func (r *Result) Judged(opts CIOptions) []ThresholdResult {
	if len(r.Thresholds) > 0 || !opts.DefaultThresholds {
		return r.Thresholds
	}
	var out []ThresholdResult
	for _, th := range DefaultThresholds() {
		out = append(out, r.check(th).jsonSafe())
	}
	return out
}

// CheckResult is the verdict of a --check, or a kind of difference from
// the recording that responses showed.
type CheckResult struct {
	Name    string `json:"name"` // the check's expression, or "like the recording: KIND"
	Kind    string `json:"kind"` // "check" or "differs"
	Pass    bool   `json:"pass"`
	Message string `json:"message,omitempty"` // how many responses failed it, e.g. "observed 3 failed responses of 176 requests (1.70%); limit 0"
	Detail  string `json:"detail,omitempty"`  // where: "failed on POST /login (3)"
}

// Checks returns the verdicts of the checks given (--check expressions:
// passing unless a response failed them), then of the other checks that
// responses failed and of the differences from the recording they showed.
func (r *Result) Checks(checks []string) []CheckResult {
	var out []CheckResult
	for _, c := range r.ciCases(CIOptions{Checks: checks}) {
		if c.class != "thresholds" {
			out = append(out, CheckResult{Name: c.name, Kind: c.kind, Pass: c.pass, Message: c.message, Detail: c.detail})
		}
	}
	return out
}

// ciCase is one judged item of a run: a threshold, a --check or a kind of
// difference from the recording.
type ciCase struct {
	class   string // thresholds, checks, differs
	name    string
	pass    bool
	kind    string // the failure's type
	message string // one line: the observed value and the limit
	detail  string // longer text of a failure
}

// ciCases lists what the run is judged by, thresholds first.
func (r *Result) ciCases(opts CIOptions) []ciCase {
	var out []ciCase
	for _, t := range r.Judged(opts) {
		c := ciCase{class: "thresholds", name: t.Expr, pass: t.Pass, kind: "threshold", detail: t.Message}
		if !t.Pass {
			c.message = thresholdFailure(t)
		}
		out = append(out, c)
	}
	// Checks and differences, from the failures' reasons.
	type agg struct {
		n     int64
		where map[string]int64
	}
	checks, differs := map[string]*agg{}, map[string]*agg{}
	add := func(m map[string]*agg, key string, e *ErrorStats) {
		a := m[key]
		if a == nil {
			a = &agg{where: map[string]int64{}}
			m[key] = a
		}
		a.n += e.Count
		a.where[e.Method+" "+e.Name] += e.Count
	}
	for i := range r.Errors {
		e := &r.Errors[i]
		if expr, ok := checkExpr(e.Reason); ok {
			add(checks, expr, e)
		} else if kind, ok := differsKind(e.Reason); ok {
			add(differs, kind, e)
		}
	}
	describe := func(what string, a *agg) (string, string) {
		var ws []string
		for _, k := range sortedKeys(a.where) {
			ws = append(ws, fmt.Sprintf("%s (%d)", k, a.where[k]))
		}
		msg := fmt.Sprintf("observed %d failed %s of %d requests (%s); limit 0", a.n, what, r.Requests, pct(float64(a.n)/float64(max(r.Requests, 1))))
		if a.n == 1 {
			msg = strings.Replace(msg, "responses", "response", 1)
		}
		return msg, "failed on " + strings.Join(ws, ", ")
	}
	names := slices.Clone(opts.Checks)
	for _, k := range sortedKeys(checks) {
		if !slices.Contains(names, k) {
			names = append(names, k)
		}
	}
	for _, name := range names {
		c := ciCase{class: "checks", name: name, pass: true, kind: "check"}
		if a := checks[name]; a != nil {
			c.pass = false
			c.message, c.detail = describe("responses", a)
		}
		out = append(out, c)
	}
	for _, kind := range sortedKeys(differs) {
		c := ciCase{class: "differs", name: "like the recording: " + kind, kind: "differs"}
		c.message, c.detail = describe("responses", differs[kind])
		out = append(out, c)
	}
	return out
}

// thresholdFailure words a failed threshold with its observed value and its
// limit, e.g. "observed 612 ms; limit p(95)<500 ms: 112 ms over the limit (+22%)".
func thresholdFailure(t ThresholdResult) string {
	th, err := ParseThreshold(t.Expr)
	if err != nil || strings.HasSuffix(t.Message, "no requests to measure") || strings.Contains(t.Message, ": no endpoint ") {
		return t.Message
	}
	obs := formatValue(t.Observed, t.Unit, th.Agg)
	msg := fmt.Sprintf("observed %s; limit %s %s", obs, th.Op, formatValue(th.Value, t.Unit, th.Agg))
	if _, rest, ok := strings.Cut(t.Message, obs+", "); ok {
		msg += ": " + rest
	}
	return msg
}

// checkExpr returns EXPR of a reason `check "EXPR" failed`.
func checkExpr(reason string) (string, bool) {
	q, ok := strings.CutPrefix(reason, "check ")
	if !ok {
		return "", false
	}
	q, ok = strings.CutSuffix(q, " failed")
	if !ok {
		return "", false
	}
	if s, err := strconv.Unquote(q); err == nil {
		return s, true
	}
	return q, true
}

// differsKind returns what kind of difference from the recording a reason
// "differs: WHAT" is: WHAT up to its first comma, without the values
// ("status 200, recorded 302" is a difference of "status").
func differsKind(reason string) (string, bool) {
	what, ok := strings.CutPrefix(reason, "differs: ")
	if !ok {
		return "", false
	}
	what, _, _ = strings.Cut(what, ",")
	what = strings.TrimPrefix(what, "no ")
	for _, k := range []string{"status", "redirect", "content type", "body", "title", "forms", "json"} {
		if strings.HasPrefix(what, k) {
			return k, true
		}
	}
	return strings.TrimSpace(what), true
}

// JUnit XML, the shape CI servers read (Jenkins, GitLab, GitHub reporters).
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes r as JUnit XML: one testsuite for the run (its time the
// run's length, its properties the run id, target host and recording), and
// in it one testcase per threshold the run is judged by (see Judged), per
// --check and per kind of difference from the recording found. A failing
// case holds a <failure> whose message gives the observed value and the
// limit. The suite's system-out is the verdict line.
func WriteJUnit(w io.Writer, r *Result, opts CIOptions) error {
	secs := func(s float64) string { return strconv.FormatFloat(math.Max(s, 0), 'f', 3, 64) }
	suite := junitSuite{Name: "amp " + cmp.Or(r.configString("recording"), "run"), Time: secs(r.DurationS)}
	if !r.Start.IsZero() {
		suite.Timestamp = r.Start.UTC().Format("2006-01-02T15:04:05")
	}
	for _, p := range [][2]string{
		{"run_id", r.RunID()}, {"host", r.configString("host")}, {"recording", r.configString("recording")},
		{"recording_id", r.RecordingID()}, {"shard", r.Shard()},
	} {
		if p[1] != "" {
			suite.Properties = append(suite.Properties, junitProperty{Name: p[0], Value: p[1]})
		}
	}
	suite.Properties = append(suite.Properties,
		junitProperty{Name: "requests", Value: strconv.FormatInt(r.Requests, 10)},
		junitProperty{Name: "failures", Value: strconv.FormatInt(r.Failures, 10)})
	if r.Dropped > 0 {
		suite.Properties = append(suite.Properties, junitProperty{Name: "dropped", Value: strconv.FormatInt(r.Dropped, 10)})
	}
	for _, c := range r.ciCases(opts) {
		jc := junitCase{Name: c.name, Classname: "amp." + c.class, Time: "0.000"}
		if c.pass {
			jc.SystemOut = c.detail
		} else {
			jc.Failure = &junitFailure{Message: c.message, Type: c.kind, Text: c.detail}
			suite.Failures++
		}
		suite.Cases = append(suite.Cases, jc)
	}
	suite.Tests = len(suite.Cases)
	_, suite.SystemOut = r.verdictWith(opts)
	doc := junitSuites{Name: "amp", Tests: suite.Tests, Failures: suite.Failures, Time: suite.Time, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// verdictWith is Verdict, judged by the default thresholds when opts says
// they apply and r has no thresholds of its own.
func (r *Result) verdictWith(opts CIOptions) (bool, string) {
	if len(r.Thresholds) > 0 || !opts.DefaultThresholds {
		return r.Verdict()
	}
	c := *r
	c.Thresholds = r.Judged(opts)
	pass, line := c.Verdict()
	if pass {
		// Verdict's own wording (OK, DEGRADED) says more than "all held".
		_, line = r.Verdict()
	}
	return pass, line
}
