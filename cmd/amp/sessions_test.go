package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/replay"
	"github.com/ampload/amp/stats"
)

// writeManySessions writes a recording of n sessions; session i has
// i%7+1 requests, except session 123 (if any) which has 40, and returns
// its path and the number of requests.
func writeManySessions(t *testing.T, n int) (string, int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "many.amp")
	w, err := capture.Create(path, capture.FileHeader{Source: "test", Created: time.Unix(1_700_000_000, 0).UTC()})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	total := 0
	for i := 0; i < n; i++ {
		k := i%7 + 1
		if i == 123 {
			k = 40
		}
		for j := 0; j < k; j++ {
			url := fmt.Sprintf("http://demo.local/articles/%d", i*100+j)
			if j%2 == 1 {
				url = fmt.Sprintf("http://demo.local/users/%d/cart", i)
			}
			e := &capture.Exchange{Session: fmt.Sprintf("s%03d", i), Client: fmt.Sprintf("10.0.%d.%d:5000", i/250, i%250),
				Start:    t0.Add(time.Duration(i)*time.Second + time.Duration(j)*time.Millisecond),
				Request:  capture.Request{Method: "GET", URL: url, Proto: "HTTP/1.1"},
				Response: capture.Response{Status: 200, Proto: "HTTP/1.1", Body: []byte("hello"), BodySize: 5}}
			if err := w.Write(e); err != nil {
				t.Fatal(err)
			}
			total++
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path, total
}

// sessionRows returns the lines of a table that are session rows.
func sessionRows(out string) []string {
	var rows []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "s") && strings.Contains(l, "10.0.") {
			rows = append(rows, l)
		}
	}
	return rows
}

func TestSessionsSummary(t *testing.T) {
	path, total := writeManySessions(t, 300)

	r := runAmp(t, "sessions", path)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("%+v", r)
	}
	top, rest, _ := strings.Cut(r.stdout, "... 250 sessions not listed (amp sessions --all lists every one)\n")
	if rows := sessionRows(top); len(rows) != 50 || !strings.HasPrefix(rows[0], "s000 ") || !strings.HasPrefix(rows[49], "s049 ") {
		t.Fatalf("the table lists %d sessions before the summary, want s000..s049:\n%s", len(rows), r.stdout)
	}
	largest, _, ok := strings.Cut(rest, "ENDPOINTS")
	if !ok {
		t.Fatalf("no endpoints in the summary:\n%s", r.stdout)
	}
	rows := sessionRows(largest)
	if len(rows) != 10 || !strings.HasPrefix(rows[0], "s123 ") || !regexp.MustCompile(`^s006 .* 7 `).MatchString(rows[1]) {
		t.Errorf("largest sessions: want s123 (40 requests) then s006 (7) and 8 more:\n%s", largest)
	}
	// Every session is summed up: 300 sessions' cart and article requests.
	carts := 0
	for i := 0; i < 300; i++ {
		k := i%7 + 1
		if i == 123 {
			k = 40
		}
		carts += k / 2
	}
	for _, want := range []string{
		"ENDPOINTS (2, by requests)",
		fmt.Sprintf("%d  GET /articles/{id}", total-carts),
		fmt.Sprintf("%d  GET /users/{id}/cart", carts),
		fmt.Sprintf("TOTAL  300 sessions, %d requests, %s, 2026-11-26 09:00:00.000 to 2026-11-26 09:04:59.005 (4m59s); status 2xx %d,", total, formatBytes(int64(total)*5), total),
	} {
		if !strings.Contains(rest, want) {
			t.Errorf("the summary lacks %q:\n%s", want, rest)
		}
	}
	if !strings.HasSuffix(r.stdout, fmt.Sprintf("\n300 sessions, %d requests (test)\n", total)) {
		t.Errorf("last line:\n%s", r.stdout)
	}

	r = runAmp(t, "sessions", "--all", path)
	if rows := sessionRows(r.stdout); r.code != 0 || len(rows) != 300 || strings.Contains(r.stdout, "ENDPOINTS") {
		t.Errorf("--all lists %d sessions, want 300 and no summary:\n%s", len(rows), r.stdout)
	}
	r = runAmp(t, "sessions", "-v", path)
	if n := strings.Count(r.stdout, "\nsession s") + 1; r.code != 0 || n != 300 || strings.Contains(r.stdout, "ENDPOINTS") {
		t.Errorf("-v lists %d sessions, want 300", n)
	}
	r = runAmp(t, "sessions", "--json", path)
	var out sessionsJSON
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out.Sessions) != 300 || len(tasks(out)) != total {
		t.Errorf("--json: %v, %d sessions", err, len(out.Sessions))
	}
}

// TestSessionsSmallTableUnchanged: 100 sessions are still all listed, with
// no summary.
func TestSessionsSmallTableUnchanged(t *testing.T) {
	path, total := writeManySessions(t, 100)
	r := runAmp(t, "sessions", path)
	if rows := sessionRows(r.stdout); r.code != 0 || len(rows) != 100 || strings.Contains(r.stdout, "ENDPOINTS") ||
		!strings.HasSuffix(r.stdout, fmt.Sprintf("\n100 sessions, %d requests (test)\n", total)) {
		t.Errorf("%d sessions listed, want 100 and no summary:\n%s", len(rows), r.stdout)
	}
}

// TestSessionsEndpointCap: beyond the cap endpoints are counted together.
func TestSessionsEndpointCap(t *testing.T) {
	namer, err := stats.NewNamer(nil)
	if err != nil {
		t.Fatal(err)
	}
	m := newSessionSummary(namer)
	m.max = 3
	t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	s := &capture.Session{ID: "1"}
	for i, p := range []string{"/a", "/b", "/a", "/c", "/d", "/e", "/a", "/d"} {
		s.Exchanges = append(s.Exchanges, &capture.Exchange{Session: "1", Start: t0.Add(time.Duration(i) * time.Second),
			Request: capture.Request{Method: "GET", URL: "http://x" + p}, Response: capture.Response{Status: 404}})
	}
	m.add(s)
	if len(m.endpoints) != 3 || m.endpoints["GET /a"] != 3 || m.others != 3 {
		t.Fatalf("endpoints %v, others %d; want /a /b /c by name, 3 others", m.endpoints, m.others)
	}
	var buf bytes.Buffer
	if err := m.print(&buf, 0); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ENDPOINTS (over 3, by requests)", "3  GET /a", "3  (the others: 0 more counted by name, and those beyond the first 3 distinct)", "4xx 8"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, buf.String())
		}
	}
}

// TestSessionsJSONStreamed: the streamed --json is byte for byte what
// encoding the whole listing with json.Encoder gives.
func TestSessionsJSONStreamed(t *testing.T) {
	many, _ := writeManySessions(t, 30)
	small, _, _ := writeTestRecording(t)
	empty := filepath.Join(t.TempDir(), "empty.amp")
	w, err := capture.Create(empty, capture.FileHeader{Source: "empty <&>"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{many, small, empty} {
		for _, corr := range []bool{false, true} {
			rec, err := capture.ReadFileWith(path, capture.ReadOptions{SkipDamaged: true})
			if err != nil {
				t.Fatal(err)
			}
			want := sessionsJSON{File: path, Source: rec.Header.Source, Sessions: []sessionJSON{}}
			if !rec.Header.Created.IsZero() {
				want.Created = &rec.Header.Created
			}
			for _, s := range rec.Sessions {
				sj := sessionToJSON(s, false)
				if corr {
					sj.Correlations = correlationsJSON(replay.Learn(s))
				}
				want.Sessions = append(want.Sessions, sj)
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetIndent("", "  ")
			if err := enc.Encode(want); err != nil {
				t.Fatal(err)
			}
			args := []string{"sessions", "--json", path}
			if corr {
				args = append(args, "--correlations")
			}
			r := runAmp(t, args...)
			if r.code != 0 || r.stderr != "" || r.stdout != buf.String() {
				t.Errorf("%s (correlations %v): code %d, stderr %q\ngot:\n%s\nwant:\n%s", filepath.Base(path), corr, r.code, r.stderr, r.stdout, buf.String())
			}
		}
	}
}

// TestSessionsOnCutBigFile: a big recording cut in the middle (no index:
// one pass builds it) lists and sums up what came before, with the warning.
func TestSessionsOnCutBigFile(t *testing.T) {
	path, _ := writeManySessions(t, 300)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.amp.partial")
	if err := os.WriteFile(cut, data[:len(data)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	rec, err := capture.ReadFileWith(cut, capture.ReadOptions{SkipDamaged: true})
	if err == nil || rec == nil || len(rec.Sessions) <= summaryAbove {
		t.Fatalf("the cut file reads as %v, want over %d sessions and a truncated error", err, summaryAbove)
	}
	warning := fmt.Sprintf("amp: warning: %s; listed the %d whole records before it\n", readErrorText(cut, err), rec.Exchanges())
	for _, args := range [][]string{{"sessions", cut}, {"sessions", cut}, {"sessions", "--all", cut}} {
		// The second run reads the index the first one saved beside it.
		r := runAmp(t, args...)
		if r.code != 0 || r.stderr != warning {
			t.Fatalf("%v: code %d, stderr %q, want %q", args, r.code, r.stderr, warning)
		}
		want := fmt.Sprintf("\n%d sessions, %d requests (test)\n", len(rec.Sessions), rec.Exchanges())
		if !strings.HasSuffix(r.stdout, want) {
			t.Errorf("%v: last line is not %q:\n%s", args, want, r.stdout)
		}
		if n := len(sessionRows(r.stdout)); args[1] == "--all" && n != len(rec.Sessions) || args[1] != "--all" && n != 60 {
			t.Errorf("%v: %d session rows", args, n)
		}
	}
	if _, err := os.Stat(capture.SidecarPath(cut)); err != nil {
		t.Errorf("no index saved beside the cut file: %v", err)
	}
}

// TestPassProgress: the progress line of an index pass, once the pass has
// taken long enough.
func TestPassProgress(t *testing.T) {
	var buf bytes.Buffer
	p := newPassProgress(&buf, "old.amp")
	p.update(1<<20, 4<<20) // too soon
	if buf.Len() != 0 {
		t.Fatalf("shown at once: %q", buf.String())
	}
	p.after = 0
	p.update(2<<20, 4<<20)
	p.end()
	if want := "amp: old.amp has no index: reading it once to build one (4.0 MiB): 50%\n"; !strings.HasSuffix(buf.String(), want) {
		t.Errorf("progress %q, want a line ending %q", buf.String(), want)
	}
}

var damageDetail = regexp.MustCompile(`\(\d+ bytes: .*\); listed`)

// TestSessionsFlippedBitsAsReadFile flips each byte of a recording in turn:
// amp sessions lists the exchanges ReadFileWith reads, in its order, with
// the warnings and exit code it gave when it loaded the whole file.
func TestSessionsFlippedBitsAsReadFile(t *testing.T) {
	path, data, _ := writeTestRecording(t)
	described := 0
	for at := 0; at < len(data); at++ {
		bad := slices.Clone(data)
		bad[at] ^= 0x10
		if err := os.WriteFile(path, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		os.Remove(capture.SidecarPath(path)) // a pass reads each version afresh
		rec, err := capture.ReadFileWith(path, capture.ReadOptions{SkipDamaged: true})
		var urls []string
		if rec != nil {
			for _, s := range rec.Sessions {
				for _, e := range s.Exchanges {
					urls = append(urls, e.Request.URL)
				}
			}
		}
		code, stderr := 0, ""
		switch {
		case rec == nil || errors.Is(err, capture.ErrCorrupt):
			code, stderr = 1, "amp: "+readErrorText(path, err)+"\n"
		case err != nil:
			stderr = fmt.Sprintf("amp: warning: %s; listed the %d whole records before it\n", readErrorText(path, err), rec.Exchanges())
		}
		if d := damageText(path, rec); code == 0 && d != "" {
			stderr += fmt.Sprintf("amp: warning: %s; listed the %d intact records\n", d, rec.Exchanges())
		}
		r := runAmp(t, "sessions", "-v", path)
		var got []string
		for _, f := range strings.Fields(r.stdout) {
			if strings.HasPrefix(f, "http://demo.local/") {
				got = append(got, f)
			}
		}
		// The one known difference is capture's: in a recording with a valid
		// index, a record whose length field is damaged is described by
		// File.Session from the length it claims (its size, or "impossible
		// record length"), by ReadFile from where the next record is. The
		// offset, the records listed and the warning are the same.
		if r.stderr != stderr && damageDetail.ReplaceAllString(r.stderr, "(…); listed") == damageDetail.ReplaceAllString(stderr, "(…); listed") {
			described++
			r.stderr = stderr
		}
		if !slices.Equal(got, urls) || r.code != code || r.stderr != stderr {
			t.Fatalf("byte %d flipped: code %d, stderr %q, listed %v; ReadFileWith: code %d, stderr %q, %v", at, r.code, r.stderr, got, code, stderr, urls)
		}
	}
	t.Logf("%d of %d flips: the damaged record described otherwise than by ReadFile", described, len(data))
}
