package edit_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/capture/edit"
	"github.com/ampload/amp/internal/fielderr"
)

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// exchange is an exchange with every field set.
func exchange(session string, at time.Duration, method, url, ctype string) *capture.Exchange {
	return &capture.Exchange{
		Session: session, Client: "10.0.0.7:5123" + session[len(session)-1:], Start: t0.Add(at),
		TTFB: 3 * time.Millisecond, Duration: 7 * time.Millisecond,
		Request: capture.Request{Method: method, URL: url, Proto: "HTTP/1.1",
			Header: capture.Headers{{Name: "Cookie", Value: "sid=" + session}, {Name: "X-Dup", Value: "a"}, {Name: "X-Dup", Value: "b"}},
			Body:   []byte("q=" + session), BodySize: 40},
		Response: capture.Response{Status: 200, Proto: "HTTP/1.1",
			Header: capture.Headers{{Name: "Content-Type", Value: ctype}},
			Body:   []byte("body of " + url), BodySize: 9000, BodyHash: []byte{1, 2, 3}},
		Flags: capture.FlagResponseTruncated, Error: "",
	}
}

// sample writes a recording of five sessions over two hosts, with static
// assets, and returns its path.
func sample(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "in.amp")
	w, err := capture.Create(path, capture.FileHeader{Source: "proxy", Created: t0, Tool: "amp test"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		key := fmt.Sprintf("cookie:sid=u%d", i)
		at := time.Duration(i) * 2 * time.Second
		exs := []*capture.Exchange{
			exchange(key, at, "GET", "http://shop.example:8080/", "text/html"),
			exchange(key, at+100*time.Millisecond, "GET", "http://shop.example:8080/static/app.js?v=2", "application/javascript"),
			exchange(key, at+200*time.Millisecond, "GET", "http://cdn.example/img/logo", "image/png"),
			exchange(key, at+300*time.Millisecond, "POST", "http://shop.example:8080/api/cart", "application/json"),
		}
		if i == 2 {
			exs[3].Flags, exs[3].Error = capture.FlagFailed|capture.FlagNoResponse, "connection reset"
		}
		for _, e := range exs {
			if err := w.Write(e); err != nil {
				t.Fatal(err)
			}
		}
	}
	w.NameSession("cookie:sid=u1", "login→cart")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func open(t *testing.T, path string) *capture.File {
	t.Helper()
	f, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// filter applies f to in and returns the output's path and report.
func filter(t *testing.T, in string, f edit.Filter) (string, *edit.Report) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.amp")
	file := open(t, in)
	w, err := capture.Create(out, edit.Header("filter", "amp test", nil, edit.Input{Name: in, File: file}))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := edit.Apply(context.Background(), file, f, w)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out, rep
}

func merge(t *testing.T, opt edit.MergeOptions, paths ...string) (string, *edit.MergeReport) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "merged.amp")
	var ins []edit.Input
	for _, p := range paths {
		ins = append(ins, edit.Input{Name: p, File: open(t, p)})
	}
	w, err := capture.Create(out, edit.Header("merge", "amp test", nil, ins...))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := edit.Merge(context.Background(), ins, opt, w)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out, rep
}

func read(t *testing.T, path string) *capture.Recording {
	t.Helper()
	rec, err := capture.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// sameSessions fails unless a and b hold the same sessions with the same
// exchanges, every field compared.
func sameSessions(t *testing.T, a, b string) {
	t.Helper()
	ra, rb := read(t, a), read(t, b)
	if len(ra.Sessions) == 0 {
		t.Fatalf("%s: no sessions", a)
	}
	if !reflect.DeepEqual(ra.Sessions, rb.Sessions) {
		t.Fatalf("%s and %s differ:\n%d sessions, %d exchanges\n%d sessions, %d exchanges", a, b,
			len(ra.Sessions), ra.Exchanges(), len(rb.Sessions), rb.Exchanges())
	}
}

func TestFilterRoundTrips(t *testing.T) {
	in := sample(t)
	for _, tc := range []struct {
		name     string
		yes, no  edit.Filter
		join     bool
		kept     int // exchanges kept by yes
		keptSess int
	}{
		{name: "sessions", yes: edit.Filter{Sessions: []string{"1", "cookie:sid=u3"}}, no: edit.Filter{Sessions: []string{"2", "3", "5"}}, kept: 8, keptSess: 2},
		{name: "name", yes: edit.Filter{Sessions: []string{"login→cart"}}, no: edit.Filter{Sessions: []string{"1", "3", "4", "5"}}, kept: 4, keptSess: 1},
		{name: "paths", yes: edit.Filter{IncludePaths: []string{"/static/*", "/img/*"}}, no: edit.Filter{ExcludePaths: []string{"/static/*", "/img/*"}}, join: true, kept: 10, keptSess: 5},
		{name: "static", yes: edit.Filter{SkipStatic: true}, no: edit.Filter{IncludePaths: []string{"*.js", "/img/*"}}, join: true, kept: 10, keptSess: 5},
		{name: "hosts", yes: edit.Filter{Hosts: []string{"CDN.example"}}, no: edit.Filter{Hosts: []string{"shop.example:8080"}}, join: true, kept: 5, keptSess: 5},
		{name: "methods", yes: edit.Filter{Methods: []string{"post"}}, no: edit.Filter{Methods: []string{"GET"}}, join: true, kept: 5, keptSess: 5},
		{name: "window", yes: edit.Filter{To: edit.Bound{Offset: 4150 * time.Millisecond, Set: true}}, no: edit.Filter{From: edit.Bound{At: t0.Add(4150 * time.Millisecond), Set: true}}, join: true, kept: 10, keptSess: 3},
		{name: "max", yes: edit.Filter{MaxSessions: 2}, no: edit.Filter{Sessions: []string{"3", "4", "5"}}, kept: 8, keptSess: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, ra := filter(t, in, tc.yes)
			b, rb := filter(t, in, tc.no)
			if ra.Exchanges != tc.kept || ra.Sessions != tc.keptSess {
				t.Errorf("kept %d sessions, %d exchanges; want %d, %d (%+v)", ra.Sessions, ra.Exchanges, tc.keptSess, tc.kept, ra)
			}
			if ra.Exchanges+rb.Exchanges != 20 || ra.ExchangesIn != 20 || ra.SessionsIn != 5 {
				t.Errorf("the two filters kept %d and %d of %d exchanges, want all between them", ra.Exchanges, rb.Exchanges, ra.ExchangesIn)
			}
			dropped := 0
			for _, d := range ra.Dropped {
				dropped += d.Exchanges
			}
			if dropped+ra.Exchanges != 20 {
				t.Errorf("dropped %d + kept %d exchanges, want 20: %+v", dropped, ra.Exchanges, ra.Dropped)
			}
			back, mrep := merge(t, edit.MergeOptions{Join: tc.join}, a, b)
			if len(mrep.Renamed) != 0 {
				t.Errorf("renamed %v", mrep.Renamed)
			}
			sameSessions(t, in, back)
			if got := open(t, back).Sessions()[1].Name; got != "login→cart" {
				t.Errorf("session 2 is named %q after the round trip", got)
			}
		})
	}
}

func TestFilterReport(t *testing.T) {
	in := sample(t)
	out, rep := filter(t, in, edit.Filter{Sessions: []string{"1", "2", "3", "4"}, Hosts: []string{"shop.example"}, SkipStatic: true, Methods: []string{"GET"}, MaxSessions: 2})
	want := &edit.Report{SessionsIn: 5, ExchangesIn: 20, Sessions: 2, Exchanges: 2, Dropped: []edit.Drop{
		{Rule: edit.RuleSessions, Sessions: 1, Exchanges: 4},
		{Rule: edit.RuleHosts, Exchanges: 2},
		{Rule: edit.RuleMethods, Exchanges: 2},
		{Rule: edit.RuleSkipStatic, Exchanges: 2},
		{Rule: edit.RuleMaxSessions, Sessions: 2, Exchanges: 8},
	}}
	if !reflect.DeepEqual(rep, want) {
		t.Errorf("report\n%+v\nwant\n%+v", rep, want)
	}
	rec := read(t, out)
	if len(rec.Sessions) != 2 || rec.Sessions[0].Exchanges[0].Request.URL != "http://shop.example:8080/" {
		t.Errorf("wrote %d sessions: %+v", len(rec.Sessions), rec.Sessions)
	}
	if h := rec.Header; h.Source != "proxy" || h.Options["edit"] != "filter" || h.Options["input.1"] != in || h.Options["input.1.id"] == "" || !h.Created.Equal(t0) {
		t.Errorf("header %+v", h)
	}
	// Everything left empty: counted as such.
	_, rep = filter(t, in, edit.Filter{Methods: []string{"DELETE"}})
	if rep.Sessions != 0 || len(rep.Dropped) != 2 || rep.Dropped[1] != (edit.Drop{Rule: edit.RuleEmpty, Sessions: 5}) {
		t.Errorf("report %+v", rep)
	}
}

func TestFilterBadInput(t *testing.T) {
	in := sample(t)
	for _, tc := range []struct {
		f     edit.Filter
		field string
		want  string
	}{
		{edit.Filter{IncludePaths: []string{"/a/["}}, "IncludePaths", "not a glob pattern"},
		{edit.Filter{ExcludePaths: []string{"api/*"}}, "ExcludePaths", "starts with '/'"},
		{edit.Filter{Sessions: []string{"6"}}, "Sessions", "from 1 to 5"},
		{edit.Filter{Sessions: []string{"nobody"}}, "Sessions", "no session has this key"},
		{edit.Filter{MaxSessions: -1}, "MaxSessions", "want 0"},
		{edit.Filter{Methods: []string{"GET /"}}, "Methods", "not an HTTP method"},
		{edit.Filter{Hosts: []string{"http://shop.example/"}}, "Hosts", "without scheme"},
		{edit.Filter{From: edit.Bound{Offset: time.Minute, Set: true}, To: edit.Bound{Offset: time.Second, Set: true}}, "To", "window is empty"},
		{edit.Filter{From: edit.Bound{Offset: time.Minute, Set: true}, To: edit.Bound{At: t0, Set: true}}, "To", "window is empty"},
	} {
		file := open(t, in)
		var got []*capture.Exchange
		_, err := edit.Apply(context.Background(), file, tc.f, capture.SinkFunc(func(e *capture.Exchange) error { got = append(got, e); return nil }))
		fe := fielderr.All(err)
		if len(fe) != 1 || fe[0].Field != tc.field || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error of %s: %s", tc.f, err, tc.field, tc.want)
		}
		if len(got) != 0 {
			t.Errorf("%+v: wrote %d exchanges before failing", tc.f, len(got))
		}
	}
}

func TestParseBound(t *testing.T) {
	for in, want := range map[string]edit.Bound{
		"5m":                        {Offset: 5 * time.Minute, Set: true},
		"0s":                        {Set: true},
		"2026-12-01T10:00:04Z":      {At: t0.Add(4 * time.Second), Set: true},
		"2026-12-01T11:00:04+01:00": {At: t0.Add(4 * time.Second).In(time.FixedZone("", 3600)), Set: true},
	} {
		got, err := edit.ParseBound(in)
		if err != nil || got.Set != want.Set || got.Offset != want.Offset || !got.At.Equal(want.At) {
			t.Errorf("ParseBound(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-5m", "yesterday", "2026-12-01 10:00"} {
		if _, err := edit.ParseBound(in); err == nil {
			t.Errorf("ParseBound(%q) took it", in)
		}
	}
}

func TestMergeRenamesSharedKeys(t *testing.T) {
	in := sample(t)
	one, _ := filter(t, in, edit.Filter{Sessions: []string{"1", "2"}})
	out, rep := merge(t, edit.MergeOptions{}, in, one, in)
	if rep.Sessions != 12 || rep.Exchanges != 48 {
		t.Errorf("merged %d sessions, %d exchanges; want 12, 48", rep.Sessions, rep.Exchanges)
	}
	want := []edit.Renamed{
		{Input: one, Keys: map[string]string{"cookie:sid=u0": "cookie:sid=u0~2", "cookie:sid=u1": "cookie:sid=u1~2"}},
		{Input: in, Keys: map[string]string{"cookie:sid=u0": "cookie:sid=u0~3", "cookie:sid=u1": "cookie:sid=u1~3",
			"cookie:sid=u2": "cookie:sid=u2~3", "cookie:sid=u3": "cookie:sid=u3~3", "cookie:sid=u4": "cookie:sid=u4~3"}},
	}
	if !reflect.DeepEqual(rep.Renamed, want) {
		t.Errorf("renamed %+v\nwant %+v", rep.Renamed, want)
	}
	rec := read(t, out)
	if len(rec.Sessions) != 12 {
		t.Fatalf("%d sessions", len(rec.Sessions))
	}
	// Every exchange as it was but for the key.
	orig := read(t, in)
	for _, s := range rec.Sessions {
		base, _, _ := strings.Cut(s.ID, "~")
		var o *capture.Session
		for _, os := range orig.Sessions {
			if os.ID == base {
				o = os
			}
		}
		for i, e := range s.Exchanges {
			c := *e
			c.Session = base
			if !reflect.DeepEqual(&c, o.Exchanges[i]) {
				t.Fatalf("session %s exchange %d changed", s.ID, i)
			}
		}
	}
	if h := rec.Header; h.Options["input.3"] != in || h.Options["input.2"] != one || h.Source != "proxy" {
		t.Errorf("header %+v", h)
	}
}

func TestSplitThenMerge(t *testing.T) {
	in := sample(t)
	for _, by := range []edit.By{edit.BySession, edit.ByHost} {
		dir := filepath.Join(t.TempDir(), "parts")
		file := open(t, in)
		parts, err := edit.Split(context.Background(), file, by, dir, edit.Header("split", "amp test", nil, edit.Input{Name: in, File: file}))
		if err != nil {
			t.Fatal(err)
		}
		var paths []string
		n := 0
		for _, p := range parts {
			paths = append(paths, p.Path)
			n += p.Exchanges
			if h := read(t, p.Path).Header; h.Options["split.key"] != p.Key {
				t.Errorf("%s: header %+v", p.Path, h)
			}
			if st, err := os.Stat(p.Path); err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("%s: %v %v", p.Path, st.Mode(), err)
			}
		}
		switch by {
		case edit.BySession:
			if len(parts) != 5 || filepath.Base(parts[0].Path) != "session-1.amp" || parts[0].Key != "cookie:sid=u0" || n != 20 {
				t.Errorf("parts %+v", parts)
			}
		case edit.ByHost:
			want := []edit.Part{
				{Path: filepath.Join(dir, "shop.example_8080.amp"), Key: "shop.example:8080", Sessions: 5, Exchanges: 15},
				{Path: filepath.Join(dir, "cdn.example.amp"), Key: "cdn.example", Sessions: 5, Exchanges: 5},
			}
			if !reflect.DeepEqual(parts, want) {
				t.Errorf("parts %+v, want %+v", parts, want)
			}
		}
		back, _ := merge(t, edit.MergeOptions{Join: by == edit.ByHost}, paths...)
		sameSessions(t, in, back)

		// Again into the same directory: refused, nothing changed.
		before, _ := os.ReadDir(dir)
		_, err = edit.Split(context.Background(), file, by, dir, capture.FileHeader{})
		if !errors.Is(err, os.ErrExist) {
			t.Errorf("split again: %v, want an existing file", err)
		}
		after, _ := os.ReadDir(dir)
		if len(after) != len(before) {
			t.Errorf("split again left %d files, were %d", len(after), len(before))
		}
	}
}

func TestCanceled(t *testing.T) {
	in := sample(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := edit.Apply(ctx, open(t, in), edit.Filter{}, capture.SinkFunc(func(*capture.Exchange) error { return nil }))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Apply: %v", err)
	}
}
