package kube

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/replay"
	"k8s.io/apimachinery/pkg/api/resource"
)

// The terms of PodMemory, calibrated with bench/scale/run.sh: peak RSS
// (garbage collector's slack included) of 10 s replays by 50 to 2000 users
// of generated recordings of 18 to 112 MiB, responses of 2 KB and 16 KB on
// average, held whole; the request came out 4-27 % above each measured
// peak, the limit 30-59 % (bench/scale/README.md). A replay reading its
// recording on demand (Load.Streamed) peaked at 47-55 MiB on 46 MiB to
// 1.8 GiB.
const (
	// MemoryBase is what an amp replay holds besides its recording and
	// users: the binary, the runtime, the metrics server, the statistics.
	MemoryBase = 40 << 20
	// MemoryPerExchange is what each recorded exchange costs once loaded
	// (its decoded structures, its place in the plan, what the correlation
	// and checks learned from it), besides its bytes.
	MemoryPerExchange = 2 << 10
	// MemoryRecordingPercent is the memory the recording file takes, as a
	// percentage of its size, for a replay that holds it whole (one fetched
	// from a URL): decoded, with the garbage collector's slack (measured
	// 2.2-2.4 times).
	MemoryRecordingPercent = 250
	// MemoryPerSession is what each session in flight costs besides its
	// data: its user's cookie jar, connection buffers (TLS included),
	// goroutines, correlated values (measured 10 KiB over plain HTTP).
	MemoryPerSession = 64 << 10
	// MemoryResponseCopies is how many copies of the largest exchange a
	// session in flight may hold at once (the response as read, decoded for
	// the checks and the correlation), each at most MemoryMaxResponse.
	MemoryResponseCopies = 2
	// MemoryMaxResponse is the most of one response amp replay keeps.
	MemoryMaxResponse = 4 << 20
	// MemoryReadAhead is how many sessions' exchanges a streaming replay
	// (Load.Streamed) holds per session in flight: the one playing and the
	// one read ahead.
	MemoryReadAhead = 2
	// MemoryPerIndexedExchange is what each recorded exchange costs a
	// streaming replay: its place in the session index and the replay's
	// facts (measured 13 bytes on 692k exchanges, bench/scale).
	MemoryPerIndexedExchange = 32
	// MemoryMin is the smallest request PodMemory returns.
	MemoryMin = 128 << 20
	// MemoryLimitPercent is the limit as a percentage of the request: room
	// for what the estimate misses (uneven sessions, a burst of large
	// responses) before the pod is OOM-killed.
	MemoryLimitPercent = 125
)

// Load is what one pod's memory depends on, in counts: the recording's
// (LoadOf takes them from a loaded recording; a session index can give them
// without loading it) and the run's (users, timeline copies, shards).
type Load struct {
	Sessions  int   // sessions in the recording
	Exchanges int64 // exchanges in the recording
	Bytes     int64 // size of the recording file
	// LargestSession and LargestExchange are the bytes the largest session
	// and exchange hold in the recording: header fields and the bodies as
	// recorded (a body cut at the recorder's cap counts what was kept).
	LargestSession  int64
	LargestExchange int64
	// PeakSessions is the most sessions that overlap on the recorded
	// timeline: what the open model (Timeline) runs at once per copy.
	PeakSessions int

	// Users is the most users of the whole run at any time (closed model:
	// --users, or the highest stage), divided among the shards.
	Users int
	// Timeline is the open model: each pod runs Multiple/Shards copies of
	// the recorded timeline.
	Timeline bool
	Multiple float64 // timeline copies (0 counts as 1)
	Shards   int     // pods sharing the run (0 counts as 1)
	// Streamed says the pods' amp replay reads sessions on demand instead of
	// holding the whole recording: it does from a file (a Secret or a
	// volume), not from a URL.
	Streamed bool
}

// InFlight is the number of sessions one pod runs at once: its share of the
// users (closed model), or of PeakSessions × Multiple (open model), rounded
// up.
func (l Load) InFlight() int {
	shards := float64(max(l.Shards, 1))
	if l.Timeline {
		m := l.Multiple
		if m <= 0 {
			m = 1
		}
		return int(math.Ceil(float64(l.PeakSessions) * m / shards))
	}
	return int(math.Ceil(float64(l.Users) / shards))
}

// Memory is a pod's memory request and limit, in bytes, and how they were
// reached.
type Memory struct {
	Request, Limit int64
	// Formula is the estimate's terms with their figures, for the YAML's
	// comment: "40 MiB + 20786 exchanges × 4 KiB + 2 × 55.0 MiB + ...".
	Formula string
}

// PodMemory estimates the memory one pod of the run needs:
//
//	need    = MemoryBase
//	        + MemoryPerExchange × Exchanges + Bytes × MemoryRecordingPercent / 100   (recording held whole)
//	          or, when Streamed, replay.DefaultScriptCache + MemoryPerIndexedExchange × Exchanges
//	                             + InFlight × MemoryReadAhead × LargestSession
//	        + InFlight × (MemoryPerSession + MemoryResponseCopies × min(LargestExchange, MemoryMaxResponse))
//	request = need rounded up to a MiB, at least MemoryMin
//	limit   = request × MemoryLimitPercent / 100, rounded up to a MiB
//
// with InFlight = Load.InFlight. Every pod reads the whole recording (a
// shard differs only in which users and sessions it runs), so the
// recording's term does not shrink with the shards.
func PodMemory(l Load) Memory {
	inFlight := int64(l.InFlight())
	need := int64(MemoryBase)
	formula := Size(MemoryBase)
	if l.Streamed {
		need += replay.DefaultScriptCache + MemoryPerIndexedExchange*l.Exchanges + inFlight*MemoryReadAhead*l.LargestSession
		formula += fmt.Sprintf(" + %s (compiled sessions' cache) + %d exchanges × %d B (index) + %d in flight × %d × %s (largest session)",
			Size(replay.DefaultScriptCache), l.Exchanges, MemoryPerIndexedExchange, inFlight, MemoryReadAhead, Size(l.LargestSession))
	} else {
		need += MemoryPerExchange*l.Exchanges + l.Bytes/100*MemoryRecordingPercent
		formula += fmt.Sprintf(" + %d exchanges × %s + %d %% of %s (recording)", l.Exchanges, Size(MemoryPerExchange), MemoryRecordingPercent, Size(l.Bytes))
	}
	resp := min(l.LargestExchange, MemoryMaxResponse)
	need += inFlight * (MemoryPerSession + MemoryResponseCopies*resp)
	formula += fmt.Sprintf(" + %d in flight × (%s + %d × %s largest exchange)", inFlight, Size(MemoryPerSession), MemoryResponseCopies, Size(resp))
	req := max(roundMiB(need), MemoryMin)
	return Memory{Request: req, Limit: roundMiB(req / 100 * MemoryLimitPercent), Formula: formula}
}

// Quantities returns the request and limit as Kubernetes quantities, for
// Config.MemoryRequest and Config.MemoryLimit: "1234Mi".
func (m Memory) Quantities() (request, limit string) {
	return resource.NewQuantity(m.Request, resource.BinarySI).String(), resource.NewQuantity(m.Limit, resource.BinarySI).String()
}

// With returns the request and limit to use when request or limit (or
// both) are given ("" = take the estimate's): a side given is kept as it
// is, and the estimated one moves so that the limit stays at least the
// request. A quantity that does not parse is returned as it is, for
// Config.Validate to report.
func (m Memory) With(request, limit string) (string, string) {
	estReq, estLim := m.Quantities()
	req, reqErr := resource.ParseQuantity(request)
	lim, limErr := resource.ParseQuantity(limit)
	switch {
	case request != "" && limit != "":
		return request, limit
	case request != "":
		if reqErr == nil && (m.Limit == 0 || req.Value() > m.Limit) {
			return request, request
		}
		return request, estLim
	case limit != "":
		if limErr == nil && (m.Request == 0 || lim.Value() < m.Request) {
			return limit, limit
		}
		return estReq, limit
	}
	return estReq, estLim
}

func roundMiB(n int64) int64 { return (n + 1<<20 - 1) &^ (1<<20 - 1) }

// LoadOf counts a loaded recording of fileBytes bytes for PodMemory; the
// run's fields (Users, Timeline, Multiple, Shards, Streamed) are left for
// the caller.
func LoadOf(rec *capture.Recording, fileBytes int64) Load {
	lc := NewLoadCounter(fileBytes)
	for _, s := range rec.Sessions {
		lc.Add(s)
	}
	return lc.Load()
}

// LoadCounter adds up the counts of a Load a session at a time, so that a
// recording read by session (capture.Open) is sized in memory that grows
// with its sessions, not its exchanges.
type LoadCounter struct {
	l     Load
	edges []loadEdge
}

// loadEdge is a session's start (+1) or end (-1).
type loadEdge struct {
	at    time.Time
	delta int
}

// NewLoadCounter returns a counter for a recording of fileBytes bytes.
func NewLoadCounter(fileBytes int64) *LoadCounter {
	return &LoadCounter{l: Load{Bytes: fileBytes}}
}

// Add counts one session.
func (c *LoadCounter) Add(s *capture.Session) {
	c.l.Sessions++
	c.l.Exchanges += int64(len(s.Exchanges))
	var session int64
	for _, e := range s.Exchanges {
		held := int64(e.Request.Header.Size() + e.Response.Header.Size() + len(e.Request.Body) + len(e.Response.Body))
		c.l.LargestExchange = max(c.l.LargestExchange, held)
		session += held
	}
	c.l.LargestSession = max(c.l.LargestSession, session)
	if len(s.Exchanges) > 0 {
		c.edges = append(c.edges, loadEdge{s.Start(), 1}, loadEdge{s.End(), -1})
	}
}

// Load returns the counts so far, with the most sessions that overlapped.
func (c *LoadCounter) Load() Load {
	l := c.l
	// A session ending when another starts does not overlap it: ends first.
	slices.SortFunc(c.edges, func(a, b loadEdge) int {
		if d := a.at.Compare(b.at); d != 0 {
			return d
		}
		return a.delta - b.delta
	})
	n := 0
	for _, e := range c.edges {
		n += e.delta
		l.PeakSessions = max(l.PeakSessions, n)
	}
	return l
}
