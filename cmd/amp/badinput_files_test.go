package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/stats"
)

// snapshot maps each file and directory under dir to its mode and a hash of
// its content: what a command that refuses its input must leave alone.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		v := info.Mode().String()
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			v += fmt.Sprintf(" %x", sha256.Sum256(b))
		}
		m[p] = v
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// diffSnapshots names what differs between two snapshots.
func diffSnapshots(before, after map[string]string) []string {
	var d []string
	for p, v := range before {
		if w, ok := after[p]; !ok {
			d = append(d, "removed "+p)
		} else if v != w {
			d = append(d, "changed "+p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			d = append(d, "created "+p)
		}
	}
	slices.Sort(d)
	return d
}

// writeRunResult writes a small result of the run with this id (shard "" =
// unsharded) at path.
func writeRunResult(t *testing.T, path, runID, shard string, n int) {
	t.Helper()
	t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	c := stats.NewCollector(stats.Config{Start: t0, Now: func() time.Time { return t0 }})
	cfg := map[string]any{stats.ConfigRunID: runID, stats.ConfigRecordingID: "00000000000000aa"}
	if shard != "" {
		cfg[stats.ConfigShard] = shard
	}
	c.SetConfig(cfg)
	ep := c.Endpoint("GET", "/")
	r := c.NewRecorder()
	for i := range n {
		sent := t0.Add(time.Duration(i) * time.Millisecond)
		s := stats.Sample{Sent: sent, Intended: sent, Done: sent.Add(time.Millisecond), Status: 200}
		r.Record(ep, &s)
	}
	r.Flush()
	if _, err := (stats.Files{JSON: path}).Write(c.Snapshot()); err != nil {
		t.Fatal(err)
	}
}

// TestBadInputFiles runs every command with outputs that would destroy an
// input or a recording, or cannot be written, and with inputs that cannot
// be merged or imported: each exits 1 with one line naming the flag or file,
// before any work, and leaves the file system as it was.
func TestBadInputFiles(t *testing.T) {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	rec, _, _ := writeTestRecording(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(rec)
	must(err)
	must(os.WriteFile(p("shop.amp"), data, 0o600))
	must(os.WriteFile(p("other.amp"), data, 0o600))
	must(os.Symlink(p("shop.amp"), p("link.json")))
	must(os.Link(p("shop.amp"), p("hard_stats.csv")))
	must(os.WriteFile(p("notes.txt"), []byte("keep me"), 0o644))
	must(os.WriteFile(p("bad.json"), []byte("{not json"), 0o644))
	must(os.WriteFile(p("empty.har"), []byte(`{"log":{"version":"1.2","creator":{"name":"x","version":"1"},"entries":[{"request":{"method":"","url":"nope"}}]}}`), 0o644))
	har := `{"log":{"version":"1.2","creator":{"name":"x","version":"1"},"entries":[{"startedDateTime":"2026-11-26T09:00:00Z","time":5,` +
		`"request":{"method":"GET","url":"http://shop.example/","httpVersion":"HTTP/1.1","headers":[],"queryString":[],"cookies":[],"headersSize":-1,"bodySize":0},` +
		`"response":{"status":200,"statusText":"OK","httpVersion":"HTTP/1.1","headers":[],"cookies":[],"content":{"size":0,"mimeType":"text/html"},"redirectURL":"","headersSize":-1,"bodySize":0},` +
		`"cache":{},"timings":{"send":0,"wait":5,"receive":0}}]}}`
	must(os.WriteFile(p("ok.har"), []byte(har), 0o644))
	must(os.Symlink(p("ok.har"), p("har-link.amp")))
	w, err := capture.Create(p("old-demo.amp"), capture.FileHeader{Source: "proxy", Tool: "amp demo devel"})
	must(err)
	must(w.Close())
	writeRunResult(t, p("run1.json"), "1111111111111111", "", 10)
	writeRunResult(t, p("run2.json"), "2222222222222222", "", 20)
	writeRunResult(t, p("s0.json"), "3333333333333333", "0/2", 10)
	writeRunResult(t, p("s0-again.json"), "3333333333333333", "0/2", 11)
	d1, err := os.ReadFile(p("run1.json"))
	must(err)
	must(os.WriteFile(p("copy-of-run1.json"), d1, 0o644))
	// A directory amp cannot write in (root writes anywhere but /proc).
	ro := p("ro")
	must(os.Mkdir(ro, 0o500))
	unwritable := filepath.Join(ro, "r.json")
	if os.Geteuid() == 0 && runtime.GOOS == "linux" {
		unwritable = "/proc/r.json"
	}
	// A target that must never be reached: every case fails before the run.
	var mu sync.Mutex
	reached := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		reached++
		mu.Unlock()
	}))
	defer srv.Close()
	replay := func(args ...string) []string {
		return append([]string{"replay", p("shop.amp"), "--host", srv.URL, "--iterations", "1", "--think", "none", "-q"}, args...)
	}

	tests := []struct {
		name string
		args []string
		want string // in the one line on stderr
	}{
		{"replay --json onto the recording", replay("--json", p("shop.amp")), "replay: --json " + p("shop.amp") + " is also an input"},
		{"replay --html onto a symlink to the recording", replay("--html", p("link.json")), "--html " + p("link.json") + " is the input " + p("shop.amp") + " (a link to it)"},
		{"replay --csv onto a hard link to the recording", replay("--csv", p("hard")), "--csv " + p("hard_stats.csv") + " is the input"},
		{"replay --json onto another recording", replay("--json", p("other.amp")), "--json " + p("other.amp") + " is an amp recording"},
		{"replay --cpuprofile onto the recording", replay("--cpuprofile", p("shop.amp")), "--cpuprofile " + p("shop.amp") + " is also an input"},
		{"replay --json and --html one file", replay("--json", p("r.out"), "--html", p("r.out")), "--html " + p("r.out") + " is also the --json output"},
		{"replay --json under a file", replay("--json", p("notes.txt/r.json")), "--json " + p("notes.txt/r.json") + ": " + p("notes.txt") + " is not a directory"},
		{"replay --json in an unwritable directory", replay("--json", unwritable), "--json " + unwritable + ": cannot write in"},
		{"replay --json onto a directory", replay("--json", ro), "--json " + ro + " is a directory"},
		{"report --json onto its input", []string{"report", p("run1.json"), "--json", p("run1.json")}, "report: --json " + p("run1.json") + " is also an input"},
		{"report --html onto a recording", []string{"report", p("run1.json"), "--html", p("shop.amp")}, "--html " + p("shop.amp") + " is an amp recording"},
		{"report --csv under a file", []string{"report", p("run1.json"), "--csv", p("notes.txt/x")}, "--csv " + p("notes.txt/x_stats.csv")},
		{"report merge -o onto an input", []string{"report", "merge", p("run1.json"), p("s0.json"), "-o", p("s0.json")}, "--json " + p("s0.json") + " is also an input"},
		{"report merge one file twice", []string{"report", "merge", p("run1.json"), p("run1.json"), "-o", p("all.json")}, "report: merge: " + p("run1.json") + " and " + p("run1.json") + " are the same result"},
		{"report merge a copy", []string{"report", "merge", p("run1.json"), p("copy-of-run1.json"), "-o", p("all.json")}, "and " + p("copy-of-run1.json") + " are the same result"},
		{"report merge one shard twice", []string{"report", "merge", p("s0.json"), p("s0-again.json"), "-o", p("all.json")}, "are the same part of run 3333333333333333 (shard 0/2)"},
		{"report merge two runs", []string{"report", "merge", p("run1.json"), p("run2.json"), "-o", p("all.json")}, "are results of different runs (run 1111111111111111 and run 2222222222222222)"},
		{"report --force without merge", []string{"report", p("run1.json"), "--force"}, "report: --force is for merging results"},
		{"import onto a recording", []string{"import", p("ok.har"), "-o", p("shop.amp")}, "import: -o " + p("shop.amp") + " already exists; nothing was changed"},
		{"import a bad file over a recording, forced", []string{"import", p("bad.json"), "--format", "har", "-o", p("shop.amp"), "--force"}, p("shop.amp") + " is unchanged"},
		{"import a bad file", []string{"import", p("bad.json"), "--format", "har", "-o", p("new.amp")}, "nothing was written to " + p("new.amp")},
		{"import nothing importable", []string{"import", p("empty.har"), "-o", p("new.amp")}, "import: no HTTP exchange found in " + p("empty.har") + " (1 warning above); nothing was written to " + p("new.amp")},
		{"import onto its input, forced", []string{"import", p("ok.har"), "-o", p("ok.har"), "--force"}, "-o " + p("ok.har") + " is also an input"},
		{"import onto a link to its input, forced", []string{"import", p("ok.har"), "-o", p("har-link.amp"), "--force"}, "is the input " + p("ok.har") + " (a link to it)"},
		{"import into an unwritable directory", []string{"import", p("ok.har"), "-o", strings.TrimSuffix(unwritable, ".json") + ".amp"}, "cannot write in"},
		{"record onto a recording", []string{"record", "-o", p("shop.amp"), "--listen", "127.0.0.1:0", "--no-mitm"}, "record: -o " + p("shop.amp") + " already exists; nothing was changed (use --force"},
		{"record onto its CA certificate, forced", []string{"record", "-o", p("notes.txt"), "--force", "--listen", "127.0.0.1:0", "--ca-cert", p("notes.txt"), "--ca-key", p("bad.json")}, "record: -o " + p("notes.txt") + " is also an input"},
		{"capture onto a recording", []string{"capture", "--iface", "lo", "-o", p("shop.amp")}, "capture: -o " + p("shop.amp") + " already exists"},
		{"demo onto a recording it did not make", []string{"demo", "-o", p("shop.amp")}, "demo: -o " + p("shop.amp") + " exists and is not an amp demo recording; nothing was changed"},
		{"demo --html onto a recording", []string{"demo", "-o", p("demo.amp"), "--html", p("other.amp")}, "demo: --html " + p("other.amp") + " is an amp recording"},
		// An earlier demo's recording may be replaced: the refusal is the --html one.
		{"demo over an earlier demo, --html onto a recording", []string{"demo", "-o", p("old-demo.amp"), "--html", p("other.amp")}, "demo: --html " + p("other.amp") + " is an amp recording"},
		{"demo --json onto its -o", []string{"demo", "-o", p("demo.amp"), "--json", p("demo.amp")}, "--json " + p("demo.amp") + " is also the -o output"},
		{"kube collect into a file", []string{"kube", "collect", "--from-logs", p("notes.txt"), "-o", p("notes.txt")}, "kube collect: -o " + p("notes.txt") + ": " + p("notes.txt") + " is not a directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, dir)
			r := runAmp(t, tc.args...)
			// One line of error; warnings before it may say why.
			lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
			errLine := lines[len(lines)-1]
			for _, l := range lines[:len(lines)-1] {
				if !strings.HasPrefix(l, "amp: warning: ") {
					errLine = r.stderr // more than one line of error
				}
			}
			if r.code != 1 || !strings.HasPrefix(errLine, "amp: ") || strings.Contains(errLine, "\n") || !strings.Contains(errLine, tc.want) {
				t.Errorf("amp %s:\ncode %d, stderr %q\nwant exit 1 and one line with %q", strings.Join(tc.args, " "), r.code, r.stderr, tc.want)
			}
			if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stdout, "USAGE") {
				t.Errorf("a stack trace or a help dump: %q", r.stderr)
			}
			if d := diffSnapshots(before, snapshot(t, dir)); len(d) > 0 {
				t.Errorf("the file system changed: %s", strings.Join(d, ", "))
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if reached > 0 {
		t.Errorf("the target got %d requests: a check came after the run", reached)
	}
}

// TestOutputsAllAttempted checks that one output failing (a directory is
// in the way of --json when the run ends) does not stop the others, and
// that the exit code says so.
func TestOutputsAllAttempted(t *testing.T) {
	dir := t.TempDir()
	res := filepath.Join(dir, "run.json")
	writeRunResult(t, res, "4444444444444444", "", 5)
	jsonOut, htmlOut := filepath.Join(dir, "again.json"), filepath.Join(dir, "r.html")
	// Simulate the directory appearing after the check: render from a
	// library call, as finish does, with files that are checked fine.
	r, err := stats.ReadResult(res)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(jsonOut, 0o755); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	err = writeOutputs(&out, r, stats.Files{JSON: jsonOut, CSV: filepath.Join(dir, "csv", "run"), HTML: htmlOut})
	if err == nil || !strings.Contains(err.Error(), "--json "+jsonOut) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v, want one line naming --json", err)
	}
	for _, f := range []string{htmlOut, filepath.Join(dir, "csv", "run_stats.csv")} {
		if st, err := os.Stat(f); err != nil || st.Size() == 0 {
			t.Errorf("%s not written after --json failed: %v", f, err)
		}
	}
	if !strings.Contains(out.String(), "report: "+htmlOut) {
		t.Errorf("output %q does not say where the report went", out.String())
	}
}

// TestImportReplacesOnlyOnSuccess checks that a successful forced import
// replaces the recording whole (mode 0600) and leaves no temporary file.
func TestImportReplacesOnlyOnSuccess(t *testing.T) {
	dir := t.TempDir()
	har := filepath.Join(dir, "ok.har")
	if err := os.WriteFile(har, []byte(`{"log":{"version":"1.2","creator":{"name":"x","version":"1"},"entries":[{"startedDateTime":"2026-11-26T09:00:00Z","time":5,`+
		`"request":{"method":"GET","url":"http://shop.example/a","httpVersion":"HTTP/1.1","headers":[],"queryString":[],"cookies":[],"headersSize":-1,"bodySize":0},`+
		`"response":{"status":200,"statusText":"OK","httpVersion":"HTTP/1.1","headers":[],"cookies":[],"content":{"size":0,"mimeType":"text/html"},"redirectURL":"","headersSize":-1,"bodySize":0},`+
		`"cache":{},"timings":{"send":0,"wait":5,"receive":0}}]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "shop.amp")
	if err := os.WriteFile(out, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runAmp(t, "import", har, "-o", out, "--force", "-q"); r.code != 0 {
		t.Fatalf("%+v", r)
	}
	rec, err := capture.ReadFile(out)
	if err != nil || rec.Exchanges() != 1 {
		t.Fatalf("imported: %v, %+v", err, rec)
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 3 {
		t.Errorf("%d files, want the HAR, the recording and its index for the replay", len(ents))
	}
}

// TestReplayDamagedRecording flips one byte in the middle of a recording:
// amp sessions lists, and amp replay replays, every other exchange, each
// saying on one line what it skipped.
func TestReplayDamagedRecording(t *testing.T) {
	path, data, ends := writeTestRecording(t)
	bad := slices.Clone(data)
	k := 5 // the damaged exchange: /articles/5
	at := (ends[k-1] + ends[k]) / 2
	bad[at] ^= 0x10
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	skipped := regexp.MustCompile(`^amp: warning: .*rec\.amp: skipped 1 damaged record at byte ` + fmt.Sprint(ends[k-1]) + ` \(\d+ bytes: checksum mismatch\); (listed|replaying) the 11 intact records\n$`)

	r := runAmp(t, "sessions", "--json", path)
	if r.code != 0 || !skipped.MatchString(r.stderr) {
		t.Fatalf("sessions: %+v", r)
	}
	var listed []string
	var list sessionsJSON
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks(list) {
		listed = append(listed, task.URL)
	}

	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		got = append(got, req.URL.Path)
		mu.Unlock()
	}))
	defer srv.Close()
	r = runAmp(t, "replay", path, "--host", srv.URL, "--timeline", "--speed", "1000", "--think", "none", "-q", "--no-validate")
	if r.code != 0 || !skipped.MatchString(r.stderr) {
		t.Fatalf("replay: %+v", r)
	}
	slices.Sort(got)
	var want []string
	for i := range 12 {
		if i != k {
			want = append(want, fmt.Sprintf("/articles/%d", i))
		}
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("replayed %q\nwant every intact exchange %q", got, want)
	}
	if len(listed) != 11 {
		t.Errorf("sessions listed %d tasks, want 11: %q", len(listed), listed)
	}
}
