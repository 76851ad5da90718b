package stats_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/stats"
)

func TestConsoleFinalGolden(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := stats.NewConsole(&buf, false).Final(fixture(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, "console_final.golden", buf.Bytes())
	if strings.Contains(buf.String(), "\x1b[") {
		t.Error("escape codes in piped output")
	}
}

// TestConsoleLiveGolden: on a terminal, the live table every 2 s (the
// second update redraws the first).
func TestConsoleLiveGolden(t *testing.T) {
	t.Parallel()
	c := fixtureCollector()
	var buf bytes.Buffer
	con := stats.NewConsole(&buf, true)
	if con.Interval() != 2*time.Second {
		t.Errorf("terminal interval %v, want 2s", con.Interval())
	}
	if err := con.Update(c.Snapshot(), stats.Progress{Elapsed: 2 * time.Second, Duration: time.Minute, Users: -1, Note: "spawning"}); err != nil {
		t.Fatal(err)
	}
	if err := con.Update(c.Snapshot(), stats.Progress{Elapsed: 4 * time.Second, Duration: time.Minute, Users: 20}); err != nil {
		t.Fatal(err)
	}
	golden(t, "console_live.golden", buf.Bytes())
}

// TestConsoleRedrawsOnTTY: on a terminal an update moves the cursor up over
// the previous one and clears it; the final report too.
func TestConsoleRedrawsOnTTY(t *testing.T) {
	t.Parallel()
	r := fixture(t)
	var buf bytes.Buffer
	con := stats.NewConsole(&buf, true)
	_ = con.Update(r, stats.Progress{Elapsed: time.Second})
	first := buf.String()
	if strings.Contains(first, "\x1b[") {
		t.Fatalf("first update has escape codes: %q", first[:20])
	}
	lines := strings.Count(first, "\n")
	buf.Reset()
	_ = con.Update(r, stats.Progress{Elapsed: 3 * time.Second})
	if want := fmt.Sprintf("\x1b[%dA\x1b[J", lines); !strings.HasPrefix(buf.String(), want) {
		t.Errorf("second update starts %q, want %q", buf.String()[:12], want)
	}
	buf.Reset()
	_ = con.Final(r)
	if !strings.HasPrefix(buf.String(), fmt.Sprintf("\x1b[%dA\x1b[J", lines)) || !strings.Contains(buf.String(), "FAIL: ") {
		t.Errorf("final report does not replace the live table: %q", buf.String()[:40])
	}
}

// Locust's CSV headers, byte for byte (locust/stats.py, 2.44+; csv.writer
// ends lines with CRLF).
const (
	locustStats   = "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\r\n"
	locustHistory = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min Response Time,Total Max Response Time,Total Average Content Size\r\n"
	locustFails   = "Method,Name,Error,Occurrences,First Seen,Last Seen\r\n"
	locustExc     = "Count,Message,Traceback,Nodes\r\n"
)

func TestCSVLocustHeadersAndGolden(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	prefix := filepath.Join(dir, "sub", "run") // folders in the prefix are created
	r := fixture(t)
	written, err := stats.Files{CSV: prefix}.Write(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(written) != 1 || !strings.HasPrefix(written[0], "csv: "+prefix+"_stats.csv") {
		t.Errorf("written %q, want one line naming the CSV files", written)
	}
	heads := map[string]string{"_stats.csv": locustStats, "_stats_history.csv": locustHistory,
		"_failures.csv": locustFails, "_exceptions.csv": locustExc}
	if len(stats.CSVSuffixes()) != len(heads) {
		t.Fatalf("CSVSuffixes %q, want Locust's four", stats.CSVSuffixes())
	}
	for _, suffix := range stats.CSVSuffixes() {
		data, err := os.ReadFile(prefix + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if head := heads[suffix]; !bytes.HasPrefix(data, []byte(head)) {
			t.Errorf("%s header:\n%q\nwant Locust's\n%q", suffix, firstLine(data), head)
		}
		golden(t, "csv"+suffix+".golden", data)
		var buf bytes.Buffer
		if err := stats.WriteCSV(&buf, r, suffix); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), data) {
			t.Errorf("WriteCSV %s to a writer differs from the file Files.Write wrote:\n%s", suffix, buf.Bytes())
		}
	}
	traffic, err := os.ReadFile(prefix + stats.TrafficCSV)
	if err != nil {
		t.Fatalf("amp's own %s: %v", stats.TrafficCSV, err)
	}
	golden(t, "csv"+stats.TrafficCSV+".golden", traffic)
	err = stats.WriteCSV(io.Discard, r, "_stats.json")
	if err == nil || !strings.Contains(err.Error(), `"_stats.json"`) {
		t.Errorf("WriteCSV of an unknown suffix: %v, want an error naming it", err)
	}
}

func firstLine(b []byte) string {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return string(b[:i+1])
	}
	return string(b)
}

// TestJSONGolden pins the JSON result: its schema (every key path with its
// type) and the whole document of the fixture.
func TestJSONGolden(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := fixture(t).WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	golden(t, "result.json.golden", buf.Bytes())
	var doc any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	paths := map[string]bool{}
	schemaPaths("", doc, paths)
	var lines []string
	for p := range paths {
		lines = append(lines, p)
	}
	slices.Sort(lines)
	golden(t, "result.schema.golden", []byte(strings.Join(lines, "\n")+"\n"))
	// the fields that scripts rely on
	m := doc.(map[string]any)
	for _, k := range []string{"version", "requests", "failures", "rps", "latency_ms", "endpoints"} {
		if _, ok := m[k]; !ok {
			t.Errorf("top-level %q missing", k)
		}
	}
	for _, k := range []string{"p50", "p95", "p99", "max"} {
		if _, ok := m["latency_ms"].(map[string]any)[k]; !ok {
			t.Errorf("latency_ms.%s missing", k)
		}
	}
}

// schemaPaths collects "path type" for every value in a JSON document;
// object keys that are data (statuses, skipped, config) are shown as *.
func schemaPaths(path string, v any, out map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		out[path+" object"] = true
		data := strings.HasSuffix(path, ".statuses") || strings.HasSuffix(path, ".skipped") || path == ".config"
		for k, e := range x {
			if data {
				k = "*"
			}
			schemaPaths(path+"."+k, e, out)
		}
	case []any:
		out[path+" array"] = true
		for _, e := range x {
			schemaPaths(path+"[]", e, out)
		}
	case string:
		out[path+" string"] = true
	case float64:
		out[path+" number"] = true
	case bool:
		out[path+" bool"] = true
	case nil:
		out[path+" null"] = true
	}
}

func TestReadResultErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct{ name, body, want string }{
		{"bad.json", "{not json", "not an amp result (invalid JSON at byte 2"},
		{"other.json", `{"hello": 1}`, `not an amp result (no "version" and "requests" fields`},
		{"newer.json", `{"version": 7, "requests": 1}`, "result version 7 is not supported"},
		{"nohist.json", `{"version": 1, "requests": 1, "endpoints": [{"method":"GET","name":"/","requests":1}]}`, "endpoint GET / has no latency_hdr"},
		{"badhist.json", `{"version": 1, "requests": 1, "endpoints": [{"method":"GET","name":"/","requests":1,"latency_hdr":"!!","service_hdr":"!!"}]}`, "endpoint GET /: bad histogram"},
	}
	for _, tc := range tests {
		_, err := stats.ReadResult(write(tc.name, tc.body))
		if err == nil || !strings.Contains(err.Error(), tc.name+": ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to name the file and say %q", tc.name, err, tc.want)
		}
	}
	if _, err := stats.ReadResult(filepath.Join(dir, "missing.json")); !os.IsNotExist(err) {
		t.Errorf("missing file: %v", err)
	}
}

func TestCompare(t *testing.T) {
	t.Parallel()
	base := fixture(t)
	// the same run, but /articles/{id} three times slower and failing more
	c := stats.NewCollector(stats.Config{Start: t0})
	art := c.Endpoint("GET", "/articles/{id}")
	home := c.Endpoint("GET", "/")
	search := c.Endpoint("GET", "/search")
	r := c.NewRecorder()
	for i := 0; i < 80; i++ {
		d := time.Duration(5+i%20) * time.Millisecond
		s := sample(time.Duration(i)*50*time.Millisecond, 0, d, 200, "")
		r.Record(home, &s)
		s = sample(time.Duration(i)*50*time.Millisecond, 0, 6*d, 200, "")
		if i%10 == 0 {
			s.Status, s.Failure = 500, "HTTP 500"
		}
		r.Record(art, &s)
		r.Record(search, &s)
	}
	cmp := stats.Compare(base, c.Snapshot())
	verdicts := map[string]string{}
	for _, row := range cmp.Rows {
		verdicts[row.Method+" "+row.Name] = row.Verdict
	}
	want := map[string]string{"GET /": "same", "GET /articles/{id}": "worse", "POST /login": "gone", "GET /search": "new"}
	for k, v := range want {
		if verdicts[k] != v {
			t.Errorf("%s: verdict %q, want %q", k, verdicts[k], v)
		}
	}
	if !cmp.Regressed || !strings.HasPrefix(cmp.Verdict, "REGRESSION: 1 of 4 endpoints worse (GET /articles/{id} ") {
		t.Errorf("verdict %q", cmp.Verdict)
	}
	var buf bytes.Buffer
	if err := cmp.WriteText(&buf, "a.json", "b.json"); err != nil {
		t.Fatal(err)
	}
	golden(t, "compare.golden", buf.Bytes())
	if same := stats.Compare(base, base); same.Regressed || !strings.HasPrefix(same.Verdict, "NO SIGNIFICANT CHANGE") {
		t.Errorf("a run compared with itself: %q", same.Verdict)
	}
}
