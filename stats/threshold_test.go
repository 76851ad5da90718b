package stats_test

import (
	"math"
	"strings"
	"testing"

	"github.com/ampload/amp/stats"
)

func TestParseThreshold(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr string
		want stats.Threshold
	}{
		{"p(95)<500", stats.Threshold{Agg: "p", P: 95, Op: "<", Value: 500}},
		{" avg < 200 ", stats.Threshold{Agg: "avg", Op: "<", Value: 200}},
		{"rate<0.01", stats.Threshold{Agg: "rate", Op: "<", Value: 0.01}},
		{"rate<=1%", stats.Threshold{Agg: "rate", Op: "<=", Value: 0.01}},
		{"rps>100", stats.Threshold{Agg: "rps", Op: ">", Value: 100}},
		{"p(99.9)<1.5s", stats.Threshold{Agg: "p", P: 99.9, Op: "<", Value: 1500}},
		{"med<=80ms", stats.Threshold{Agg: "med", Op: "<=", Value: 80}},
		{"count>=1000", stats.Threshold{Agg: "count", Op: ">=", Value: 1000}},
		{"failures===0", stats.Threshold{Agg: "failures", Op: "==", Value: 0}},
		{"max!=0", stats.Threshold{Agg: "max", Op: "!=", Value: 0}},
		{"GET /articles/{id}: p(99)<800", stats.Threshold{Method: "GET", Name: "/articles/{id}", Agg: "p", P: 99, Op: "<", Value: 800}},
		{"/login: rate<0.05", stats.Threshold{Name: "/login", Agg: "rate", Op: "<", Value: 0.05}},
		{"GET /a:b: avg<5", stats.Threshold{Method: "GET", Name: "/a:b", Agg: "avg", Op: "<", Value: 5}},
		{"http_req_duration: p(95)<500", stats.Threshold{Agg: "p", P: 95, Op: "<", Value: 500}},
	}
	for _, tc := range tests {
		got, err := stats.ParseThreshold(tc.expr)
		if err != nil {
			t.Errorf("%q: %v", tc.expr, err)
			continue
		}
		tc.want.Expr = tc.expr
		if got != tc.want {
			t.Errorf("%q: got %+v, want %+v", tc.expr, got, tc.want)
		}
	}
}

func TestParseThresholdErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ expr, want string }{
		{"", "empty expression"},
		{"p95<500", `unknown aggregation "p95" (did you mean p(95)?)`},
		{"p(95)", "missing comparison"},
		{"p(95)<", `missing number after "<"`},
		{"p(95)<fast", `"fast" is not a number`},
		{"p(101)<5", "percentile 101 is outside 0..100"},
		{"p(x)<5", `"p(x)" is not a percentile`},
		{"p(95<5", "missing ')'"},
		{"latency<5", `unknown aggregation "latency"`},
		{"p(95)~5", `"~5" is not a comparison`},
		{": p(95)<5", "nothing before ':'"},
		{"rate<5ms", `"5ms" is not a number`},
	}
	for _, tc := range tests {
		_, err := stats.ParseThreshold(tc.expr)
		if err == nil {
			t.Errorf("%q: no error", tc.expr)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "invalid threshold \""+tc.expr+"\": ") || !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
			t.Errorf("%q: error %q, want one line naming the expression and saying %q", tc.expr, msg, tc.want)
		}
	}
}

func TestCheckThresholds(t *testing.T) {
	t.Parallel()
	r := fixture(t) // p95 46 ms, failure rate 4.5 %, GET /articles/{id} p99 49 ms, 176 requests
	tests := []struct {
		expr     string
		pass     bool
		observed float64
		over     float64
		msg      string
	}{
		{"p(95)<100", true, 46.015, 0, "p(95)<100: 46.0 ms"},
		{"p(95)<40", false, 46.015, 6.015, "p(95)<40: 46.0 ms, 6.02 ms over the limit (+15%)"},
		{"rate<0.01", false, 8.0 / 176, 8.0/176 - 0.01, "over the limit"},
		{"count>200", false, 176, 24, "count>200: 176, 24 under the limit (-12%)"},
		{"max<=49", true, 49, 0, ""},
		{"GET /articles/{id}: p(99)<30", false, 49, 19, "19.0 ms over the limit (+63%)"},
		{"/login: failures==4", true, 4, 0, ""},
		{"GET /nope: p(99)<30", false, 0, 0, `no endpoint "GET /nope" in this run`},
		{"rps>40", true, r.RPS, 0, "req/s"},
	}
	for _, tc := range tests {
		th, err := stats.ParseThreshold(tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		got := r.CheckThresholds([]stats.Threshold{th})[0]
		if got.Pass != tc.pass || math.Abs(got.Observed-tc.observed) > 1e-9 || math.Abs(got.Over-tc.over) > 1e-9 || !strings.Contains(got.Message, tc.msg) {
			t.Errorf("%s: %+v; want pass=%v observed=%v over=%v message with %q", tc.expr, got, tc.pass, tc.observed, tc.over, tc.msg)
		}
	}
	if len(r.Thresholds) != 1 {
		t.Errorf("CheckThresholds keeps the last verdicts in the result: %d", len(r.Thresholds))
	}
}

func FuzzParseThreshold(f *testing.F) {
	for _, s := range []string{"p(95)<500", "GET /a: rate<1%", "p(", "avg<<", "::", "p(1e400)<1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		th, err := stats.ParseThreshold(expr)
		if err != nil {
			if !strings.Contains(err.Error(), "invalid threshold") {
				t.Errorf("error does not name the threshold: %v", err)
			}
			return
		}
		if math.IsNaN(th.Value) || th.Op == "" || th.Agg == "" {
			t.Errorf("%q parsed to %+v", expr, th)
		}
	})
}

// TestThresholdsOnEmptyResult: every threshold on a run without requests
// fails, rates and counts included (issue 13: 'rate<0.01' passed on 0
// requests), and the default thresholds fail too.
func TestThresholdsOnEmptyResult(t *testing.T) {
	t.Parallel()
	var ths []stats.Threshold
	for _, e := range []string{"p(95)<500", "rate<0.01", "count>0", "failures<1", "rps>=0"} {
		th, err := stats.ParseThreshold(e)
		if err != nil {
			t.Fatal(err)
		}
		ths = append(ths, th)
	}
	r := &stats.Result{}
	for _, v := range append(r.CheckThresholds(ths), r.Check(stats.DefaultThresholds()[0]), r.Check(stats.DefaultThresholds()[1])) {
		if v.Pass || !strings.Contains(v.Message, "no requests to measure") {
			t.Errorf("%s on no requests: %+v", v.Expr, v)
		}
	}
}

// TestThresholdDiffers: differs and failed_checks count the failures of
// their kind, in the whole run or an endpoint.
func TestThresholdDiffers(t *testing.T) {
	t.Parallel()
	r := &stats.Result{
		Stats: stats.Stats{Requests: 20, Failures: 9},
		Endpoints: []stats.EndpointStats{
			{Method: "POST", Name: "/login", Stats: stats.Stats{Requests: 10, Failures: 7}},
			{Method: "GET", Name: "/cart", Stats: stats.Stats{Requests: 10, Failures: 2}},
		},
		Errors: []stats.ErrorStats{
			{Method: "POST", Name: "/login", Reason: "differs: status 200, recorded 302", Count: 4},
			{Method: "POST", Name: "/login", Reason: `differs: title "Log in", recorded "Dashboard"`, Count: 1},
			{Method: "POST", Name: "/login", Reason: "HTTP 500", Count: 2},
			{Method: "GET", Name: "/cart", Reason: `check "GET /cart: body contains \"Total\"" failed`, Count: 2},
		},
	}
	tests := []struct {
		expr     string
		pass     bool
		observed float64
	}{
		{"differs==0", false, 5},
		{"differs<=5", true, 5},
		{"POST /login: differs<5", false, 5},
		{"GET /cart: differs==0", true, 0},
		{"failed_checks==0", false, 2},
		{"/cart: failed_checks==2", true, 2},
		{"POST /login: failed_checks==0", true, 0},
	}
	for _, tc := range tests {
		th, err := stats.ParseThreshold(tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		got := r.CheckThresholds([]stats.Threshold{th})[0]
		if got.Pass != tc.pass || got.Observed != tc.observed {
			t.Errorf("%s: %+v; want pass=%v observed=%v", tc.expr, got, tc.pass, tc.observed)
		}
	}
	r.Thresholds = nil
	r.Requests, r.Failures, r.FailureRate = 20, 9, 0.45
	if _, line := r.Verdict(); !strings.Contains(line, "45.00% failed (5 unlike the recording)") {
		t.Errorf("verdict %q does not count the differences", line)
	}
}
