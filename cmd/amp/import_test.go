package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/bench/import/pcapgen"
	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/capture/ingest"
	"github.com/ampload/amp/demosite"
	"github.com/ampload/amp/internal/testenv"
)

// writeGenerated writes a small generated keep-alive capture and returns its
// path and what it holds.
func writeGenerated(t *testing.T, dir, name string, size int64) (string, pcapgen.Stats) {
	return writeGeneratedAt(t, dir, name, size, time.Time{})
}

// writeGeneratedAt is writeGenerated with the capture starting at start.
func writeGeneratedAt(t *testing.T, dir, name string, size int64, start time.Time) (string, pcapgen.Stats) {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := pcapgen.Write(f, pcapgen.Config{Size: size, Conns: 8, RequestsPerConn: 20, Seed: 7, Start: start})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path, st
}

// sessionsJSONOf runs amp sessions --json on a recording.
func sessionsJSONOf(t *testing.T, path string) sessionsJSON {
	t.Helper()
	r := runAmp(t, "sessions", "--json", path)
	if r.code != 0 {
		t.Fatalf("amp sessions: %+v", r)
	}
	var out sessionsJSON
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func tasks(s sessionsJSON) []taskJSON {
	var ts []taskJSON
	for _, ss := range s.Sessions {
		ts = append(ts, ss.Tasks...)
	}
	return ts
}

func TestImportCommand(t *testing.T) {
	pcaps := testenv.SharedTestdata(t, "pcap")
	hars := testenv.SharedTestdata(t, "har")
	out := filepath.Join(t.TempDir(), "out.amp")

	// A capture with a request that got no response, and a HAR file, into
	// one recording; flags after the arguments.
	r := runAmp(t, "import", filepath.Join(pcaps, "zeek__http_1000-requests-one-dropped-response.pcap"),
		filepath.Join(hars, "mitmproxy__firefox.har"), "-o", out, "--session-idle", "10m")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	for _, want := range []string{"2 files read", "4102 packets", "1 TCP streams (1 HTTP)", "999 HTTP pairs",
		"1 requests without response", "14 HAR entries", "1014 requests in", "written to " + out} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("summary %q lacks %q", r.stdout, want)
		}
	}
	// Only progress lines (an import's, the replay facts' pass), which show
	// once they take a second, as they may on a loaded machine: no warning.
	progress := regexp.MustCompile(`(?m)^(import: .*\d+ sessions|amp: .*: reading its \d+ sessions once for the replay.*)\n`)
	if rest := progress.ReplaceAllString(r.stderr, ""); rest != "" {
		t.Errorf("stderr: %q", r.stderr)
	}
	s := sessionsJSONOf(t, out)
	ts := tasks(s)
	if s.Source != "pcap,har" || len(ts) != 1014 {
		t.Fatalf("source %q, %d tasks", s.Source, len(ts))
	}
	unmatched := 0
	for _, tk := range ts {
		if tk.Status == 0 {
			unmatched++
			if tk.Flags != "no-response,incomplete" || tk.URL != "http://localhost/" || tk.Method != "GET" {
				t.Errorf("unmatched task %+v", tk)
			}
		}
	}
	if unmatched != 1 {
		t.Errorf("%d tasks with status 0, want 1", unmatched)
	}
	rec, err := capture.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Header.Options["files"] != "zeek__http_1000-requests-one-dropped-response.pcap,mitmproxy__firefox.har" ||
		rec.Header.Options["session-idle"] != "10m0s" || !strings.HasPrefix(rec.Header.Tool, "amp ") {
		t.Errorf("header %+v", rec.Header)
	}

	// The output is not overwritten without --force.
	before, _ := os.ReadFile(out)
	r = runAmp(t, "import", filepath.Join(pcaps, "zeek__wikipedia.pcap"), "-o", out)
	if after, _ := os.ReadFile(out); r.code != 1 || !strings.Contains(r.stderr, "already exists") || !bytes.Equal(before, after) {
		t.Errorf("without --force: %+v", r)
	}
	r = runAmp(t, "import", filepath.Join(pcaps, "zeek__wikipedia.pcap"), "-o", out, "--force", "--port", "80")
	if r.code != 0 || len(tasks(sessionsJSONOf(t, out))) != 15 {
		t.Errorf("with --force: %+v", r)
	}
}

func TestImportUsageErrors(t *testing.T) {
	dir := t.TempDir()
	capFile, _ := writeGenerated(t, dir, "g.pcap", 50_000)
	existing := filepath.Join(dir, "exists.amp")
	if err := os.WriteFile(existing, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	recording, _, _ := writeTestRecording(t)
	// A pcap of link type 147 (USER0) with one packet.
	userLink := filepath.Join(dir, "user.pcap")
	user := binary.LittleEndian.AppendUint32(nil, 0xa1b2c3d4)
	user = binary.LittleEndian.AppendUint16(user, 2)
	user = binary.LittleEndian.AppendUint16(user, 4)
	for _, v := range []uint32{0, 0, 65535, 147, 1, 0, 4, 4} {
		user = binary.LittleEndian.AppendUint32(user, v)
	}
	if err := os.WriteFile(userLink, append(user, "abcd"...), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "o.amp")
	tests := []struct {
		name    string
		args    []string
		want    string
		created bool // the output exists after the command (never: a failed import writes nothing)
	}{
		{"no files", []string{"import", "-o", out}, "import: want one or more capture or HAR files", false},
		{"no output", []string{"import", capFile}, "import: -o FILE is required", false},
		{"missing file", []string{"import", filepath.Join(dir, "nope.pcap"), "-o", out}, "nope.pcap: no such file", false},
		{"not a capture", []string{"import", existing, "-o", out}, "exists.amp: not a packet capture (pcap, pcapng) or HAR file", false},
		{"bad port", []string{"import", capFile, "-o", out, "--port", "80,http"}, `import: --port "http": want a TCP port`, false},
		{"port 0", []string{"import", capFile, "-o", out, "--port", "0"}, `import: --port "0"`, false},
		{"bad format", []string{"import", capFile, "-o", out, "--format", "json"}, `import: --format: unknown format "json"`, false},
		{"bad size", []string{"import", capFile, "-o", out, "--max-body", "lots"}, `import: --max-body "lots"`, false},
		{"bad idle", []string{"import", capFile, "-o", out, "--session-idle", "0s"}, "import: --session-idle 0s", false},
		{"output is an input", []string{"import", existing, "-o", existing, "--force"}, "is also an input", false},
		{"a recording", []string{"import", recording, "-o", out}, "rec.amp is an amp recording already", false},
		{"unsupported link type", []string{"import", userLink, "-o", out}, "user.pcap: link type LINKTYPE_147 is not supported", false},
		{"output is a directory", []string{"import", capFile, "-o", dir}, "is a directory", false},
		{"wrong forced format", []string{"import", capFile, "-o", out, "--format", "har"}, "invalid JSON at byte 1", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runAmp(t, tc.args...)
			if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("code %d, stderr %q, want one line with %q", r.code, r.stderr, tc.want)
			}
			if strings.Contains(r.stderr, "goroutine") || strings.Contains(r.stdout, "USAGE") {
				t.Errorf("stack trace or help dump: %q", r.stderr)
			}
			if _, err := os.Stat(out); (err == nil) != tc.created {
				t.Errorf("output exists: %v", err == nil)
			}
			_ = os.Remove(out)
		})
	}
}

// TestImportGenerated imports generated captures: formats detected by
// content (gzip too), several files grouped into the same sessions.
func TestImportGenerated(t *testing.T) {
	dir := t.TempDir()
	a, st := writeGenerated(t, dir, "a.pcap", 300_000)
	// The same users ten minutes later.
	later, _ := writeGeneratedAt(t, dir, "later.pcap", 300_000, time.Date(2026, 3, 1, 9, 10, 0, 0, time.UTC))
	raw, err := os.ReadFile(later)
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	b := filepath.Join(dir, "b.capture") // the name says nothing
	if err := os.WriteFile(b, gz.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	one := filepath.Join(dir, "one.amp")
	if r := runAmp(t, "import", a, "-o", one, "-q"); r.code != 0 {
		t.Fatalf("%+v", r)
	}
	s1 := sessionsJSONOf(t, one)
	if len(tasks(s1)) != st.Exchanges {
		t.Fatalf("%d tasks, %d exchanges generated", len(tasks(s1)), st.Exchanges)
	}
	// The same users again (their session cookies) in a second, gzipped
	// file: the sessions continue across files.
	two := filepath.Join(dir, "two.amp")
	r := runAmp(t, "import", a, b, "-o", two)
	if r.code != 0 || !strings.Contains(r.stdout, "2 files read") {
		t.Fatalf("%+v", r)
	}
	s2 := sessionsJSONOf(t, two)
	if len(tasks(s2)) != 2*st.Exchanges || len(s2.Sessions) != len(s1.Sessions) {
		t.Errorf("two files: %d tasks in %d sessions; one file: %d in %d", len(tasks(s2)), len(s2.Sessions), len(tasks(s1)), len(s1.Sessions))
	}
}

// TestImportDamagedCaptures: a capture cut short imports what came before
// with a warning; a corrupt one keeps what came before and fails.
func TestImportDamagedCaptures(t *testing.T) {
	dir := t.TempDir()
	path, st := writeGenerated(t, dir, "g.pcap", 200_000)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.pcap")
	if err := os.WriteFile(cut, data[:len(data)-7], 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "cut.amp")
	r := runAmp(t, "import", cut, "-o", out)
	if r.code != 0 || !regexp.MustCompile(`^amp: warning: import: .*cut\.pcap: cut short at byte \d+ after \d+ packets: .*; imported the packets before it\n$`).MatchString(r.stderr) {
		t.Fatalf("%+v", r)
	}
	if n := len(tasks(sessionsJSONOf(t, out))); n < st.Exchanges-1 || n > st.Exchanges {
		t.Errorf("%d tasks from a capture of %d exchanges cut in its last packet", n, st.Exchanges)
	}

	// Break the length of a record in the middle of the file.
	bad := append([]byte(nil), data...)
	off := 24
	for i := 0; i < 200; i++ {
		off += 16 + int(binary.LittleEndian.Uint32(bad[off+8:]))
	}
	binary.LittleEndian.PutUint32(bad[off+8:], 0x7fffffff)
	badPath := filepath.Join(dir, "bad.pcap")
	if err := os.WriteFile(badPath, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	out = filepath.Join(dir, "bad.amp")
	r = runAmp(t, "import", badPath, "-o", out)
	want := fmt.Sprintf("amp: import: %s: bad data at byte %d after 200 packets: packet record claims 2147483647 bytes; nothing was written to %s\n", badPath, off, out)
	if r.code != 1 || r.stderr != want {
		t.Fatalf("%+v\nwant %q", r, want)
	}
	// A failed import leaves nothing behind, not even a temporary file.
	if ents, _ := filepath.Glob(filepath.Join(dir, "*bad.amp*")); len(ents) != 0 {
		t.Errorf("a failed import left %v", ents)
	}
}

// TestImportProgress checks the progress line of a long import.
func TestImportProgress(t *testing.T) {
	var stderr bytes.Buffer
	progress := importProgress(&stderr, time.Now().Add(-3*time.Second))
	progress(ingest.Progress{Path: "/data/big.pcap", Read: 50 << 20, Size: 200 << 20, Packets: 7, Requests: 3, Sessions: 1})
	progress(ingest.Progress{Path: "/data/big.pcap", Read: 51 << 20, Size: 200 << 20}) // within the same second: nothing
	if got := stderr.String(); got != "import: big.pcap  25% (50.0 MiB), 7 packets, 3 requests, 1 sessions\n" {
		t.Errorf("progress %q", got)
	}
	stderr.Reset()
	progress = importProgress(&stderr, time.Now())
	progress(ingest.Progress{Path: "/data/big.pcap", Read: 1, Size: 2}) // in the first second: nothing
	if stderr.Len() != 0 {
		t.Errorf("progress in the first second: %q", stderr.String())
	}
}

// TestCaptureCommand captures a demo site session on the loopback interface
// (as root; skipped otherwise, but not under CI).
func TestCaptureCommand(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Missing(t, "amp capture needs root (a raw packet socket): run the tests as root")
	}
	srv := httptest.NewServer(demosite.New(demosite.Config{}))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	out := filepath.Join(t.TempDir(), "live.amp")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"amp", "capture", "--iface", "lo", "--port", fmt.Sprint(port), "-o", out}, &stdout, &stderr)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stdout.String(), "capturing") {
		select {
		case code := <-done:
			t.Fatalf("capture exited with %d: %q %q", code, stdout.String(), stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("capture did not start: %q %q", stdout.String(), stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	paths := []string{"/", "/articles", "/articles/1", "/healthz", "/"}
	for _, p := range paths {
		resp, err := client.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	cancel() // Ctrl-C
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit code %d: %q", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("capture did not stop")
	}
	if !strings.Contains(stdout.String(), fmt.Sprintf("%d requests in 1 sessions written", len(paths))) {
		t.Errorf("summary: %q", stdout.String())
	}
	s := sessionsJSONOf(t, out)
	ts := tasks(s)
	if s.Source != "capture" || len(ts) != len(paths) {
		t.Fatalf("source %q, %d tasks, want %d", s.Source, len(ts), len(paths))
	}
	for i, tk := range ts {
		if tk.URL != srv.URL+paths[i] || tk.Method != "GET" || tk.Status == 0 || tk.Flags != "" {
			t.Errorf("task %d: %+v", i, tk)
		}
	}
}

// TestCaptureUsageErrors checks the capture command's bad input.
func TestCaptureUsageErrors(t *testing.T) {
	out := filepath.Join(t.TempDir(), "o.amp")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"capture", "-o", out}, "capture: --iface NAME is required"},
		{[]string{"capture", "--iface", "lo"}, "capture: -o FILE is required"},
		{[]string{"capture", "--iface", "lo", "-o", out, "--port", "99999"}, `capture: --port "99999"`},
		{[]string{"capture", "--iface", "no-such-iface0", "-o", out}, "capture: interface no-such-iface0: no such network interface"},
		{[]string{"capture", "--iface", "lo", "-o", out, "extra"}, "capture: takes no arguments"},
	}
	for _, tc := range tests {
		r := runAmp(t, tc.args...)
		if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("amp %v: code %d, stderr %q, want %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed capture left an output behind")
	}
}
