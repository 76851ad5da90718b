package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
)

// result is what one run of amp produced.
type result struct {
	code           int
	stdout, stderr string
}

// runAmp runs amp in-process with args (without the program name).
//
// Tests of this package do not run in parallel: urfave/cli applies its
// package-level help and version flags on every run, which races.
func runAmp(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"amp"}, args...), &stdout, &stderr)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func TestHelpAndVersion(t *testing.T) {
	app := newApp(io.Discard, io.Discard)
	cases := [][]string{{"--help"}, {"-h"}}
	for _, cmd := range app.Commands {
		cases = append(cases, []string{cmd.Name, "--help"}, []string{"help", cmd.Name})
	}
	for _, args := range cases {
		r := runAmp(t, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "USAGE") || r.stderr != "" {
			t.Errorf("amp %v: code %d, stderr %q, stdout %q", args, r.code, r.stderr, r.stdout)
		}
	}
	for _, cmd := range app.Commands {
		if cmd.Usage == "" || !strings.Contains(cmd.UsageText, "amp "+cmd.Name) {
			t.Errorf("command %s lacks a one-line usage or examples", cmd.Name)
		}
	}
	if r := runAmp(t, "--version"); r.code != 0 || !strings.HasPrefix(r.stdout, "amp version ") {
		t.Errorf("--version: %+v", r)
	}
}

func TestUsageErrorsAreOneLine(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "unknown command", args: []string{"frobnicate"}, want: `unknown command "frobnicate"`},
		{name: "unknown flag", args: []string{"sessions", "--bogus", "x.amp"}, want: "sessions: flag provided but not defined: -bogus"},
		{name: "unknown flag after the argument", args: []string{"sessions", "x.amp", "--bogus"}, want: "flag provided but not defined: -bogus"},
		{name: "missing argument", args: []string{"sessions"}, want: "sessions: want one recording file, got 0"},
		{name: "bad flag value", args: []string{"demosite", "--capacity", "many"}, want: `invalid value "many" for flag -capacity`},
		{name: "invalid config", args: []string{"demosite", "--error-rate", "2", "--latency", "-1s"}, want: "error rate 2 is outside 0..1"},
		{name: "missing file", args: []string{"sessions", "nope.amp"}, want: "nope.amp: no such file"},
		{name: "not a recording", args: []string{"sessions", "main.go"}, want: "main.go: not an amp recording"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runAmp(t, tc.args...)
			if r.code != 1 {
				t.Errorf("exit code %d, want 1", r.code)
			}
			if strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr %q, want one line with %q", r.stderr, tc.want)
			}
			if strings.Contains(r.stdout, "USAGE") || strings.Contains(r.stderr, "goroutine") {
				t.Errorf("help dump or stack trace: %q %q", r.stdout, r.stderr)
			}
		})
	}
}

func TestReorderArgs(t *testing.T) {
	app := newApp(io.Discard, io.Discard)
	tests := []struct {
		in, want string
	}{
		{in: "amp sessions rec.amp --json -v", want: "amp sessions --json -v rec.amp"},
		{in: "amp sessions -v rec.amp --json", want: "amp sessions -v --json rec.amp"},
		{in: "amp demosite --addr :0 --capacity 5", want: "amp demosite --addr :0 --capacity 5"},
		// A value that looks like a flag stays with its flag.
		{in: "amp demosite --addr -weird x", want: "amp demosite --addr -weird x"},
		{in: "amp demosite x --latency=5ms", want: "amp demosite --latency=5ms x"},
		// After "--" everything is an argument.
		{in: "amp sessions -- --json", want: "amp sessions -- --json"},
	}
	for _, tc := range tests {
		got := strings.Join(reorderArgs(app, strings.Fields(tc.in)), " ")
		if got != tc.want {
			t.Errorf("reorder(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// writeTestRecording writes a recording of three users' sessions and returns
// its path, its bytes and the offset at which each exchange record ends.
func writeTestRecording(t *testing.T) (string, []byte, []int) {
	t.Helper()
	var buf bytes.Buffer
	w, err := capture.NewWriter(&buf, capture.FileHeader{Source: "test", Created: time.Unix(1_700_000_000, 0).UTC()})
	if err != nil {
		t.Fatal(err)
	}
	g := capture.NewGrouper(capture.GroupConfig{})
	t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	var ends []int
	for i := 0; i < 12; i++ {
		user := i % 3
		e := &capture.Exchange{
			Client: fmt.Sprintf("127.0.0.%d:4000%d", user+1, i), Start: t0.Add(time.Duration(i) * time.Second),
			TTFB: 3 * time.Millisecond, Duration: 5 * time.Millisecond,
			Request: capture.Request{Method: "GET", URL: fmt.Sprintf("http://demo.local/articles/%d", i), Proto: "HTTP/1.1",
				Header: capture.Headers{{Name: "User-Agent", Value: "test"}}},
			Response: capture.Response{Status: 200, Proto: "HTTP/1.1", Body: []byte("hello"), BodySize: 5},
		}
		if i == 11 {
			e.Response = capture.Response{BodySize: -1}
			e.Flags = capture.FlagNoResponse
		}
		g.Assign(e)
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		ends = append(ends, buf.Len())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rec.amp")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, buf.Bytes(), ends
}

func TestSessions(t *testing.T) {
	path, _, _ := writeTestRecording(t)

	r := runAmp(t, "sessions", path)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("%+v", r)
	}
	if !strings.Contains(r.stdout, "SESSION") || !strings.Contains(r.stdout, "3 sessions, 12 requests") {
		t.Errorf("table:\n%s", r.stdout)
	}

	r = runAmp(t, "sessions", path, "-v") // flag after the argument
	if r.code != 0 || strings.Count(r.stdout, "http://demo.local/articles/") != 12 {
		t.Errorf("verbose:\n%s", r.stdout)
	}

	r = runAmp(t, "sessions", path, "--json")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	var out struct {
		Sessions []struct {
			ID     string
			Client string
			Start  time.Time
			Tasks  []struct {
				Method     string
				URL        string
				Status     int
				AtMS       float64 `json:"at_ms"`
				TTFBMS     float64 `json:"ttfb_ms"`
				DurationMS float64 `json:"duration_ms"`
			}
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Sessions) != 3 {
		t.Fatalf("%d sessions, want 3", len(out.Sessions))
	}
	s := out.Sessions[0]
	if s.ID != "1" || s.Client != "127.0.0.1:40000" || len(s.Tasks) != 4 {
		t.Fatalf("first session: %+v", s)
	}
	if tk := s.Tasks[1]; tk.Method != "GET" || tk.URL != "http://demo.local/articles/3" || tk.Status != 200 ||
		tk.AtMS != 3000 || tk.TTFBMS != 3 || tk.DurationMS != 5 {
		t.Errorf("task: %+v", tk)
	}
	if last := out.Sessions[2].Tasks[3]; last.Status != 0 {
		t.Errorf("a request without response has status %d, want 0", last.Status)
	}
}

// TestSessionsOnCutFile runs amp sessions on the recording cut at every byte.
func TestSessionsOnCutFile(t *testing.T) {
	_, data, ends := writeTestRecording(t)
	dir := t.TempDir()
	headerEnd := ends[0] - (ends[1] - ends[0])
	truncated := regexp.MustCompile(`^amp: warning: .*cut\.amp: truncated after record (\d+) .*; listed the (\d+) whole records before it\n$`)
	for cut := 1; cut < len(data); cut++ {
		path := filepath.Join(dir, "cut.amp")
		if err := os.WriteFile(path, data[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		r := runAmp(t, "sessions", "--json", path)
		if cut < headerEnd { // inside the magic, version or header record
			if r.code != 1 || strings.Count(r.stderr, "\n") != 1 {
				t.Fatalf("cut %d in the header: %+v", cut, r)
			}
			continue
		}
		whole := 0
		for whole < len(ends) && ends[whole] <= cut {
			whole++
		}
		var out struct {
			Sessions []struct{ Tasks []json.RawMessage }
		}
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("cut %d: %v in %q", cut, err, r.stdout)
		}
		tasks := 0
		for _, s := range out.Sessions {
			tasks += len(s.Tasks)
		}
		m := truncated.FindStringSubmatch(r.stderr)
		if r.code != 0 || tasks != whole || m == nil || m[1] != fmt.Sprint(whole) {
			t.Fatalf("cut %d: code %d, %d tasks listed, want %d; stderr %q", cut, r.code, tasks, whole, r.stderr)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestDemositeCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"amp", "demosite", "--addr", "127.0.0.1:0", "--latency", "0", "--jitter", "0"}, &stdout, &stderr)
	}()
	addr := regexp.MustCompile(`http://127\.0\.0\.1:\d+`)
	deadline := time.Now().Add(10 * time.Second)
	for addr.FindString(stdout.String()) == "" {
		if time.Now().After(deadline) {
			t.Fatalf("no address printed: %q %q", stdout.String(), stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	base := addr.FindString(stdout.String())
	for i := 1; i <= 2; i++ {
		resp, err := http.Get(base + "/")
		if err != nil {
			t.Fatal(err)
		}
		body := bufio.NewScanner(resp.Body)
		found := false
		for body.Scan() {
			found = found || strings.Contains(body.Text(), fmt.Sprint(i))
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || !found {
			t.Fatalf("GET / #%d: status %d, counter %d not shown", i, resp.StatusCode, i)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit code %d, stderr %q", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("demosite did not stop on cancel")
	}
}
