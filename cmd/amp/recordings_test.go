package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/internal/testenv"
)

// TestRecordingFiles checks every command that writes a recording (record,
// capture, import, demo): an existing file at -o is refused and left as it
// was; the recording is mode 0600 even under umask 0 (it holds cookies and
// passwords); while a command runs nothing is at -o, only -o.partial; and no
// partial file is left once it ends.
func TestRecordingFiles(t *testing.T) {
	old := syscall.Umask(0) // not parallel: the umask is the process's
	defer syscall.Umask(old)
	dir := t.TempDir()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }))
	defer up.Close()
	harFile := filepath.Join(dir, "in.har")
	if err := os.WriteFile(harFile, []byte(`{"log": {"version": "1.2", "entries": [{"startedDateTime": "2026-03-01T10:00:00Z",
		"request": {"method": "GET", "url": "http://shop.test/"}, "response": {"status": 200}}]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		running string // the line a long-running command prints once it records
	}{
		{"record", []string{"record", "--target", up.URL, "--listen", "127.0.0.1:0", "-q"}, "Ctrl-C stops"},
		{"capture", []string{"capture", "--iface", "lo", "--port", strings.TrimPrefix(up.URL, "http://127.0.0.1:"), "-q"}, "Ctrl-C stops"},
		{"import", []string{"import", harFile, "-q"}, ""},
		{"demo", []string{"demo", "--users", "1", "--rate", "10", "--duration", "300ms", "--pause", "1ms", "--latency", "0",
			"--html", filepath.Join(dir, "demo.html"), "-q"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "capture" && os.Geteuid() != 0 {
				testenv.Missing(t, "amp capture needs root (a raw packet socket): run the tests as root")
			}
			out := filepath.Join(dir, tc.name+".amp")
			args := append([]string{"amp"}, append(tc.args, "-o", out)...)
			if err := os.WriteFile(out, []byte("keep"), 0o644); err != nil {
				t.Fatal(err)
			}
			if r := runRecordingCommand(t, args, ""); r.code != 1 || !strings.Contains(r.stderr, out) {
				t.Errorf("over an existing file: exit %d, %q; want 1 and a message naming %s", r.code, r.stderr, out)
			}
			if b, err := os.ReadFile(out); err != nil || string(b) != "keep" {
				t.Fatalf("the existing file changed: %q, %v", b, err)
			}
			if err := os.Remove(out); err != nil {
				t.Fatal(err)
			}

			if r := runRecordingCommand(t, args, tc.running); r.code != 0 {
				t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			st, err := os.Stat(out)
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("%s: %v, %v; want mode 0600", out, st, err)
			}
			if _, err := capture.ReadFile(out); err != nil {
				t.Errorf("reading %s: %v", out, err)
			}
			if _, err := os.Stat(capture.PartialPath(out)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s is left (%v)", capture.PartialPath(out), err)
			}
		})
	}
}

// runRecordingCommand runs amp with args. With running set it waits for that
// text on stdout, checks that only the partial file of -o (the last
// argument) exists, and stops the command as Ctrl-C does.
func runRecordingCommand(t *testing.T, args []string, running string) result {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, &stdout, &stderr) }()
	code := -1
	if running != "" {
		waitFor(t, fmt.Sprintf("%q or the end", running), func() bool {
			select {
			case code = <-done:
				return true
			default:
				return strings.Contains(stdout.String(), running)
			}
		})
		if code == -1 {
			out := args[len(args)-1]
			if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s exists while recording (%v)", out, err)
			}
			if _, err := os.Stat(capture.PartialPath(out)); err != nil {
				t.Errorf("no partial file while recording: %v", err)
			}
		}
		cancel()
	}
	if code == -1 {
		code = <-done
	}
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}
