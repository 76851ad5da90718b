package main

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/replay"
)

// writeIndexed writes a recording of n exchanges in 3 sessions and returns
// its path and bytes.
func writeIndexed(t *testing.T, dir, name string, n int) (string, []byte) {
	t.Helper()
	path := filepath.Join(dir, name)
	w, err := capture.Create(path, capture.FileHeader{Source: "test", Created: time.Unix(1700000000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Unix(1700000000, 0)
	for i := 0; i < n; i++ {
		e := &capture.Exchange{Session: fmt.Sprint("user-", i%3), Start: start.Add(time.Duration(i) * time.Second),
			Request:  capture.Request{Method: "GET", URL: fmt.Sprintf("http://shop.example/p/%d", i), Proto: "HTTP/1.1"},
			Response: capture.Response{Status: 200, Proto: "HTTP/1.1", Body: []byte(strings.Repeat("x", 100))}}
		e.Response.BodySize = int64(len(e.Response.Body))
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, data
}

func TestIndexCommand(t *testing.T) {
	dir := t.TempDir()
	path, data := writeIndexed(t, dir, "shop.amp", 30)
	progress := `^amp: index: reading .*\.amp \([0-9.]+ KiB\): \d+%(\ramp: index: reading .*: \d+%)*\n`
	factsProgress := `amp: index: reading the 3 sessions of .*\.amp for the replay's facts: \d+%(\ramp: index: reading the 3 sessions.*: \d+%)*\n`
	factsLine := func(p string) string {
		return p + ": the replay's facts (1 endpoint, 1 session shape) saved to " + p + ".idx\n"
	}

	r := runAmp(t, "index", path)
	if r.code != 0 || r.stdout != path+": 3 sessions, 30 exchanges; the index in the recording is intact\n"+factsLine(path) ||
		!regexp.MustCompile(progress+factsProgress+`$`).MatchString(r.stderr) {
		t.Fatalf("%q %q", r.stdout, r.stderr)
	}
	// The sidecar holds only what the replay needs; the next index finds it.
	f, err := capture.Open(path)
	if err != nil || replay.FileFacts(f) == nil {
		t.Fatalf("no facts beside the recording: %v", err)
	}
	f.Close()
	r = runAmp(t, "index", path)
	if r.code != 0 || r.stdout != path+": 3 sessions, 30 exchanges; the index in "+path+".idx is intact\n" {
		t.Fatalf("again: %q %q", r.stdout, r.stderr)
	}

	// Cut short: built once, saved beside it, then found intact.
	cut := filepath.Join(dir, "cut.amp")
	if err := os.WriteFile(cut, data[:len(data)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	r = runAmp(t, "index", cut)
	built := regexp.MustCompile(`^` + regexp.QuoteMeta(cut) + `: 3 sessions, (\d+) exchanges; index built \(no end marker\), saved to ` + regexp.QuoteMeta(cut+".idx") + "\n" + regexp.QuoteMeta(factsLine(cut)) + "$")
	m := built.FindStringSubmatch(r.stdout)
	warn := `amp: warning: .*cut\.amp: truncated after record (\d+) .*; indexed the (\d+) whole records before it\n`
	w := regexp.MustCompile(warn).FindStringSubmatch(r.stderr)
	if r.code != 0 || m == nil || w == nil || w[1] != m[1] || w[2] != m[1] || !regexp.MustCompile(progress).MatchString(r.stderr) {
		t.Fatalf("cut: %+v", r)
	}
	if st, err := os.Stat(cut + ".idx"); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("sidecar: %v %v", st, err)
	}
	r = runAmp(t, "index", cut)
	if r.code != 0 || !strings.HasSuffix(r.stdout, "; the index in "+cut+".idx is intact\n") {
		t.Fatalf("cut, again: %+v", r)
	}
	rec, _ := capture.ReadFile(cut)
	if sj := sessionsJSONOf(t, cut); len(sj.Sessions) != len(rec.Sessions) {
		t.Fatalf("amp sessions after amp index: %d sessions", len(sj.Sessions))
	}

	// Bad input: one line each, exit 1, the good files still indexed.
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("hello"), 0o600)
	missing := filepath.Join(dir, "missing.amp")
	r = runAmp(t, "index", missing)
	if r.code != 1 || r.stdout != "" || r.stderr != "amp: index: "+missing+": no such file\n" {
		t.Fatalf("missing: %+v", r)
	}
	r = runAmp(t, "index", text, path, missing)
	notRec := "amp: index: " + text + ": not an amp recording (expected a .amp file written by amp record or amp import)\n"
	if r.code != 1 || !strings.HasPrefix(r.stderr, notRec) || !strings.HasSuffix(r.stderr, "\namp: index: "+missing+": no such file\namp: index: 2 of 3 recordings failed\n") ||
		!strings.Contains(r.stdout, path+": 3 sessions") {
		t.Fatalf("several: %+v", r)
	}
	r = runAmp(t, "index")
	if r.code != 1 || r.stderr != "amp: index: want one or more recording files (run 'amp index --help')\n" {
		t.Fatalf("no file: %+v", r)
	}

	// A sidecar that cannot be saved: the command fails.
	noidx := filepath.Join(dir, "noidx.amp")
	os.WriteFile(noidx, data[:len(data)-10], 0o600)
	if err := os.Mkdir(noidx+".idx", 0o700); err != nil {
		t.Fatal(err)
	}
	r = runAmp(t, "index", noidx)
	if r.code != 1 || !strings.Contains(r.stderr, "amp: index: "+noidx+": cannot save the index: ") || !strings.Contains(r.stdout, "30 exchanges; index built") {
		t.Fatalf("unsaved: %+v", r)
	}
}

// TestIndexImported: a recording imported from a generated capture opens by
// its index with the sessions and exchanges ReadFile gives, whole and cut.
func TestIndexImported(t *testing.T) {
	dir := t.TempDir()
	pcap, _ := writeGenerated(t, dir, "g.pcap", 3_000_000)
	out := filepath.Join(dir, "g.amp")
	if r := runAmp(t, "import", pcap, "-o", out); r.code != 0 {
		t.Fatalf("import: %+v", r)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int{len(data), len(data) - 1, len(data) * 3 / 4, len(data) / 3} {
		path := filepath.Join(dir, fmt.Sprintf("cut-%d.amp", cut))
		if err := os.WriteFile(path, data[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		rec, rerr := capture.ReadFileWith(path, capture.ReadOptions{SkipDamaged: true})
		f, ferr := capture.OpenWith(path, capture.OpenOptions{SkipDamaged: true})
		if fmt.Sprint(rerr) != fmt.Sprint(ferr) || f == nil || len(f.Sessions()) != len(rec.Sessions) || len(rec.Sessions) == 0 {
			t.Fatalf("cut %d: Open %v, ReadFile %v", cut, ferr, rerr)
		}
		if want := cut == len(data); (f.Index().Source == capture.IndexInFile) != want {
			t.Fatalf("cut %d: %+v", cut, f.Index())
		}
		for i, want := range rec.Sessions {
			got, err := f.Session(i)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("cut %d: session %d differs (%v)", cut, i, err)
			}
		}
		f.Close()
	}
}
