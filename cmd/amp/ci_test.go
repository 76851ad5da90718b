package main

import (
	"encoding/xml"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/demosite"
)

// junitDoc is the part of JUnit XML the CI tests read back.
type junitDoc struct {
	XMLName xml.Name `xml:"testsuites"`
	Suites  []struct {
		Tests      int `xml:"tests,attr"`
		Failures   int `xml:"failures,attr"`
		Properties []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"properties>property"`
		Cases []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func readJUnitFile(t *testing.T, path string) junitDoc {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc junitDoc
	if err := xml.Unmarshal(data, &doc); err != nil || len(doc.Suites) != 1 {
		t.Fatalf("%s: %v, %d suites:\n%s", path, err, len(doc.Suites), data)
	}
	return doc
}

// TestReplayCIOutputs: amp replay --junit and --summary write a case per
// threshold and check (the default thresholds without --fail-if), and the
// summary is appended to what the file held.
func TestReplayCIOutputs(t *testing.T) {
	srv := httptest.NewServer(demosite.New(demosite.Config{}))
	defer srv.Close()
	rec := writeDemoRecording(t)
	dir := t.TempDir()
	junit, summary := filepath.Join(dir, "junit.xml"), filepath.Join(dir, "summary.md")
	if err := os.WriteFile(summary, []byte("## earlier step\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runAmp(t, "replay", rec, "--host", srv.URL, "--iterations", "4", "--think", "none", "--quiet",
		"--fail-if", "rate<0.9", "--fail-if", "p(95)<0", "--check", "GET /articles: status == 201",
		"--junit", junit, "--summary", summary)
	if r.code != 99 || !strings.Contains(r.stdout, "junit: "+junit) || !strings.Contains(r.stdout, "summary: "+summary+" (appended)") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	s := readJUnitFile(t, junit).Suites[0]
	if s.Tests != 3 || s.Failures != 2 || len(s.Cases) != 3 {
		t.Fatalf("suite: %d tests, %d failures, cases %+v; want rate<0.9 passing, p(95)<0 and the check failing", s.Tests, s.Failures, s.Cases)
	}
	if c := s.Cases[1]; c.Name != "p(95)<0" || c.Failure == nil || !strings.Contains(c.Failure.Message, "limit < 0") {
		t.Errorf("case %+v, want p(95)<0 failing with its limit", c)
	}
	if c := s.Cases[2]; c.Name != "GET /articles: status == 201" || c.Failure == nil || !strings.HasPrefix(c.Failure.Message, "observed 4 failed responses") {
		t.Errorf("check case %+v", c)
	}
	props := map[string]string{}
	for _, p := range s.Properties {
		props[p.Name] = p.Value
	}
	if props["host"] != srv.URL || props["recording"] == "" || len(props["run_id"]) != 16 {
		t.Errorf("properties %v", props)
	}
	md, _ := os.ReadFile(summary)
	if !strings.HasPrefix(string(md), "## earlier step\n### ❌ amp replay") || !strings.Contains(string(md), "`p(95)<0`") {
		t.Errorf("summary:\n%s", md)
	}

	// Without --fail-if the default thresholds are the cases.
	r = runAmp(t, "replay", rec, "--host", srv.URL, "--iterations", "4", "--think", "none", "--quiet", "--junit", junit)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if s := readJUnitFile(t, junit).Suites[0]; len(s.Cases) != 2 || s.Cases[0].Name != "count>0" || s.Cases[1].Name != "rate<0.05" || s.Failures != 0 {
		t.Errorf("default thresholds: %+v", s)
	}
	// --no-default-thresholds: no case.
	r = runAmp(t, "replay", rec, "--host", srv.URL, "--iterations", "4", "--think", "none", "--quiet", "--junit", junit, "--no-default-thresholds")
	if s := readJUnitFile(t, junit).Suites[0]; r.code != 0 || s.Tests != 0 {
		t.Errorf("--no-default-thresholds: exit %d, %d cases", r.code, s.Tests)
	}
}

// TestReportCIOutputs: amp report writes them for a saved result.
func TestReportCIOutputs(t *testing.T) {
	res := writeResult(t, "run.json", 200, 20*time.Millisecond, 10)
	dir := t.TempDir()
	junit, summary := filepath.Join(dir, "out", "junit.xml"), filepath.Join(dir, "summary.md")
	r := runAmp(t, "report", res, "-q", "--fail-if", "rate<0.01", "--junit", junit, "--summary", summary)
	if r.code != 99 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	s := readJUnitFile(t, junit).Suites[0]
	if s.Tests != 1 || s.Failures != 1 || !strings.Contains(s.Cases[0].Failure.Message, "observed 5%; limit < 1%") {
		t.Errorf("suite %+v", s)
	}
	md, _ := os.ReadFile(summary)
	if !strings.Contains(string(md), "| `GET /articles/{id}` | 200 |") || !strings.Contains(string(md), "| 20 | `GET /articles/{id}` | HTTP 500 |") {
		t.Errorf("summary:\n%s", md)
	}
}

// TestCIOutputsBadPaths: --junit and --summary onto an input, a recording
// or a directory, or in a compare, exit 1 with one line and change nothing.
func TestCIOutputsBadPaths(t *testing.T) {
	dir := t.TempDir()
	rec := writeDemoRecording(t)
	res := writeResult(t, "run.json", 20, time.Millisecond, 0)
	other := writeResult(t, "other.json", 20, time.Millisecond, 0)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"replay", rec, "--host", "http://127.0.0.1:1", "--summary", rec}, "replay: --summary " + rec + " is also an input"},
		{[]string{"replay", rec, "--host", "http://127.0.0.1:1", "--junit", dir}, "replay: --junit " + dir + " is a directory"},
		{[]string{"replay", rec, "--host", "http://127.0.0.1:1", "--junit", filepath.Join(dir, "j"), "--summary", filepath.Join(dir, "j")}, "--summary " + filepath.Join(dir, "j") + " is also the --junit output"},
		{[]string{"replay", rec, "--host", "http://127.0.0.1:1", "--dry-run", "--junit", filepath.Join(dir, "j")}, "--dry-run has no effect here: it sends nothing, so --junit would have nothing to show"},
		{[]string{"report", res, "--summary", rec}, "report: --summary " + rec + " is an amp recording"},
		{[]string{"report", res, "--junit", res}, "report: --junit " + res + " is also an input"},
		{[]string{"report", res, "--junit", filepath.Join(res, "j.xml")}, "is not a directory"},
		{[]string{"report", res, other, "--summary", filepath.Join(dir, "s.md")}, "report: --summary renders one result"},
	}
	for _, tc := range cases {
		before, _ := os.ReadFile(rec)
		r := runAmp(t, tc.args...)
		if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("amp %s: exit %d, stderr %q; want exit 1 and one line with %q", strings.Join(tc.args, " "), r.code, r.stderr, tc.want)
		}
		if after, _ := os.ReadFile(rec); string(after) != string(before) {
			t.Errorf("amp %s changed the recording", strings.Join(tc.args, " "))
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("files were written: %v", ents)
	}
}

// TestConsoleColumns: $COLUMNS narrows the final report.
func TestConsoleColumns(t *testing.T) {
	res := writeResult(t, "run.json", 20, time.Millisecond, 0)
	t.Setenv("COLUMNS", "100")
	r := runAmp(t, "report", res)
	if r.code != 0 || strings.Contains(r.stdout, "failures/s") || !strings.Contains(r.stdout, "slow") {
		t.Fatalf("COLUMNS=100: exit %d\n%s", r.code, r.stdout)
	}
	for _, l := range strings.Split(r.stdout, "\n") {
		if len([]rune(l)) > 100 {
			t.Errorf("line wider than 100 columns: %q", l)
		}
	}
	t.Setenv("COLUMNS", "")
	if r = runAmp(t, "report", res); !strings.Contains(r.stdout, "failures/s") {
		t.Errorf("without COLUMNS (not a terminal): want the wide layout\n%s", r.stdout)
	}
}
