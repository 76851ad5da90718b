package replay

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ampload/amp/capture"
)

func TestSessionName(t *testing.T) {
	t.Parallel()
	s := session(
		ex("GET", "http://shop.example/", nil, "", 200, htmlType, ""),
		ex("GET", "http://shop.example/static/app.css", nil, "", 200, nil, ""),
		ex("GET", "http://shop.example/login", nil, "", 200, htmlType, ""),
		ex("POST", "http://shop.example/login", nil, "u=a", 302, nil, ""),
		ex("GET", "http://shop.example/articles/123?x=1", nil, "", 200, htmlType, ""),
	)
	if got := SessionName(s, nil); got != "home→login→articles/{id}" {
		t.Errorf("SessionName = %q", got)
	}
	var long []*capture.Exchange
	for _, p := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		long = append(long, ex("GET", "http://shop.example/"+p, nil, "", 200, htmlType, ""))
	}
	if got := SessionName(session(long...), nil); got != "a→b→c→d→…→g→h" {
		t.Errorf("a long session: %q", got)
	}
}

// TestJourneyWeights: two journeys weighted 80 and 20 start their sessions
// in that proportion (±3 % over 1000 sessions), and a session in no
// journey is not replayed.
func TestJourneyWeights(t *testing.T) {
	t.Parallel()
	var browse, checkout, other atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/browse"):
			browse.Add(1)
		case strings.HasPrefix(r.URL.Path, "/checkout"):
			checkout.Add(1)
		default:
			other.Add(1)
		}
	}))
	defer srv.Close()
	mk := func(id, path string) *capture.Session {
		s := session(ex("GET", srv.URL+path, nil, "", 200, nil, ""))
		s.ID = id
		return s
	}
	rec := &capture.Recording{Sessions: []*capture.Session{mk("b1", "/browse/1"), mk("b2", "/browse/2"), mk("c1", "/checkout"), mk("x", "/other")}}
	cfg := fastConfig(srv.URL)
	cfg.Users, cfg.Iterations = 10, 1000
	cfg.Journeys = []Journey{{Name: "browse", Weight: 80, Sessions: []string{"b1", "b2"}}, {Name: "checkout", Weight: 20, Sessions: []string{"c1"}}}
	res, p := runReplay(t, rec, cfg)
	if res.Failures != 0 || other.Load() != 0 {
		t.Fatalf("%d failures, %d requests outside the journeys", res.Failures, other.Load())
	}
	if b := browse.Load(); b < 770 || b > 830 || browse.Load()+checkout.Load() != 1000 {
		t.Fatalf("browse %d, checkout %d of 1000 sessions; want 800/200 ±3 %%", b, checkout.Load())
	}
	if js := p.plan.JourneyWeights(); len(js) != 2 || js[0].Name != "browse" || len(js[0].Sessions) != 2 {
		t.Fatalf("journeys %+v", js)
	}
	// The result breaks the totals down by journey.
	if len(res.Journeys) != 2 || res.Journeys[0].Name != "browse" || res.Journeys[0].Requests != browse.Load() ||
		res.Journeys[1].Requests != checkout.Load() {
		t.Fatalf("result journeys %+v", res.Journeys)
	}

	cfg.Journeys = []Journey{{Name: "nothing", Weight: 1, Sessions: []string{"nope"}}}
	if _, err := NewPlan(rec, cfg, nil); err == nil || !strings.Contains(err.Error(), "holds no session") {
		t.Errorf("a journey of no session: %v", err)
	}
}

func TestParseMix(t *testing.T) {
	t.Parallel()
	js, err := ParseMix("login*=80, browse→articles=20")
	if err != nil || len(js) != 2 || js[0].Name != "login*" || js[1].Weight != 20 {
		t.Fatalf("ParseMix = %+v, %v", js, err)
	}
	for _, bad := range []string{"", "a", "a=0", "a=-1", "=5", "a=x"} {
		if _, err := ParseMix(bad); err == nil {
			t.Errorf("ParseMix(%q) accepted", bad)
		}
	}
}
