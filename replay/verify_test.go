package replay

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/internal/testenv"
	"github.com/ampload/amp/stats"
)

// slugApp names each new note by a short random word — no digits, nothing
// that looks like a token — and lets only its creator open it: the learner
// cannot tell the word from a label; the validation pass sees it change.
func slugApp(t *testing.T) (*httptest.Server, func() (created, opened int)) {
	var mu sync.Mutex
	owner := map[string]string{}
	opened := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		sid := ""
		if c, err := r.Cookie("sid"); err == nil {
			sid = c.Value
		} else {
			sid = randHex(6)
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: sid, Path: "/"})
		}
		switch {
		case r.Method == "POST" && r.URL.Path == "/notes":
			const letters = "abcdefghijklmnopqrstuvwxyz"
			var b strings.Builder
			for range 6 {
				b.WriteByte(letters[rand.IntN(len(letters))])
			}
			owner[b.String()] = sid
			http.Redirect(w, r, "/notes/"+b.String(), http.StatusSeeOther)
		case strings.HasPrefix(r.URL.Path, "/notes/"):
			slug := strings.TrimPrefix(r.URL.Path, "/notes/")
			if owner[slug] != sid {
				http.Error(w, "no such note", http.StatusNotFound)
				return
			}
			opened[slug] = true
			_, _ = io.WriteString(w, "<title>note</title>")
		default:
			_, _ = io.WriteString(w, "<title>home</title>")
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func() (int, int) {
		mu.Lock()
		defer mu.Unlock()
		return len(owner), len(opened)
	}
}

func recordSlugFlow(t *testing.T, base string) *capture.Recording {
	rt := &testenv.RecordingTransport{}
	c := &http.Client{Transport: rt, Jar: newTestJar()}
	for _, step := range []func() (*http.Response, error){
		func() (*http.Response, error) { return c.Get(base + "/") },
		func() (*http.Response, error) {
			return c.Post(base+"/notes", "application/x-www-form-urlencoded", bytes.NewReader([]byte("text=hello")))
		},
	} {
		resp, err := step()
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return rt.Recording()
}

func TestVerifyLearnsWhatChanged(t *testing.T) {
	t.Parallel()
	rsrv, _ := slugApp(t)
	rec := recordSlugFlow(t, rsrv.URL)
	srv, counts := slugApp(t)
	cfg := fastConfig(srv.URL)
	cfg.Users, cfg.Iterations = 5, 5

	// Without the pass the recorded word goes back, and every open fails.
	namer, _ := stats.NewNamer(nil)
	plan, err := NewPlan(rec, cfg, namer.Name)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(plan.Scripts[0].Rules); n != 0 {
		t.Fatalf("the learner alone made %d rules: %+v", n, plan.Scripts[0].Rules)
	}
	v, err := Verify(t.Context(), plan, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Learned) != 1 || v.Learned[0].Rule.Source.Kind != SourceLocation || v.Sessions != 1 {
		t.Fatalf("learned %+v from %d sessions", v.Learned, v.Sessions)
	}
	if len(v.Differs) != 0 || len(v.Errors) != 0 {
		t.Fatalf("differs %+v, errors %+v", v.Differs, v.Errors)
	}
	if n := len(plan.Scripts[0].Rules); n != 0 {
		t.Fatalf("the pass changed the plan it was given: %d rules", n)
	}
	learnedCfg := cfg
	learnedCfg.Rules = v.Rules
	if plan, err = NewPlan(rec, learnedCfg, namer.Name); err != nil {
		t.Fatal(err)
	}
	if plan.RulesApplied != 1 {
		t.Fatalf("the pass's rules applied %d times, want 1", plan.RulesApplied)
	}
	col := stats.NewCollector(stats.Config{})
	p, err := NewPlayer(plan, cfg, col)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	res := col.Snapshot()
	if res.Failures != 0 {
		t.Fatalf("after the pass: %d failures: %s", res.Failures, describeFailures(res))
	}
	if created, opened := counts(); created != 6 || opened != 6 { // 5 users and the pass
		t.Fatalf("created %d, opened %d notes; want 6 each", created, opened)
	}

	// The rules saved and loaded apply without a pass.
	var buf bytes.Buffer
	if err := SaveRules(&buf, v.Rules); err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/rules.json"
	if err := writeFile(path, buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	rs, err := LoadRules(path)
	if err != nil {
		t.Fatal(err)
	}
	fileCfg := cfg
	fileCfg.Rules = rs
	plan2, _ := NewPlan(rec, fileCfg, namer.Name)
	if n := plan2.RulesApplied; n != 1 {
		t.Fatalf("applied %d rules from the file, want 1", n)
	}
	res, _ = runReplayPlan(t, plan2, cfg)
	if res.Failures != 0 {
		t.Fatalf("with --rules: %d failures: %s", res.Failures, describeFailures(res))
	}
}

// TestVerifyKeepsConstants: a value the live page still shows in such a
// place is a constant, even when another link now stands at its position
// (a page with fewer tabs for another role): the pass learns no rule.
func TestVerifyKeepsConstants(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		if r.URL.Query().Get("action") == "" {
			_, _ = io.WriteString(w, `<title>Main</title><a href="/index.php?title=Main&action=edit">edit</a><a href="/index.php?title=Main&action=history">history</a>`)
			return
		}
		_, _ = io.WriteString(w, `<title>Edit</title>`)
	}))
	defer srv.Close()
	main := `<title>Main</title><a href="/index.php?title=Main&action=protect">protect</a><a href="/index.php?title=Main&action=edit">edit</a><a href="/index.php?title=Main&action=history">history</a>`
	rec := &capture.Recording{Sessions: []*capture.Session{session(
		ex("GET", srv.URL+"/index.php", nil, "", 200, htmlType, main),
		ex("GET", srv.URL+"/index.php?title=Note&action=edit", nil, "", 200, htmlType, `<title>Edit</title>`),
	)}}
	cfg := fastConfig(srv.URL)
	plan, err := NewPlan(rec, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Verify(t.Context(), plan, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Learned) != 0 {
		t.Fatalf("learned %+v", v.Learned)
	}
}
