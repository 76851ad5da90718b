package main

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/demosite"
	"github.com/ampload/amp/stats"
)

// TestBadInputRun is issue 13's table of bad inputs to the commands that run
// something (replay, ca, record, report, sessions, kube, demosite, and the
// command line itself): each exits 1 with one line naming the flag or file
// and what is wrong, and leaves the recording and the CA paths untouched.
// (badinput_files_test.go has the rows about output files and imports.)
func TestBadInputRun(t *testing.T) {
	rec := writeDemoRecording(t)
	recBytes, _ := os.ReadFile(rec)
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "typo-ca.pem"), filepath.Join(dir, "typo-ca-key.pem")
	host := "http://127.0.0.1:1"
	replayArgs := func(extra ...string) []string { return append([]string{"replay", rec, "--host", host}, extra...) }
	tests := []struct {
		name string
		args []string
		want string
	}{
		// --host and --map are strict (issue 13 item 8).
		{"scheme with one slash", []string{"replay", rec, "--host", "https:/staging.example"}, "--host https:/staging.example: want a URL such as"},
		{"misspelt scheme", []string{"replay", rec, "--host", "htps://staging.example"}, `scheme "htps" is not http or https`},
		{"path in --host", []string{"replay", rec, "--host", "http://staging.example/api"}, "a path, query or fragment is not supported"},
		{"query in --host", []string{"replay", rec, "--host", "http://staging.example?x=1"}, "a path, query or fragment is not supported"},
		{"credentials in --host", []string{"replay", rec, "--host", "http://user:pw@staging.example"}, "credentials in the URL are not supported"},
		{"bad port", []string{"replay", rec, "--host", "http://staging.example:99999"}, `port "99999" is not 1..65535`},
		{"empty host", []string{"replay", rec, "--host", "http://"}, "no host"},
		{"--map without =", replayArgs("--map", "cdn.example"), `--map "cdn.example": want OLDHOST=URL`},
		{"--map to a bad URL", replayArgs("--map", "cdn.example=https:/cdn"), `--map "cdn.example=https:/cdn": want a URL`},
		// Flags with no effect (item 10).
		{"--multiple without --timeline", replayArgs("--multiple", "3"), "--multiple has no effect here: it copies sessions on the timeline"},
		{"--autostart without --web", replayArgs("--autostart"), "--autostart has no effect here"},
		{"--web-token without --web", replayArgs("--web-token", "abcdefghij"), "--web-token has no effect here"},
		{"--abort-on-fail without --fail-if", replayArgs("--abort-on-fail"), "--abort-on-fail has no effect here"},
		{"--no-default-thresholds with --fail-if", replayArgs("--no-default-thresholds", "--fail-if", "rate<0.01"), "--no-default-thresholds has no effect here"},
		{"--stages with --users", replayArgs("--stages", "10s:5", "--users", "3"), "--stages has no effect here"},
		{"--arrival-rate with --users", replayArgs("--arrival-rate", "5", "--users", "3"), "--arrival-rate has no effect here"},
		{"--max-users without --arrival-rate", replayArgs("--max-users", "10"), "--max-users caps the users of the arrival-rate model: add --arrival-rate"},
		{"--arrival-rate with --timeline", replayArgs("--arrival-rate", "5", "--timeline"), "--arrival-rate starts sessions at a rate, --timeline at their recorded offsets"},
		{"negative --arrival-rate", replayArgs("--arrival-rate", "-2"), "--arrival-rate -2: want sessions per second > 0"},
		{"--max-think with --think none", replayArgs("--max-think", "1s", "--think", "none"), "--max-think has no effect here"},
		{"--speed with --think none", replayArgs("--speed", "2", "--think", "none"), "--speed has no effect here"},
		{"--insecure without https", replayArgs("--insecure"), "--insecure has no effect here"},
		{"--http1 without https", replayArgs("--http1"), "--http1 has no effect here"},
		{"--http1 with --h2c", replayArgs("--http1", "--h2c"), "--h2c speaks HTTP/2 and --http1 forbids it"},
		{"--dry-run with --json", replayArgs("--dry-run", "--json", filepath.Join(dir, "r.json")), "--dry-run has no effect here"},
		{"--multiple over the limit", replayArgs("--timeline", "--multiple", "1e+06"), "--multiple 1e+06: want a factor > 0 and at most 10000"},
		{"--fail-if on an unknown endpoint", replayArgs("--fail-if", "GET /artcles: p(95)<500"), `--fail-if "GET /artcles: p(95)<500": the replay sends no endpoint "GET /artcles" (did you mean "GET /articles"?)`},
		{"step stages lasting 0s", replayArgs("--stages", "0s:10"), "--stages last 0s in all"},
		{"stages with a negative duration", replayArgs("--stages", "-1s:10"), `--stages "-1s:10"`},
		{"--web-token too short", replayArgs("--web", "--web-token", "abc"), "--web-token: want at least 8 characters"},
		{"--web with a bad address", replayArgs("--web=nowhere"), `want HOST:PORT, got "nowhere"`},
		// Typos get a suggestion (item 12); no "amp: amp:" (item 10).
		{"flag typo", replayArgs("--userz", "5"), "replay: flag provided but not defined: -userz (did you mean --users?)"},
		{"command typo", []string{"repaly", rec}, `unknown command "repaly" (did you mean 'amp replay'?)`},
		{"app flag typo", []string{"--verison"}, "flag provided but not defined: -verison (did you mean --version?) (run 'amp --help')"},
		{"subcommand flag typo", []string{"kube", "job", rec, "--shardz", "2"}, "kube job: flag provided but not defined: -shardz (did you mean --shards?) (run 'amp kube job --help')"},
		{"duration typo", replayArgs("--duration", "5x"), `invalid value "5x" for flag -duration`},
		// The CA paths must exist unless amp ca is asked to create them (item 8).
		{"record with a mistyped CA", []string{"record", "-o", filepath.Join(dir, "o.amp"), "--ca-cert", cert, "--ca-key", key}, "--ca-cert " + cert + ": no such file"},
		{"amp ca with a mistyped CA", []string{"ca", "--ca-cert", cert, "--ca-key", key}, "ca: --ca-cert " + cert + ": no such file (add --create"},
		{"amp ca --create without paths", []string{"ca", "--create"}, "ca: --create makes a CA at --ca-cert and --ca-key"},
		{"record CA with --target", []string{"record", "-o", filepath.Join(dir, "t.amp"), "--target", host, "--ca-cert", cert, "--ca-key", key}, "--ca-cert and --ca-key have no effect with --target"},
		// The real error before the Ctrl-C note (item 10).
		{"kube job: missing file first", []string{"kube", "job", filepath.Join(dir, "none.amp"), "--shards", "2", "--host", host, "--image", "i"}, "none.amp: no such file"},
		{"report without a file", []string{"report"}, "report: want a result file"},
		{"help for an unknown topic", []string{"help", "bogus"}, "No help topic for 'bogus'"}, // exit 1, not urfave/cli's 3
		{"sessions of a missing file", []string{"sessions", filepath.Join(dir, "none.amp")}, "none.amp: no such file"},
		{"demosite bad latency", []string{"demosite", "--latency", "fast"}, `invalid value "fast" for flag -latency`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runAmp(t, tc.args...)
			if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("amp %q: exit %d, stderr %q; want exit 1 and one line with %q", tc.args, r.code, r.stderr, tc.want)
			}
			if strings.Contains(r.stderr, "amp: amp:") || strings.Contains(r.stderr, "goroutine ") {
				t.Errorf("stderr %q", r.stderr)
			}
			if b, _ := os.ReadFile(rec); !bytes.Equal(b, recBytes) {
				t.Fatal("the recording changed")
			}
			for _, p := range []string{cert, key} {
				if _, err := os.Stat(p); err == nil {
					t.Fatalf("%s was created", p)
				}
			}
		})
	}
}

// TestPaperCuts: what a newcomer types in the first ten minutes works (issue
// 13 item 12).
func TestPaperCuts(t *testing.T) {
	app := newApp(nil, nil)
	for _, tc := range []struct{ in, want string }{
		{"amp replay rec.amp --web 127.0.0.1:9000", "amp replay --web=127.0.0.1:9000 rec.amp"}, // as the help shows
		{"amp replay --web rec.amp", "amp replay --web rec.amp"},                               // alone: the default address
		{"amp replay rec.amp --duration 5", "amp replay --duration 5s rec.amp"},                // a bare number is seconds
		{"amp replay rec.amp --timeout=2.5", "amp replay --timeout=2.5s rec.amp"},
		{"amp replay rec.amp --users 5", "amp replay --users 5 rec.amp"}, // not a duration flag
		{"amp report merge a.json --help", "amp report --help"},          // help for the command, not a topic
	} {
		if got := strings.Join(reorderArgs(app, strings.Fields(tc.in)), " "); got != tc.want {
			t.Errorf("reorder(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if r := runAmp(t, "report", "merge", "--help"); r.code != 0 || !strings.Contains(r.stdout, "amp report merge") {
		t.Errorf("amp report merge --help: exit %d, %q", r.code, r.stderr)
	}
	srv := httptest.NewServer(demosite.New(demosite.Config{}))
	defer srv.Close()
	rec := writeDemoRecording(t)
	r := runAmp(t, "replay", rec, "--host", srv.URL, "--stages", "0s:2,1:2", "--think", "0.01", "--quiet")
	if r.code != 0 || !strings.Contains(r.stdout, "stages: 0s:2,1:2, 1s in all") || !strings.Contains(r.stdout, "2 sessions, 5 requests") {
		t.Errorf("step stages, bare-number think time: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if p := plural(1, "session"); p != "1 session" {
		t.Errorf("plural: %q", p)
	}
}

// TestFaultExitCodes: a run that failed completely never exits 0 (issue
// 13 item 3): against a dead target the default thresholds fail it; against
// a target that accepts and never answers, with a run shorter than
// --timeout, the requests fail as "timeout at stop" and 'rate<0.01' fails.
func TestFaultExitCodes(t *testing.T) {
	rec := writeDemoRecording(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	r := runAmp(t, "replay", rec, "--host", dead, "--users", "3", "--think", "none", "--duration", "1s", "--quiet")
	if r.code != exitThreshold || !strings.Contains(r.stderr, "failed the default thresholds (rate<0.05: 100%") ||
		!strings.Contains(r.stdout, "connection refused") || !strings.Contains(r.stdout, "FAILING") {
		t.Errorf("dead target: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout, "0001-01-01") {
		t.Errorf("report without a start:\n%s", r.stdout)
	}
	r = runAmp(t, "replay", rec, "--host", dead, "--users", "1", "--iterations", "1", "--quiet", "--no-default-thresholds")
	if r.code != 0 {
		t.Errorf("dead target with --no-default-thresholds: exit %d %s", r.code, r.stderr)
	}

	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	held := make(chan net.Conn, 100)
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			held <- c // never answered
		}
	}()
	defer func() {
		silent.Close()
		for len(held) > 0 {
			(<-held).Close()
		}
	}()
	start := time.Now()
	r = runAmp(t, "replay", rec, "--host", "http://"+silent.Addr().String(), "--users", "2", "--duration", "1s",
		"--stop-timeout", "0.5", "--timeout", "30s", "--quiet", "--fail-if", "rate<0.01",
		"--no-validate") // the validation pass would wait --timeout for each request
	if r.code != exitThreshold || !strings.Contains(r.stdout, "timeout at stop") || strings.Contains(r.stdout, "Skipped") ||
		!strings.Contains(r.stdout, "FAIL  rate<0.01: 100%") || time.Since(start) > 20*time.Second {
		t.Errorf("never-answering target: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "Run: "+time.Now().UTC().Format("2006-01-02")) && !strings.Contains(r.stdout, "Run: "+start.UTC().Format("2006-01-02")) {
		t.Errorf("run date:\n%s", r.stdout)
	}
}

// garbageTarget accepts connections and answers every request with a
// different line of random bytes, until the test ends.
func garbageTarget(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for i := 0; ; i++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn, seed int) {
				defer c.Close()
				buf := make([]byte, 4096)
				rng := rand.New(rand.NewPCG(uint64(seed), 1))
				for {
					if _, err := c.Read(buf); err != nil {
						return
					}
					junk := make([]byte, 20+rng.IntN(200))
					for j := range junk {
						junk[j] = byte(rng.UintN(256))
					}
					if _, err := c.Write(append(junk, "\r\n\r\n"...)); err != nil {
						return
					}
				}
			}(c, i)
		}
	}()
	return "http://" + ln.Addr().String()
}

// TestGarbageTarget: a target speaking garbage gives bounded reasons and
// /metrics answers 200 all along (issue 13 item 5; bench/replay/garbage.sh
// runs it for 20 s and watches the memory).
func TestGarbageTarget(t *testing.T) {
	rec := writeDemoRecording(t)
	target := garbageTarget(t)
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(t.Context(), []string{"amp", "replay", rec, "--host", target, "--users", "4", "--think", "none",
			"--duration", "2s", "--quiet", "--metrics", "127.0.0.1:0", "--no-validate"}, &stdout, &stderr)
	}()
	addr := regexp.MustCompile(`http://127\.0\.0\.1:\d+/metrics`)
	scrapes, code := 0, -1
	for code < 0 {
		select {
		case code = <-done:
			continue
		case <-time.After(50 * time.Millisecond):
		}
		url := addr.FindString(stdout.String())
		if url == "" {
			continue
		}
		resp, err := http.Get(url)
		if err != nil {
			continue // the run ended and the server with it
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("/metrics: %d %s", resp.StatusCode, firstLine(string(body)))
		}
		scrapes++
	}
	out := stdout.String()
	if code != exitThreshold || scrapes == 0 || !strings.Contains(out, "bad response: malformed status line (e.g.") {
		t.Fatalf("exit %d after %d scrapes\n%s\n%s", code, scrapes, out, stderr.String())
	}
	reasons := strings.Count(out, "bad response:") + strings.Count(out, "  other")
	if reasons > 3*(stats.MaxReasons+1) { // three endpoints
		t.Fatalf("%d failure lines:\n%s", reasons, out)
	}
}

// TestReplayWebToken: with --web-token the UI prints its URL with the token
// and refuses requests without it (issue 13 item 9).
func TestReplayWebToken(t *testing.T) {
	target := httptest.NewServer(demosite.New(demosite.Config{}))
	defer target.Close()
	rec := writeDemoRecording(t)
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(t.Context(), []string{"amp", "replay", rec, "--host", target.URL, "--web", "127.0.0.1:0", "--autostart",
			"--web-token", "letmein-123", "--users", "2", "--think", "50ms", "--duration", "1s"}, &stdout, &stderr)
	}()
	addr := regexp.MustCompile(`web UI on (http://127\.0\.0\.1:\d+)/\?token=letmein-123 `)
	deadline := time.Now().Add(10 * time.Second)
	for addr.FindStringSubmatch(stdout.String()) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("no UI address with the token printed: %q %q", stdout.String(), stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	base := addr.FindStringSubmatch(stdout.String())[1]
	for _, tc := range []struct {
		auth string
		want int
	}{{"", http.StatusUnauthorized}, {"Bearer wrong-token", http.StatusUnauthorized}, {"Bearer letmein-123", http.StatusOK}} {
		req, _ := http.NewRequest("GET", base+"/api/state", nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("Authorization %q: %d, want %d", tc.auth, resp.StatusCode, tc.want)
		}
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("amp replay --web --autostart did not exit after the replay")
	}
}
