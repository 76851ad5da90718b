package stats_test

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ampload/amp/stats"
)

// JUnit XML as CI servers read it (the Jenkins/Ant schema's elements).
type jSuites struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Time     float64  `xml:"time,attr"`
	Suites   []jSuite `xml:"testsuite"`
}

type jSuite struct {
	Name       string      `xml:"name,attr"`
	Tests      int         `xml:"tests,attr"`
	Failures   int         `xml:"failures,attr"`
	Errors     int         `xml:"errors,attr"`
	Skipped    int         `xml:"skipped,attr"`
	Time       float64     `xml:"time,attr"`
	Timestamp  string      `xml:"timestamp,attr"`
	Properties []jProperty `xml:"properties>property"`
	Cases      []jCase     `xml:"testcase"`
	SystemOut  string      `xml:"system-out"`
}

type jProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type jCase struct {
	Name      string    `xml:"name,attr"`
	Classname string    `xml:"classname,attr"`
	Time      float64   `xml:"time,attr"`
	Failure   *jFailure `xml:"failure"`
}

type jFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// ciFixture is the fixture run with check failures and differences from the
// recording, a run id and a target host.
func ciFixture(t *testing.T) *stats.Result {
	t.Helper()
	c := fixtureCollector()
	c.SetConfig(map[string]any{"host": "http://127.0.0.1:8080", "recording": "shop.amp", stats.ConfigRunID: "0123456789abcdef",
		stats.ConfigRecordingID: "rec-42"})
	login, art := c.Endpoint("POST", "/login"), c.Endpoint("GET", "/articles/{id}")
	r := c.NewRecorder()
	for i := range 3 {
		s := sample(time.Duration(i)*time.Millisecond, 0, 10*time.Millisecond, 200, `check "status == 302" failed`)
		r.Record(login, &s)
	}
	for _, reason := range []string{"differs: status 200, recorded 302", "differs: title, recorded Shop", "differs: status 500, recorded 200"} {
		s := sample(3*time.Millisecond, 0, 10*time.Millisecond, 200, reason)
		r.Record(art, &s)
	}
	r.Flush()
	res := c.Snapshot()
	var ths []stats.Threshold
	for _, e := range []string{"p(95)<100", "rate<0.01", "GET /articles/{id}: p(99)<30"} {
		th, err := stats.ParseThreshold(e)
		if err != nil {
			t.Fatal(err)
		}
		ths = append(ths, th)
	}
	res.CheckThresholds(ths)
	return res
}

func readJUnit(t *testing.T, data []byte) jSuites {
	t.Helper()
	if !bytes.HasPrefix(data, []byte(xml.Header)) {
		t.Errorf("no XML declaration: %.40q", data)
	}
	var doc jSuites
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("the JUnit XML does not parse: %v\n%s", err, data)
	}
	return doc
}

func TestJUnitReadsBack(t *testing.T) {
	t.Parallel()
	r := ciFixture(t)
	var buf bytes.Buffer
	if err := stats.WriteJUnit(&buf, r, stats.CIOptions{Checks: []string{"status == 302", "body contains \"Total\""}}); err != nil {
		t.Fatal(err)
	}
	golden(t, "junit.xml.golden", buf.Bytes())
	doc := readJUnit(t, buf.Bytes())
	if len(doc.Suites) != 1 {
		t.Fatalf("%d testsuites, want one for the run", len(doc.Suites))
	}
	s := doc.Suites[0]
	type want struct {
		class, name string
		fail        string // part of the failure message; "" = passes
	}
	wants := []want{
		{"amp.thresholds", "p(95)<100", ""},
		{"amp.thresholds", "rate<0.01", "observed 7.692%; limit < 1%"},
		{"amp.thresholds", "GET /articles/{id}: p(99)<30", "observed 49.0 ms; limit < 30.0 ms: 19.0 ms over the limit"},
		{"amp.checks", "status == 302", "observed 3 failed responses of 182 requests"},
		{"amp.checks", `body contains "Total"`, ""},
		{"amp.differs", "like the recording: status", "observed 2 failed responses"},
		{"amp.differs", "like the recording: title", "observed 1 failed response of"},
	}
	if len(s.Cases) != len(wants) {
		t.Fatalf("%d test cases, want %d: %+v", len(s.Cases), len(wants), s.Cases)
	}
	failures := 0
	for i, w := range wants {
		c := s.Cases[i]
		if c.Classname != w.class || c.Name != w.name {
			t.Errorf("case %d is %s %q, want %s %q", i, c.Classname, c.Name, w.class, w.name)
		}
		switch {
		case w.fail == "" && c.Failure != nil:
			t.Errorf("case %q fails (%q), want a pass", c.Name, c.Failure.Message)
		case w.fail != "" && c.Failure == nil:
			t.Errorf("case %q passes, want a failure", c.Name)
		case w.fail != "":
			failures++
			if !strings.Contains(c.Failure.Message, w.fail) {
				t.Errorf("case %q: failure message %q, want it to contain %q", c.Name, c.Failure.Message, w.fail)
			}
		}
	}
	if s.Tests != len(wants) || s.Failures != failures || doc.Tests != s.Tests || doc.Failures != failures {
		t.Errorf("counts: suites %d/%d, suite %d/%d; want %d tests, %d failures", doc.Tests, doc.Failures, s.Tests, s.Failures, len(wants), failures)
	}
	if s.Time != r.DurationS || doc.Time != r.DurationS || s.Timestamp != "2026-11-26T09:00:00" {
		t.Errorf("time %v (suites %v), timestamp %q; want the run's length from 2026-11-26T09:00:00", s.Time, doc.Time, s.Timestamp)
	}
	props := map[string]string{}
	for _, p := range s.Properties {
		props[p.Name] = p.Value
	}
	for k, v := range map[string]string{"run_id": "0123456789abcdef", "host": "http://127.0.0.1:8080", "recording": "shop.amp", "recording_id": "rec-42"} {
		if props[k] != v {
			t.Errorf("property %s = %q, want %q", k, props[k], v)
		}
	}
	if !strings.HasPrefix(s.SystemOut, "FAIL: 2 of 3 thresholds failed") {
		t.Errorf("system-out %q, want the verdict line", s.SystemOut)
	}
}

// TestJUnitDefaultThresholds: a run judged by the default thresholds has a
// case for each; without them (amp report) a run with no thresholds has
// only its checks.
func TestJUnitDefaultThresholds(t *testing.T) {
	t.Parallel()
	r := fixtureCollector().Snapshot() // 4.55% failed: passes rate<0.05
	var buf bytes.Buffer
	if err := stats.WriteJUnit(&buf, r, stats.CIOptions{DefaultThresholds: true}); err != nil {
		t.Fatal(err)
	}
	s := readJUnit(t, buf.Bytes()).Suites[0]
	if len(s.Cases) != 2 || s.Cases[0].Name != "count>0" || s.Cases[1].Name != "rate<0.05" || s.Failures != 0 {
		t.Errorf("cases %+v, want count>0 and rate<0.05 passing", s.Cases)
	}
	buf.Reset()
	empty := stats.NewCollector(stats.Config{Start: t0, Now: func() time.Time { return t0.Add(time.Second) }}).Snapshot()
	if err := stats.WriteJUnit(&buf, empty, stats.CIOptions{DefaultThresholds: true}); err != nil {
		t.Fatal(err)
	}
	s = readJUnit(t, buf.Bytes()).Suites[0]
	if s.Failures != 2 || s.Cases[0].Failure == nil || !strings.Contains(s.Cases[0].Failure.Message, "no requests") {
		t.Errorf("a run without requests: %+v, want both default thresholds failing", s.Cases)
	}
	buf.Reset()
	if err := stats.WriteJUnit(&buf, r, stats.CIOptions{}); err != nil {
		t.Fatal(err)
	}
	if s = readJUnit(t, buf.Bytes()).Suites[0]; s.Tests != 0 {
		t.Errorf("without default thresholds: %d cases, want none", s.Tests)
	}
}

// TestJUnitEscapes: names and reasons with XML's special characters read
// back as they were.
func TestJUnitEscapes(t *testing.T) {
	t.Parallel()
	c := stats.NewCollector(stats.Config{Start: t0, Now: func() time.Time { return t0.Add(time.Second) }})
	e := c.Endpoint("GET", "/a?<b>&c")
	r := c.NewRecorder()
	s := sample(0, 0, time.Millisecond, 200, `check "body contains \"<&>\"" failed`)
	r.Record(e, &s)
	r.Flush()
	var buf bytes.Buffer
	if err := stats.WriteJUnit(&buf, c.Snapshot(), stats.CIOptions{}); err != nil {
		t.Fatal(err)
	}
	cs := readJUnit(t, buf.Bytes()).Suites[0].Cases
	if len(cs) != 1 || cs[0].Name != `body contains "<&>"` || cs[0].Failure == nil || !strings.Contains(cs[0].Failure.Text, "GET /a?<b>&c (1)") {
		t.Errorf("cases %+v", cs)
	}
}

func TestSummaryGolden(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := stats.WriteSummary(&buf, ciFixture(t), stats.CIOptions{Checks: []string{"status == 302"}}); err != nil {
		t.Fatal(err)
	}
	golden(t, "summary.md.golden", buf.Bytes())
	out := buf.String()
	for _, want := range []string{"### ❌ amp replay `shop.amp` → `http://127.0.0.1:8080`", "**FAIL: 2 of 3 thresholds failed",
		"| ❌ | `rate<0.01` | observed 7.692%; limit \\< 1%", "| ✅ | `p(95)<100` | 46.0 ms |",
		"| `GET /articles/{id}` | 83 |", "| **all** | 182 |", "| 3 | `POST /login` | check \"status == 302\" failed |"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q", want)
		}
	}
}

// TestFilesAppendSummary: --summary appends a run's summary to what the file
// holds (a CI job's summary); --junit replaces its file.
func TestFilesAppendSummary(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := stats.Files{JUnit: filepath.Join(dir, "junit.xml"), Summary: filepath.Join(dir, "summary.md")}
	if err := os.WriteFile(f.Summary, []byte("# before\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := ciFixture(t)
	for range 2 {
		written, err := f.Write(r)
		if err != nil || len(written) != 2 {
			t.Fatalf("written %q, err %v", written, err)
		}
	}
	sum, _ := os.ReadFile(f.Summary)
	if !strings.HasPrefix(string(sum), "# before\n### ") || strings.Count(string(sum), "### ❌") != 2 {
		t.Errorf("summary file after two runs:\n%s", sum)
	}
	x, _ := os.ReadFile(f.JUnit)
	if n := strings.Count(string(x), "<testsuites"); n != 1 {
		t.Errorf("junit file holds %d documents, want 1 (replaced)", n)
	}
}

// TestConsoleProgressLine: off a terminal, an update is one line every
// 10 s, its req/s those since the previous update.
func TestConsoleProgressLine(t *testing.T) {
	t.Parallel()
	c := fixtureCollector()
	var buf bytes.Buffer
	con := stats.NewConsole(&buf, false)
	if con.Interval() != 10*time.Second {
		t.Errorf("interval %v, want 10s", con.Interval())
	}
	_ = con.Update(c.Snapshot(), stats.Progress{Elapsed: 10 * time.Second, Duration: time.Minute, Users: -1, Note: "spawning"})
	_ = con.Update(c.Snapshot(), stats.Progress{Elapsed: 20 * time.Second, Duration: time.Minute, Users: 20})
	golden(t, "console_progress.golden", buf.Bytes())
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 || strings.Contains(buf.String(), "\x1b[") {
		t.Fatalf("want two plain lines, got %q", buf.String())
	}
	for i, want := range []string{"elapsed 00:10/01:00 | users 20 | 176 requests | 46.2 req/s | 4.55% failed | p95 46.0 ms | spawning",
		"elapsed 00:20/01:00 | users 20 | 176 requests | 0.0 req/s"} {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("line %d = %q, want it to start %q", i, lines[i], want)
		}
	}
}

// TestConsoleNarrowGolden: at 100 columns the final report takes the narrow
// layout and no line is wider; a wide terminal gets the wide one.
func TestConsoleNarrowGolden(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	con := stats.NewConsole(&buf, false)
	con.SetWidth(100)
	if err := con.Final(ciFixture(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, "console_narrow.golden", buf.Bytes())
	checkWidth(t, buf.String(), 100)
	if !strings.Contains(buf.String(), "slow") || strings.Contains(buf.String(), "failures/s") {
		t.Error("the narrow table keeps the wide columns")
	}

	var wide, ref bytes.Buffer
	con = stats.NewConsole(&wide, false)
	con.SetWidth(200)
	_ = con.Final(fixture(t))
	_ = stats.NewConsole(&ref, false).Final(fixture(t))
	if wide.String() != ref.String() {
		t.Error("at 200 columns the report differs from the wide layout")
	}
}

// TestConsoleNarrowLongNames: long endpoint names and reasons are cut to
// fit 100 columns.
func TestConsoleNarrowLongNames(t *testing.T) {
	t.Parallel()
	c := stats.NewCollector(stats.Config{Start: t0, Now: func() time.Time { return t0.Add(2 * time.Second) }})
	r := c.NewRecorder()
	for i := range 3 {
		e := c.Endpoint("DELETE", fmt.Sprintf("/api/v2/organisations/{id}/projects/{id}/environments/{id}/x%d", i))
		s := sample(time.Duration(i)*time.Millisecond, 0, 1234*time.Millisecond, 503,
			"differs: json shape: $.items[0].attributes.something_long is missing, recorded object")
		r.Record(e, &s)
	}
	r.Flush()
	res := c.Snapshot()
	th, _ := stats.ParseThreshold("DELETE /api/v2/organisations/{id}/projects/{id}/environments/{id}/x1: p(99.9)<1000")
	res.CheckThresholds([]stats.Threshold{th})
	var buf bytes.Buffer
	con := stats.NewConsole(&buf, false)
	con.SetWidth(100)
	_ = con.Final(res)
	checkWidth(t, buf.String(), 100)
	if !strings.Contains(buf.String(), "...") {
		t.Error("long names were not cut")
	}
}

func checkWidth(t *testing.T, out string, cols int) {
	t.Helper()
	for i, l := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(l); n > cols {
			t.Errorf("line %d is %d columns wide: %q", i+1, n, l)
		}
	}
}
