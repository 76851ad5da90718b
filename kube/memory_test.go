package kube_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/kube"
	"github.com/ampload/amp/replay"
)

func TestInFlight(t *testing.T) {
	t.Parallel()
	tests := []struct {
		load kube.Load
		want int
	}{
		{kube.Load{Users: 4000, Shards: 8}, 500},
		{kube.Load{Users: 4001, Shards: 8}, 501}, // the pods with one more user
		{kube.Load{Users: 50}, 50},               // Shards 0: one pod
		{kube.Load{Users: 50, PeakSessions: 999}, 50},
		{kube.Load{Timeline: true, PeakSessions: 30, Multiple: 2.5, Shards: 4, Users: 10}, 19}, // ceil(75/4)
		{kube.Load{Timeline: true, PeakSessions: 30}, 30},                                      // Multiple 0 counts as 1
		{kube.Load{Timeline: true, PeakSessions: 3, Multiple: 1, Shards: 8}, 1},
	}
	for _, tc := range tests {
		if got := tc.load.InFlight(); got != tc.want {
			t.Errorf("%+v: InFlight %d, want %d", tc.load, got, tc.want)
		}
	}
}

// TestPodMemoryFormula checks PodMemory against its documented formula.
func TestPodMemoryFormula(t *testing.T) {
	t.Parallel()
	mib := int64(1 << 20)
	roundUp := func(n int64) int64 { return (n + mib - 1) / mib * mib }
	load := kube.Load{Sessions: 2000, Exchanges: 400_000, Bytes: 1 << 30, LargestSession: 8 << 20, LargestExchange: 300 << 10,
		PeakSessions: 120, Users: 1000, Shards: 4}
	need := int64(kube.MemoryBase) + kube.MemoryPerExchange*load.Exchanges + load.Bytes/100*kube.MemoryRecordingPercent +
		250*(kube.MemoryPerSession+kube.MemoryResponseCopies*load.LargestExchange)
	m := kube.PodMemory(load)
	if want := roundUp(need); m.Request != want {
		t.Errorf("request %d, want %d", m.Request, want)
	}
	if want := roundUp(m.Request / 100 * kube.MemoryLimitPercent); m.Limit != want || m.Limit <= m.Request {
		t.Errorf("limit %d, want %d", m.Limit, want)
	}
	if m.Request%mib != 0 || m.Limit%mib != 0 {
		t.Errorf("%d/%d: not whole MiB", m.Request, m.Limit)
	}
	for _, want := range []string{"400000 exchanges × ", " % of 1024 MiB (recording)", "250 in flight × (", "300 KiB largest exchange)"} {
		if !strings.Contains(m.Formula, want) {
			t.Errorf("formula %q lacks %q", m.Formula, want)
		}
	}
	if req, lim := m.Quantities(); req != fmt.Sprintf("%dMi", m.Request/mib) || lim != fmt.Sprintf("%dMi", m.Limit/mib) {
		t.Errorf("quantities %s %s", req, lim)
	}

	// Every pod holds the whole recording: more shards shrink only the
	// sessions in flight.
	more := load
	more.Shards = 8
	m8 := kube.PodMemory(more)
	if want := m.Request - roundUp(need) + roundUp(need-125*(kube.MemoryPerSession+kube.MemoryResponseCopies*load.LargestExchange)); m8.Request != want {
		t.Errorf("8 shards: request %d, want %d", m8.Request, want)
	}

	// A response counts at most what amp replay keeps of it.
	huge := load
	huge.LargestExchange = 1 << 30
	capped := load
	capped.LargestExchange = kube.MemoryMaxResponse
	if a, b := kube.PodMemory(huge), kube.PodMemory(capped); a.Request != b.Request {
		t.Errorf("a 1 GiB exchange: request %d, want %d as for one of MemoryMaxResponse", a.Request, b.Request)
	}

	// Streamed: the recording's size no longer counts, its largest session
	// and the compiled sessions' cache do, and its exchanges only by their
	// place in the index.
	st := load
	st.Streamed = true
	need = int64(kube.MemoryBase) + replay.DefaultScriptCache + kube.MemoryPerIndexedExchange*load.Exchanges +
		250*kube.MemoryReadAhead*load.LargestSession + 250*(kube.MemoryPerSession+kube.MemoryResponseCopies*load.LargestExchange)
	if got := kube.PodMemory(st); got.Request != roundUp(need) || !strings.Contains(got.Formula, "(largest session)") {
		t.Errorf("streamed: %+v, want request %d", got, roundUp(need))
	}
	st.Bytes = 100 << 30
	if got := kube.PodMemory(st); got.Request != roundUp(need) {
		t.Errorf("streamed: a bigger file changed the request: %d", got.Request)
	}

	// A small run gets the minimum.
	if got := kube.PodMemory(kube.Load{Exchanges: 10, Bytes: 4096, Users: 1}); got.Request != kube.MemoryMin || got.Limit != roundUp(kube.MemoryMin/100*kube.MemoryLimitPercent) {
		t.Errorf("small run: %+v", got)
	}
}

// TestPodMemoryGrows checks that more of any count never asks for less.
func TestPodMemoryGrows(t *testing.T) {
	t.Parallel()
	base := kube.Load{Sessions: 100, Exchanges: 50_000, Bytes: 200 << 20, LargestSession: 1 << 20, LargestExchange: 64 << 10,
		PeakSessions: 40, Users: 400, Shards: 2}
	grow := map[string]func(*kube.Load){
		"exchanges":        func(l *kube.Load) { l.Exchanges *= 2 },
		"bytes":            func(l *kube.Load) { l.Bytes *= 2 },
		"largest exchange": func(l *kube.Load) { l.LargestExchange *= 2 },
		"users":            func(l *kube.Load) { l.Users *= 2 },
		"fewer shards":     func(l *kube.Load) { l.Shards = 1 },
	}
	for name, f := range grow {
		l := base
		f(&l)
		if a, b := kube.PodMemory(base), kube.PodMemory(l); b.Request <= a.Request || b.Limit <= a.Limit {
			t.Errorf("%s: %d/%d after %d/%d", name, b.Request, b.Limit, a.Request, a.Limit)
		}
	}
}

func TestMemoryWith(t *testing.T) {
	t.Parallel()
	est := kube.Memory{Request: 400 << 20, Limit: 500 << 20}
	tests := []struct{ req, lim, wantReq, wantLim string }{
		{"", "", "400Mi", "500Mi"},
		{"1Gi", "2Gi", "1Gi", "2Gi"},
		{"2Gi", "1Gi", "2Gi", "1Gi"}, // both given: Validate judges them
		{"450Mi", "", "450Mi", "500Mi"},
		{"600Mi", "", "600Mi", "600Mi"},
		{"", "450Mi", "400Mi", "450Mi"},
		{"", "300Mi", "300Mi", "300Mi"},
		{"lots", "", "lots", "500Mi"},
	}
	for _, tc := range tests {
		req, lim := est.With(tc.req, tc.lim)
		if req != tc.wantReq || lim != tc.wantLim {
			t.Errorf("With(%q, %q) = %s, %s; want %s, %s", tc.req, tc.lim, req, lim, tc.wantReq, tc.wantLim)
		}
	}
	// No estimate (a recording only known by its URL): the side given is both.
	if req, lim := (kube.Memory{}).With("", "3Gi"); req != "3Gi" || lim != "3Gi" {
		t.Errorf("no estimate, limit only: %s %s", req, lim)
	}
	if req, lim := (kube.Memory{}).With("3Gi", ""); req != "3Gi" || lim != "3Gi" {
		t.Errorf("no estimate, request only: %s %s", req, lim)
	}
}

func TestLoadOf(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	ex := func(at, dur time.Duration, body int) *capture.Exchange {
		return &capture.Exchange{Start: t0.Add(at), Duration: dur,
			Request:  capture.Request{Method: "GET", URL: "http://shop.example/", Header: capture.Headers{{Name: "Host", Value: "shop.example"}}},
			Response: capture.Response{Status: 200, Body: bytes.Repeat([]byte("x"), body), BodySize: int64(body) * 10}} // cut at the cap
	}
	s := time.Second
	rec := &capture.Recording{Sessions: []*capture.Session{
		{ID: "a", Exchanges: []*capture.Exchange{ex(0, s, 100), ex(9*s, s, 5000)}},      // 0-10 s
		{ID: "b", Exchanges: []*capture.Exchange{ex(5*s, s, 10), ex(14*s, s, 10)}},      // 5-15 s
		{ID: "c", Exchanges: []*capture.Exchange{ex(10*s, s, 10), ex(11*s, 9*s, 1000)}}, // 10-20 s: starts as a ends
		{ID: "empty"},
	}}
	l := kube.LoadOf(rec, 12345)
	h := int64(capture.Headers{{Name: "Host", Value: "shop.example"}}.Size())
	want := kube.Load{Sessions: 4, Exchanges: 6, Bytes: 12345, LargestSession: 2*h + 5100, LargestExchange: h + 5000, PeakSessions: 2}
	if l != want {
		t.Errorf("LoadOf\n%+v, want\n%+v", l, want)
	}
}
