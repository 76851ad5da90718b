package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
)

// writeEditRecording writes a recording of four sessions over two hosts,
// each with a page, a script, an image and an API call, and returns its
// path and bytes.
func writeEditRecording(t *testing.T, dir string) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	w, err := capture.NewWriter(&buf, capture.FileHeader{Source: "proxy", Created: t0})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		key := fmt.Sprintf("cookie:sid=%d", i+1)
		for j, u := range []string{"http://shop.example/cart", "http://shop.example/app.js", "http://cdn.example/logo.png", "http://shop.example/api/items?page=2"} {
			e := &capture.Exchange{Session: key, Client: "127.0.0.1:4000", Start: t0.Add(time.Duration(i)*time.Minute + time.Duration(j)*time.Second),
				TTFB: time.Millisecond, Duration: 2 * time.Millisecond,
				Request:  capture.Request{Method: "GET", URL: u, Proto: "HTTP/1.1", Header: capture.Headers{{Name: "Cookie", Value: "sid=" + key}}, BodySize: 0},
				Response: capture.Response{Status: 200, Proto: "HTTP/1.1", Body: []byte("x" + u), BodySize: int64(len(u) + 1)}}
			if j == 3 {
				e.Request.Method, e.Request.Body, e.Request.BodySize = "POST", []byte(`{"n":1}`), 7
			}
			if err := w.Write(e); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "shop.amp")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, buf.Bytes()
}

func readSessions(t *testing.T, path string) []*capture.Session {
	t.Helper()
	rec, err := capture.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return rec.Sessions
}

func ampOK(t *testing.T, args ...string) string {
	t.Helper()
	r := runAmp(t, args...)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("amp %s: code %d, stderr %q", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}

func TestEditCommands(t *testing.T) {
	dir := t.TempDir()
	in, _ := writeEditRecording(t, dir)
	want := readSessions(t, in)
	p := func(name string) string { return filepath.Join(dir, name) }

	out := ampOK(t, "filter", in, "-o", p("pages.amp"), "--skip-static", "--exclude-path", "/api/*")
	wantOut := "kept 4 of 4 sessions, 4 of 16 requests in " + p("pages.amp") + "\n" +
		"  --exclude-path dropped 4 requests\n" +
		"  --skip-static dropped 8 requests\n"
	if out != wantOut {
		t.Errorf("filter printed\n%s\nwant\n%s", out, wantOut)
	}
	ampOK(t, "filter", in, "-o", p("rest.amp"), "--include-path", "/api/*", "--include-path", "*.js", "--include-path", "*.png")
	out = ampOK(t, "merge", p("pages.amp"), p("rest.amp"), "-o", p("back.amp"), "--join")
	if !strings.HasPrefix(out, "merged 2 recordings: 4 sessions, 16 requests in ") {
		t.Errorf("merge printed %q", out)
	}
	if got := readSessions(t, p("back.amp")); !reflect.DeepEqual(got, want) {
		t.Errorf("filter and its negation merged back differ from the input")
	}
	rec, err := capture.ReadFile(p("pages.amp"))
	if err != nil {
		t.Fatal(err)
	}
	if o := rec.Header.Options; o["edit"] != "filter" || o["skip-static"] != "true" || o["exclude-path"] != "/api/*" || o["input.1"] != in || !strings.HasPrefix(rec.Header.Tool, "amp ") {
		t.Errorf("header %+v", rec.Header)
	}

	// By session, by host, by time; the same sessions kept whole.
	out = ampOK(t, "filter", in, "-o", p("s24.amp"), "--session", "2", "--session", "cookie:sid=4")
	if got := readSessions(t, p("s24.amp")); len(got) != 2 || !reflect.DeepEqual(got[0], want[1]) || !reflect.DeepEqual(got[1], want[3]) {
		t.Errorf("--session 2 --session cookie:sid=4 kept %d sessions", len(got))
	}
	if !strings.Contains(out, "  --session dropped 2 sessions (8 requests)\n") {
		t.Errorf("filter --session printed %q", out)
	}
	out = ampOK(t, "filter", in, "-o", p("late.amp"), "--from", "1m30s", "--to", "2026-12-01T10:03:01Z", "--host", "shop.example", "--method", "get")
	if got := readSessions(t, p("late.amp")); len(got) != 2 || len(got[0].Exchanges) != 2 || len(got[1].Exchanges) != 1 {
		t.Errorf("--from/--to kept %d sessions: %s", len(got), out)
	}
	ampOK(t, "filter", in, "-o", p("two.amp"), "--max-sessions", "2")
	if got := readSessions(t, p("two.amp")); !reflect.DeepEqual(got, want[:2]) {
		t.Errorf("--max-sessions 2 kept %d sessions", len(got))
	}

	// Split, then merge back.
	out = ampOK(t, "split", in, "--by", "session", "-o", p("sessions"))
	if !strings.HasPrefix(out, "wrote 4 recordings to "+p("sessions")+"\n  session-1.amp  1 session, 4 requests  (session cookie:sid=1)\n  session-2.amp") {
		t.Errorf("split printed %q", out)
	}
	parts, _ := filepath.Glob(p("sessions/*.amp"))
	ampOK(t, append([]string{"merge", "-o", p("sessions.amp")}, parts...)...)
	if got := readSessions(t, p("sessions.amp")); !reflect.DeepEqual(got, want) {
		t.Errorf("split by session and merged back differs from the input")
	}
	ampOK(t, "split", in, "--by", "host", "-o", p("hosts"))
	parts, _ = filepath.Glob(p("hosts/*.amp"))
	if len(parts) != 2 {
		t.Fatalf("split by host wrote %v", parts)
	}
	ampOK(t, append([]string{"merge", "--join", "-o", p("hosts.amp")}, parts...)...)
	if got := readSessions(t, p("hosts.amp")); !reflect.DeepEqual(got, want) {
		t.Errorf("split by host and merged back differs from the input")
	}

	// Without --join, shared keys are renamed and the command says so.
	out = ampOK(t, "merge", in, p("s24.amp"), "-o", p("twice.amp"))
	if !strings.Contains(out, "merged 2 recordings: 6 sessions, 24 requests") || !strings.Contains(out, p("s24.amp")+": 2 session keys also in an earlier input, renamed (cookie:sid=2 → cookie:sid=2~2, ...") {
		t.Errorf("merge printed %q", out)
	}
	if got := readSessions(t, p("twice.amp")); len(got) != 6 {
		t.Errorf("merge wrote %d sessions", len(got))
	}
}

func TestEditBadInput(t *testing.T) {
	dir := t.TempDir()
	in, _ := writeEditRecording(t, dir)
	if err := os.Mkdir(filepath.Join(dir, "parts"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "parts", "session-1.amp"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.amp")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"filter", filepath.Join(dir, "nope.amp"), "-o", out}, "nope.amp: no such file"},
		{[]string{"filter", in}, "-o FILE is required"},
		{[]string{"filter", in, "-o", out, "--include-path", "/a/[x"}, `--include-path "/a/[x": not a glob pattern`},
		{[]string{"filter", in, "-o", out, "--from", "yesterday"}, `--from "yesterday": want an RFC 3339 time`},
		{[]string{"filter", in, "-o", out, "--from", "10m", "--to", "5m"}, "--to 5m0s: the window is empty: want --to after --from 10m0s"},
		{[]string{"filter", in, "-o", out, "--from", "10m", "--to", "2026-12-01T10:05:00Z"}, "--to 2026-12-01T10:05:00Z: the window is empty"},
		{[]string{"filter", in, "-o", out, "--session", "9"}, `--session "9": want a number from 1 to 4`},
		{[]string{"filter", in, "-o", out, "--max-sessions", "-1"}, "--max-sessions -1: want 0"},
		{[]string{"filter", in, "-o", in}, "-o " + in + " is also an input"},
		{[]string{"filter", in, "-o", filepath.Join(dir, "parts", "session-1.amp")}, "already exists; nothing was changed (choose another file)"},
		{[]string{"merge", in, "-o", out}, "want two or more recording files"},
		{[]string{"merge", in, filepath.Join(dir, "nope.amp"), "-o", out}, "nope.amp: no such file"},
		{[]string{"merge", in, in, "-o", in}, "is also an input"},
		{[]string{"split", in, "--by", "path", "-o", dir}, `--by "path": want session or host`},
		{[]string{"split", in, "-o", in}, "is not a directory"},
		{[]string{"split", in, "-o", filepath.Join(dir, "parts")}, "session-1.amp already exists; nothing was written"},
		{[]string{"split", in, "--by", "host", "-o", filepath.Join(dir, "parts")}, ""},
	} {
		if tc.want == "" { // a split that works, then again: refused
			ampOK(t, tc.args...)
			tc.want = "shop.example.amp already exists; nothing was written"
		}
		before := snapshot(t, dir)
		r := runAmp(t, tc.args...)
		if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "amp: "+tc.args[0]+": ") || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
			t.Errorf("amp %s: code %d, stderr %q, stdout %q; want one line with %q", strings.Join(tc.args, " "), r.code, r.stderr, r.stdout, tc.want)
		}
		if d := diffSnapshots(before, snapshot(t, dir)); len(d) > 0 {
			t.Errorf("amp %s changed %v", strings.Join(tc.args, " "), d)
		}
	}
}

func TestEditCutInput(t *testing.T) {
	dir := t.TempDir()
	_, data := writeEditRecording(t, dir)
	cut := filepath.Join(dir, "shop.amp.partial")
	// Cut in the middle of the last records: the end marker, the index and
	// part of an exchange are gone.
	if err := os.WriteFile(cut, data[:len(data)*7/8], 0o600); err != nil {
		t.Fatal(err)
	}
	r := runAmp(t, "filter", cut, "-o", filepath.Join(dir, "out.amp"))
	if r.code != 0 || !strings.HasPrefix(r.stderr, "amp: warning: filter: "+cut+": truncated") || !strings.Contains(r.stderr, "whole records before it\n") || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("filter of a cut file: %+v", r)
	}
	got := readSessions(t, filepath.Join(dir, "out.amp"))
	rec, _ := capture.ReadFile(cut)
	if rec == nil || rec.Exchanges() == 0 || rec.Exchanges() >= 16 || !reflect.DeepEqual(got, rec.Sessions) {
		t.Errorf("filter of a cut file kept %d sessions; the cut file reads %v", len(got), rec)
	}
	if !strings.Contains(r.stdout, fmt.Sprintf("of %d requests", rec.Exchanges())) {
		t.Errorf("filter printed %q", r.stdout)
	}
}

// TestFilterByName: amp filter --session takes a session's name, or a glob
// over names, as amp sessions lists them.
func TestFilterByName(t *testing.T) {
	rec := writeDemoRecording(t) // home→articles (1) and articles→login (2)
	out := filepath.Join(t.TempDir(), "home.amp")
	r := runAmp(t, "filter", rec, "-o", out, "--session", "home→*")
	if r.code != 0 || !strings.Contains(r.stdout, "kept 1 of 2 sessions") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	got, err := capture.ReadFile(out)
	if err != nil || len(got.Sessions) != 1 || got.Sessions[0].ID != "1" {
		t.Fatalf("kept %+v, %v", got, err)
	}
	r = runAmp(t, "filter", rec, "-o", filepath.Join(t.TempDir(), "x.amp"), "--session", "nowhere→*")
	if r.code != 1 || !strings.Contains(r.stderr, `--session "nowhere→*"`) {
		t.Errorf("no such name: exit %d %q", r.code, r.stderr)
	}
}
