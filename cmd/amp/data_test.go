package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
)

// writeLoginRecording writes a recording of one user logging in through a
// form as admin and returns its path.
func writeLoginRecording(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "login.amp")
	w, err := capture.Create(path, capture.FileHeader{Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	for i, req := range []capture.Request{
		{Method: "GET", URL: "http://shop.example/login"},
		{Method: "POST", URL: "http://shop.example/login", Body: []byte("username=admin&password=hunter2"),
			Header: capture.Headers{{Name: "Content-Type", Value: "application/x-www-form-urlencoded"}}},
	} {
		req.Proto = "HTTP/1.1"
		req.Header = append(capture.Headers{{Name: "Host", Value: "shop.example"}}, req.Header...)
		e := &capture.Exchange{Session: "1", Client: "10.0.0.1:1234", Start: t0.Add(time.Duration(i) * time.Second),
			Duration: 5 * time.Millisecond, Request: req, Response: capture.Response{Status: 200, Proto: "HTTP/1.1"}}
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReplayDataErrors checks that a bad --data file stops amp with one line
// naming the file and the problem, before anything is sent.
func TestReplayDataErrors(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	rec := writeLoginRecording(t)
	dir := t.TempDir()
	file := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	replay := []string{"replay", rec, "--host", srv.URL, "--users", "2", "--iterations", "4", "--think", "none", "--quiet"}
	tests := []struct {
		args []string
		want string
	}{
		{args: []string{"--data", filepath.Join(dir, "none.csv")}, want: "--data " + filepath.Join(dir, "none.csv") + ": no such file"},
		{args: []string{"--data", file("empty.csv", "")}, want: "empty.csv: the file is empty"},
		{args: []string{"--data", file("ragged.csv", "username,password\na,b\nc\n")}, want: "ragged.csv: line 3 has 1 fields, the header has 2"},
		{args: []string{"--data", file("bad.jsonl", "{\"username\":\"a\"}\n{\"username\":\n")}, want: "bad.jsonl: line 2: the JSON object is not closed"},
		{args: []string{"--data", file("cols.csv", "username,pin\na,1\n")}, want: `cols.csv: column "pin" matches no form field, JSON member, query parameter or header the recording sends (it sends password, username`},
		{args: []string{"--data", file("few.csv", "username\na\nb\nc\n"), "--data-mode", "unique"}, want: "few.csv: 3 rows are too few for --data-mode unique: --iterations 4 needs 4"},
		{args: []string{"--data", file("ok.csv", "username\na\n"), "--data-mode", "shuffle"}, want: `--data-mode "shuffle": want next, random, unique or loop`},
		{args: []string{"--data-mode", "unique"}, want: "--data-mode needs --data FILE"},
	}
	for _, tc := range tests {
		r := runAmp(t, append(replay, tc.args...)...)
		if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("amp %v: exit %d, stderr %q; want one line with %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestReplayDataDryRun(t *testing.T) {
	rec := writeLoginRecording(t)
	data := filepath.Join(t.TempDir(), "users.jsonl")
	if err := os.WriteFile(data, []byte("{\"Username\":\"u1\",\"password\":\"p1\"}\n{\"Username\":\"u2\",\"password\":\"p2\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runAmp(t, "replay", rec, "--host", "http://127.0.0.1:1", "--data", data, "--data-mode", "loop", "--dry-run")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{
		"data " + data + ": 2 rows of Username, password (--data-mode loop)",
		`Username             replaces "admin", sent as form username in 1 session(s)`,
		`password             replaces "hunter2", sent as form password in 1 session(s)`,
		"nothing was sent",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--dry-run output lacks %q:\n%s", want, r.stdout)
		}
	}
}
