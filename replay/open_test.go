package replay

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/capture/har"
	"github.com/ampload/amp/demosite"
	"github.com/ampload/amp/internal/testenv"
	"github.com/ampload/amp/stats"
)

// writeRecording writes rec's exchanges to a new recording file, grouped
// as they are, and returns its path.
func writeRecording(t testing.TB, rec *capture.Recording) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rec.amp")
	w, err := capture.Create(path, capture.FileHeader{Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rec.Sessions {
		for _, e := range s.Exchanges {
			if err := w.Write(e); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// mixedRecording is three demo-site flows (logins, forms, ids, tokens) and
// the sessions of real browsers' HAR files from ../shared/testdata.
func mixedRecording(t testing.TB) *capture.Recording {
	t.Helper()
	srv, _ := newDemo(t, demosite.Config{})
	rec := &capture.Recording{}
	for i := range 3 {
		r := recordFlow(t, srv.URL, "")
		for _, s := range r.Sessions {
			s.ID = fmt.Sprintf("demo-%d", i)
			for _, e := range s.Exchanges {
				e.Session = s.ID
			}
			rec.Sessions = append(rec.Sessions, s)
		}
	}
	dir := testenv.SharedTestdata(t, "har")
	for _, name := range []string{"pagexray__www.nytimes.com.har", "harviewer__multiple-pages.har", "mitmproxy__firefox.har"} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		var exs []*capture.Exchange
		_, err = har.Import(f, har.Config{Name: name}, capture.SinkFunc(func(e *capture.Exchange) error {
			exs = append(exs, e)
			return nil
		}))
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		rec.Sessions = append(rec.Sessions, capture.GroupSessions(exs)...)
	}
	return rec
}

// TestOpenPlanCompilesAsNewPlan: a plan read on demand compiles every
// session exactly as NewPlan does from the whole recording (the tasks, their
// headers and spans, the rules, the checks with the recording's groups),
// and knows the same counts before it has compiled any.
func TestOpenPlanCompilesAsNewPlan(t *testing.T) {
	rec := mixedRecording(t)
	path := writeRecording(t, rec)
	f, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	facts, err := SurveyFile(t.Context(), f, nil)
	if err != nil {
		t.Fatal(err)
	}
	read, err := capture.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	namer, _ := stats.NewNamer(nil)
	for _, cfg := range []Config{
		{Host: "http://127.0.0.1:1", Map: []HostMap{{From: "static01.nyt.com", To: "http://127.0.0.1:2"}}},
		{Host: "http://127.0.0.1:1", NoCorrelate: true},
		{Host: "http://127.0.0.1:1", CheckMode: CheckStatus},
	} {
		eager, err := NewPlan(read, cfg, namer.Name)
		if err != nil {
			t.Fatal(err)
		}
		lazy, err := OpenPlan(f, facts, cfg, namer.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !lazy.OnDemand() || eager.OnDemand() {
			t.Fatal("OnDemand is wrong")
		}
		if len(lazy.Scripts) != len(eager.Scripts) || lazy.Tasks != eager.Tasks || lazy.Sendable != eager.Sendable ||
			lazy.MainHost != eager.MainHost || lazy.Span != eager.Span || !reflect.DeepEqual(lazy.Hosts, eager.Hosts) {
			t.Fatalf("plans differ: on demand %d scripts, %d tasks, %d sendable, %s, %v; whole %d, %d, %d, %s, %v",
				len(lazy.Scripts), lazy.Tasks, lazy.Sendable, lazy.MainHost, lazy.Span, len(eager.Scripts), eager.Tasks, eager.Sendable, eager.MainHost, eager.Span)
		}
		byID := map[string]*Script{}
		for _, sc := range eager.Scripts {
			byID[sc.ID] = sc
		}
		checked, rules, titles := 0, 0, 0
		for i, stub := range lazy.Scripts {
			want := byID[stub.ID]
			if want == nil || stub.Start != want.Start || stub.Span != want.Span || stub.Len() != len(want.Tasks) {
				t.Fatalf("script %d (%s): stub differs from %+v", i, stub.ID, want)
			}
			got, err := lazy.script(i)
			if err != nil {
				t.Fatal(err)
			}
			if got.session != nil {
				t.Fatal("a cached script keeps its recorded session")
			}
			if !reflect.DeepEqual(got.Rules, want.Rules) {
				t.Fatalf("%s: rules differ:\n%+v\n%+v", stub.ID, got.Rules, want.Rules)
			}
			for j := range want.Tasks {
				a, b := got.Tasks[j], want.Tasks[j]
				if a.Target != nil && b.Target != nil && a.Target.Origin != b.Target.Origin || (a.Target == nil) != (b.Target == nil) {
					t.Fatalf("%s #%d: targets differ", stub.ID, j)
				}
				a.Target, b.Target = nil, nil
				if !reflect.DeepEqual(a, b) {
					t.Fatalf("%s #%d: tasks differ:\n%+v\n%+v", stub.ID, j, a, b)
				}
				if b.exp != nil && b.exp.checkTitle {
					titles++
				}
				checked++
			}
			rules += len(want.Rules)
		}
		if checked != eager.Tasks || cfg.CheckMode == CheckAuto && titles == 0 || !cfg.NoCorrelate && rules == 0 {
			t.Fatalf("compared %d of %d tasks, %d rules, %d title checks: the recording does not exercise the plan", checked, eager.Tasks, rules, titles)
		}
	}
}

// TestFileFacts: facts saved in the index come back equal; facts that do
// not fit the file (another file's) are refused, so that they are surveyed
// again rather than trusted.
func TestFileFacts(t *testing.T) {
	rec := mixedRecording(t)
	path := writeRecording(t, rec)
	f, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if FileFacts(f) != nil {
		t.Fatal("a new recording has facts")
	}
	facts, err := SurveyFile(t.Context(), f, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := facts.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SaveIndex(nil, map[string][]byte{FactsExtra: b}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	f, err = capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := FileFacts(f)
	if got == nil {
		t.Fatal("the saved facts are not read back")
	}
	if !reflect.DeepEqual(got, facts) {
		t.Fatalf("facts read back differ:\n%+v\n%+v", got, facts)
	}
	whole, _ := capture.ReadFile(path)
	if s := Survey(whole); !reflect.DeepEqual(s.Groups, facts.Groups) || !reflect.DeepEqual(s.Shared, facts.Shared) || !reflect.DeepEqual(s.Shapes, facts.Shapes) {
		t.Fatal("Survey and SurveyFile disagree")
	}

	// Facts of one session less, saved for this file: refused.
	small := *facts
	small.Spans, small.Names = small.Spans[1:], small.Names[1:]
	b, _ = small.Marshal()
	if err := f.SaveIndex(nil, map[string][]byte{FactsExtra: b}); err != nil {
		t.Fatal(err)
	}
	g, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if FileFacts(g) != nil {
		t.Fatal("facts of other sessions were taken")
	}
	if _, err := OpenPlan(g, &small, Config{Host: "http://127.0.0.1:1"}, nil); err == nil {
		t.Fatal("OpenPlan took facts of other sessions")
	}
}

// TestScriptCache: concurrent users of one script compile it once; the
// cache lets the oldest go past its limit, and a script let go compiles
// again.
func TestScriptCache(t *testing.T) {
	c := newScriptCache(1000)
	var loads [4]atomic.Int32
	load := func(i int) func() (*Script, int64, error) {
		return func() (*Script, int64, error) {
			loads[i].Add(1)
			return &Script{index: i}, 400, nil
		}
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if sc, err := c.get(0, load(0)); err != nil || sc.index != 0 {
				t.Error("wrong script")
			}
		}()
	}
	wg.Wait()
	if n := loads[0].Load(); n != 1 {
		t.Fatalf("script 0 compiled %d times by concurrent users, want 1", n)
	}
	c.get(1, load(1))
	c.get(2, load(2)) // 1200 bytes: script 0 goes
	if c.bytes > c.limit || c.entries[0] != nil || c.entries[2] == nil {
		t.Fatalf("cache holds %d bytes of %d, entries %v", c.bytes, c.limit, c.entries)
	}
	c.get(0, load(0))
	if n := loads[0].Load(); n != 2 {
		t.Fatalf("script 0 compiled %d times after it was let go, want 2", n)
	}
	if n := loads[2].Load(); n != 1 {
		t.Fatalf("script 2 compiled %d times, want 1", n)
	}
}

// TestRunFileLearnsAndReplays: a run read on demand runs the validation
// pass on the file's sessions, its rules reach the sessions as they compile,
// and the users replay with no failure — what TestVerifyLearnsWhatChanged
// shows for a recording in memory.
func TestRunFileLearnsAndReplays(t *testing.T) {
	t.Parallel()
	rsrv, _ := slugApp(t)
	path := writeRecording(t, recordSlugFlow(t, rsrv.URL))
	f, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	facts, err := SurveyFile(t.Context(), f, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, counts := slugApp(t)
	cfg := fastConfig(srv.URL)
	cfg.Users, cfg.Iterations = 5, 5
	namer, _ := stats.NewNamer(nil)
	run, err := NewRunFile(t.Context(), f, facts, cfg, RunOptions{Name: namer.Name, Validate: true})
	if err != nil {
		t.Fatal(err)
	}
	if v := run.Verification; v == nil || len(v.Learned) != 1 || v.Sessions != 1 || run.Plan.RulesApplied != 1 {
		t.Fatalf("validation pass on demand: %+v, %d rules applied", run.Verification, run.Plan.RulesApplied)
	}
	res, err := run.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Failures != 0 || res.Requests == 0 {
		t.Fatalf("%d requests, %d failures: %s", res.Requests, res.Failures, describeFailures(res))
	}
	if created, opened := counts(); created != 6 || opened != 6 {
		t.Fatalf("created %d, opened %d notes; want 6 each", created, opened)
	}
	if n := len(run.Player.RuleCounts()); n == 0 {
		t.Fatal("no rule counts from the sessions compiled on demand")
	}
	var withRecorded int
	for _, ep := range res.Endpoints {
		if ep.Slowdown != nil {
			withRecorded++
		}
	}
	if withRecorded == 0 {
		t.Fatal("no endpoint has recorded latencies to compare with")
	}

	// Without correlation the recorded word goes back and the opens fail.
	srv2, _ := slugApp(t)
	cfg2 := fastConfig(srv2.URL)
	cfg2.Users, cfg2.Iterations, cfg2.NoCorrelate = 2, 2, true
	run2, err := NewRunFile(t.Context(), f, facts, cfg2, RunOptions{Name: namer.Name, Validate: true})
	if err != nil {
		t.Fatal(err)
	}
	res2, err := run2.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res2.Failures == 0 {
		t.Fatal("--no-correlate on demand: no failure")
	}
}

// FuzzDecodeFacts: facts read from an index beside a recording come from a
// file anyone could have changed: decoding never panics, and facts it
// accepts plan and compile a recording of their size without panicking.
func FuzzDecodeFacts(f *testing.F) {
	rec := &capture.Recording{Sessions: capture.GroupSessions(factsFuzzExchanges())}
	good, _ := Survey(rec).Marshal()
	f.Add(good)
	f.Add([]byte{0x80})
	f.Add(good[:len(good)/2])
	f.Fuzz(func(t *testing.T, raw []byte) {
		fa := decodeFacts(raw, len(rec.Sessions), 2)
		if fa == nil {
			return
		}
		p, err := newPlan(fa, Config{Host: "http://127.0.0.1:1"}, nil)
		if err != nil {
			return
		}
		for i, s := range rec.Sessions {
			sc := &Script{ID: s.ID, Start: s.Start(), index: i}
			p.compile(sc, s)
		}
		_, _ = p.EndpointLabels()
	})
}

func factsFuzzExchanges() []*capture.Exchange {
	mk := func(session, url string) *capture.Exchange {
		return &capture.Exchange{Session: session, Request: capture.Request{Method: "GET", URL: url},
			Response: capture.Response{Status: 200, Header: capture.Headers{{Name: "Content-Type", Value: "text/html"}}, Body: []byte("<title>x</title><form></form>")}}
	}
	return []*capture.Exchange{mk("a", "http://shop.example/"), mk("b", "http://shop.example/items/1?q=2")}
}
