package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/internal/testenv"
	"github.com/ampload/amp/proxy"
)

func TestRecordUsageErrors(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "old.amp")
	if err := os.WriteFile(existing, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "no output", args: []string{"record"}, want: "record: -o FILE is required"},
		{name: "remote listen", args: []string{"record", "-o", filepath.Join(dir, "a.amp"), "--listen", "0.0.0.0:8080"},
			want: "record: --listen 0.0.0.0:8080 is reachable from other machines and needs --allow-remote"},
		{name: "existing output", args: []string{"record", "-o", existing, "--target", "http://127.0.0.1:1"}, want: "already exists; nothing was changed (use --force"},
		{name: "bad size", args: []string{"record", "-o", filepath.Join(dir, "b.amp"), "--max-body", "lots"}, want: `record: --max-body "lots"`},
		{name: "bad target", args: []string{"record", "-o", filepath.Join(dir, "c.amp"), "--target", "ftp://x"}, want: "--target \"ftp://x\": want an http:// or https:// URL"},
		{name: "bad regex and cidr together", args: []string{"record", "-o", filepath.Join(dir, "d.amp"), "--exclude-path", "(", "--allow-remote", "nope"},
			want: "--allow-remote \"nope\""},
		{name: "argument", args: []string{"record", "-o", filepath.Join(dir, "e.amp"), "extra"}, want: "record: takes no arguments"},
		{name: "half a CA", args: []string{"record", "-o", filepath.Join(dir, "f.amp"), "--ca-cert", "x.pem"}, want: "--ca-cert and --ca-key go together"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runAmp(t, tc.args...)
			if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("code %d, stderr %q, want one line with %q", r.code, r.stderr, tc.want)
			}
		})
	}
	if b, _ := os.ReadFile(existing); string(b) != "precious" {
		t.Errorf("existing recording changed to %q", b)
	}
	for _, name := range []string{"a.amp", "b.amp", "c.amp", "d.amp", "e.amp", "f.amp"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("%s created despite the usage error", name)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"65536", 65536, true}, {"64k", 64 << 10, true}, {"1MiB", 1 << 20, true}, {"1.5M", 3 << 19, true},
		{"2 GB", 2 << 30, true}, {"", 0, false}, {"-1", 0, false}, {"1T", 0, false}, {"k", 0, false},
	}
	for _, tc := range tests {
		got, err := parseSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v", tc.in, got, err)
		}
	}
}

func TestCACommand(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca-key.pem")
	r := runAmp(t, "ca", "--ca-cert", cert, "--ca-key", key)
	if _, err := os.Stat(cert); r.code != 1 || !strings.Contains(r.stderr, "--ca-cert "+cert+": no such file (add --create") || err == nil {
		t.Fatalf("amp ca on missing files without --create: %+v", r)
	}
	r = runAmp(t, "ca", "--ca-cert", cert, "--ca-key", key, "--create")
	if r.code != 0 || !strings.Contains(r.stdout, "created a new CA") || !strings.Contains(r.stdout, "curl --cacert "+cert) ||
		!strings.Contains(r.stdout, "SSL_CERT_FILE="+cert) || !strings.Contains(r.stdout, "SHA-256") {
		t.Fatalf("amp ca: %+v", r)
	}
	st, err := os.Stat(key)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key: %v %v", st, err)
	}
	r = runAmp(t, "ca", "--ca-cert", cert, "--ca-key", key, "--pem")
	pem, _ := os.ReadFile(cert)
	if r.code != 0 || r.stdout != string(pem) {
		t.Errorf("--pem printed %q", r.stdout)
	}
	r = runAmp(t, "ca", "--ca-cert", cert, "--ca-key", key)
	if r.code != 0 || !strings.Contains(r.stdout, "existing CA") {
		t.Errorf("second run: %+v", r)
	}
	r = runAmp(t, "ca", "--ca-cert", cert)
	if r.code != 1 || !strings.Contains(r.stderr, "ca: --ca-cert and --ca-key go together") {
		t.Errorf("half a pair: %+v", r)
	}
}

// recBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type recBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *recBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *recBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var proxyAddr = regexp.MustCompile(`proxy on http://(127\.0\.0\.1:\d+)`)

// waitFor polls f until it returns true or 10 s pass.
func waitFor(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling, not timing
	}
}

// TestRecordInProcess runs amp record in reverse mode, sends requests,
// cancels it as Ctrl-C does, and reads the recording back.
func TestRecordInProcess(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "hello "+r.URL.Path)
	}))
	defer up.Close()
	out := filepath.Join(t.TempDir(), "shop.amp")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr recBuffer
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"amp", "record", "-o", out, "--target", up.URL, "--listen", "127.0.0.1:0",
			"--redact-header", "Authorization", "--exclude-path", "^/health$"}, &stdout, &stderr)
	}()
	var addr string
	waitFor(t, "the listening line", func() bool {
		m := proxyAddr.FindStringSubmatch(stdout.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	})
	for _, p := range []string{"/a", "/b", "/health"} {
		req, _ := http.NewRequest("GET", "http://"+addr+p, nil)
		req.Header.Set("Authorization", "Bearer x")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "hello "+p {
			t.Fatalf("%s: got %q", p, b)
		}
	}
	cancel()
	if c := <-code; c != 0 {
		t.Fatalf("exit %d, stderr %q", c, stderr.String())
	}
	want := fmt.Sprintf("recorded 2 requests in 1 session to %s (1 skipped by filters)\n", out)
	if !strings.HasSuffix(stdout.String(), want) {
		t.Errorf("stdout %q, want it to end with %q", stdout.String(), want)
	}
	rec, err := capture.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Exchanges() != 2 || rec.Header.Source != "proxy" || rec.Header.Options["mode"] != "reverse" ||
		rec.Header.Options["target"] != up.URL || rec.Header.Options["redact-header"] != "Authorization" {
		t.Errorf("recording: %d exchanges, header %+v", rec.Exchanges(), rec.Header)
	}
	for _, e := range rec.Sessions[0].Exchanges {
		if e.Request.Header.Get("Authorization") != "[redacted]" {
			t.Errorf("Authorization recorded as %q", e.Request.Header.Get("Authorization"))
		}
	}
	if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("recording mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
}

// buildAmp builds the amp binary into a temporary directory.
func buildAmp(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		testenv.Missing(t, "no go command on PATH to build amp with")
	}
	bin := filepath.Join(t.TempDir(), "amp")
	cmd := exec.Command(goBin, "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startRecorder starts amp record in reverse mode as a process and returns it
// with the address it listens on.
func startRecorder(t *testing.T, bin, target, out string) (*exec.Cmd, string, *recBuffer) {
	t.Helper()
	cmd := exec.Command(bin, "record", "-o", out, "--target", target, "--listen", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var rest recBuffer
	cmd.Stderr = &rest
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	br := bufio.NewReader(stdout)
	line, err := br.ReadString('\n')
	m := proxyAddr.FindStringSubmatch(line)
	if err != nil || m == nil {
		t.Fatalf("first line %q (%v), stderr %q", line, err, rest.String())
	}
	go func() { _, _ = io.Copy(&rest, br) }()
	return cmd, m[1], &rest
}

// TestRecordProcess runs amp record as a process, built once for both cases.
func TestRecordProcess(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGKILL or SIGTERM")
	}
	bin := buildAmp(t)
	t.Run("kill -9", func(t *testing.T) { testRecordKill9(t, bin) })
	t.Run("SIGTERM", func(t *testing.T) { testRecordSIGTERM(t, bin) })
}

// testRecordKill9 kills the recorder with SIGKILL while 4 clients send 1000
// requests: the recording still holds every request a client completed,
// except at most the ones in flight.
func testRecordKill9(t *testing.T, bin string) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok "+r.URL.RawQuery)
	}))
	defer up.Close()
	out := filepath.Join(t.TempDir(), "killed.amp")
	cmd, addr, _ := startRecorder(t, bin, up.URL, out)

	const workers, perWorker, killAfter = 4, 250, 400
	var mu sync.Mutex
	completed := map[string]bool{}
	killed := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}, Timeout: 10 * time.Second}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				q := fmt.Sprintf("w=%d&i=%d", w, i)
				resp, err := client.Get("http://" + addr + "/req?" + q)
				if err != nil {
					return // the recorder is gone
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || string(b) != "ok "+q {
					return
				}
				mu.Lock()
				completed[q] = true
				n := len(completed)
				mu.Unlock()
				if n == killAfter {
					once.Do(func() {
						_ = cmd.Process.Signal(syscall.SIGKILL)
						close(killed)
					})
				}
			}
		}()
	}
	wg.Wait()
	select {
	case <-killed:
	default:
		t.Fatalf("the clients finished (%d requests) before the kill", len(completed))
	}
	_ = cmd.Wait()

	// The recording is complete only at Close: the killed one is left in
	// out.partial, and nothing is at out.
	if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s exists after kill -9 (%v): want only %s", out, err, capture.PartialPath(out))
	}
	rec, err := capture.ReadFile(capture.PartialPath(out))
	if !errors.Is(err, capture.ErrTruncated) {
		t.Fatalf("reading the killed recording: %v (want a truncated recording)", err)
	}
	recorded := map[string]bool{}
	for _, s := range rec.Sessions {
		for _, e := range s.Exchanges {
			if _, q, ok := strings.Cut(e.Request.URL, "?"); ok {
				recorded[q] = true
			}
		}
	}
	missing := 0
	for q := range completed {
		if !recorded[q] {
			missing++
		}
	}
	t.Logf("clients completed %d requests, the recording holds %d, %d completed ones missing", len(completed), len(recorded), missing)
	if missing > workers {
		t.Errorf("%d completed requests missing from the recording, more than the %d that can be in flight", missing, workers)
	}
	if len(completed) < killAfter {
		t.Errorf("only %d requests completed", len(completed))
	}
}

// testRecordSIGTERM stops a recorder process with SIGTERM: it prints the
// summary, exits 0 and leaves a complete recording.
func testRecordSIGTERM(t *testing.T, bin string) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	defer up.Close()
	out := filepath.Join(t.TempDir(), "term.amp")
	cmd, addr, rest := startRecorder(t, bin, up.URL, out)
	for i := range 5 {
		resp, err := http.Get(fmt.Sprintf("http://%s/p%d", addr, i))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v, output %q", err, rest.String())
	}
	if want := "recorded 5 requests in 1 session to " + out; !strings.Contains(rest.String(), want) {
		t.Errorf("output %q lacks %q", rest.String(), want)
	}
	rec, err := capture.ReadFile(out)
	if err != nil || rec.Exchanges() != 5 {
		t.Fatalf("recording: %v, %d exchanges", err, rec.Exchanges())
	}
}

// TestStatusLine checks the status line's schedule on a fake clock: a line
// every 5 s when something changed (not a terminal), a redraw every second on
// a terminal.
func TestStatusLine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n atomic.Int64
		stats := func() proxy.Stats {
			return proxy.Stats{Requests: n.Load(), Sessions: 1, Bytes: 2048, Errors: 1, InFlight: 2}
		}
		var buf bytes.Buffer
		s := &statusLine{w: &buf}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { s.watch(ctx, func() string { return formatStatus(stats()) }); close(done) }()
		n.Store(3)
		time.Sleep(12 * time.Second) // 10 s and 12 s: two ticks, the second without news
		synctest.Wait()
		if got := strings.Count(buf.String(), "\n"); got != 1 || !strings.Contains(buf.String(), "amp record: 3 requests, 1 session, 2.0 KiB, 1 error, 2 in flight") {
			t.Errorf("after 12 s: %q", buf.String())
		}
		n.Store(4)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if got := strings.Count(buf.String(), "\n"); got != 2 {
			t.Errorf("after 17 s: %q", buf.String())
		}
		cancel()
		<-done

		buf.Reset()
		tty := &statusLine{w: &buf, tty: true}
		ctx, cancel = context.WithCancel(context.Background())
		done = make(chan struct{})
		go func() { tty.watch(ctx, func() string { return formatStatus(stats()) }); close(done) }()
		time.Sleep(3500 * time.Millisecond)
		synctest.Wait()
		cancel()
		<-done
		tty.clear()
		if got := strings.Count(buf.String(), "\r\x1b[K"); got != 4 || strings.Contains(buf.String(), "\n") {
			t.Errorf("terminal: %q", buf.String())
		}
	})
}
