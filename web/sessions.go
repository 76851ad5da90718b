package web

import (
	"cmp"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/replay"
	"github.com/ampload/amp/stats"
)

// Bounds of the Sessions and Correlations tabs on big recordings.
const (
	// maxCorrelationSessions bounds how many sessions the Correlations tab
	// learns from (learning reads every response body).
	maxCorrelationSessions = 1000
	// maxDetailExchanges bounds the requests listed for one session.
	maxDetailExchanges = 2000
)

// recordingIndex answers the Sessions and Correlations tabs from the
// recording.
type recordingIndex struct {
	rec   *capture.Recording
	namer *stats.Namer

	sumOnce sync.Once
	sum     recordingSummary

	once sync.Once
	corr correlationsReply
}

func newRecordingIndex(rec *capture.Recording) *recordingIndex {
	n, _ := stats.NewNamer(nil) // no rules: never fails
	if rec == nil {
		rec = &capture.Recording{}
	}
	return &recordingIndex{rec: rec, namer: n}
}

// recordingSummary describes the recording as a whole.
type recordingSummary struct {
	Source    string      `json:"source"`
	Tool      string      `json:"tool,omitempty"`
	Created   *time.Time  `json:"created,omitempty"`
	Sessions  int         `json:"sessions"`
	Exchanges int         `json:"exchanges"`
	SpanS     float64     `json:"span_s"`
	Hosts     []hostCount `json:"hosts"`
}

type hostCount struct {
	Host     string `json:"host"`
	Requests int    `json:"requests"`
}

// summary describes the recording, computed once.
func (ri *recordingIndex) summary() recordingSummary {
	ri.sumOnce.Do(func() { ri.sum = ri.summarise() })
	return ri.sum
}

func (ri *recordingIndex) summarise() recordingSummary {
	rec := ri.rec
	sum := recordingSummary{Source: rec.Header.Source, Tool: rec.Header.Tool, Sessions: len(rec.Sessions),
		Exchanges: rec.Exchanges(), Hosts: []hostCount{}}
	if !rec.Header.Created.IsZero() {
		c := rec.Header.Created.UTC()
		sum.Created = &c
	}
	hosts := map[string]int{}
	var first, last time.Time
	for _, s := range rec.Sessions {
		for _, e := range s.Exchanges {
			if h := e.Request.Host(); h != "" {
				hosts[h]++
			}
		}
		if st := s.Start(); !st.IsZero() && (first.IsZero() || st.Before(first)) {
			first = st
		}
		if end := s.End(); end.After(last) {
			last = end
		}
	}
	for h, n := range hosts {
		sum.Hosts = append(sum.Hosts, hostCount{h, n})
	}
	slices.SortFunc(sum.Hosts, func(a, b hostCount) int {
		return cmp.Or(cmp.Compare(b.Requests, a.Requests), cmp.Compare(a.Host, b.Host))
	})
	if !first.IsZero() {
		sum.SpanS = round2(last.Sub(first).Seconds())
	}
	return sum
}

// sessionSummary is one row of the Sessions tab.
type sessionSummary struct {
	Index      int       `json:"index"`
	ID         string    `json:"id"`
	Client     string    `json:"client"`
	Start      time.Time `json:"start"`
	DurationMS float64   `json:"duration_ms"`
	Requests   int       `json:"requests"`
	Bytes      int64     `json:"bytes"`
	Errors     int       `json:"errors"` // 4xx, 5xx and failed exchanges
	First      string    `json:"first"`  // "GET /login"
	Last       string    `json:"last"`
}

type sessionsReply struct {
	Total    int              `json:"total"`
	Offset   int              `json:"offset"`
	Sessions []sessionSummary `json:"sessions"`
}

func (ri *recordingIndex) page(offset, limit int) sessionsReply {
	ss := ri.rec.Sessions
	out := sessionsReply{Total: len(ss), Offset: offset, Sessions: []sessionSummary{}}
	for i := offset; i < len(ss) && i < offset+limit; i++ {
		s := ss[i]
		sum := sessionSummary{Index: i, ID: s.ID, Client: s.Client(), Start: s.Start().UTC(),
			DurationMS: round2(float64(s.Duration()) / 1e6), Requests: len(s.Exchanges), Bytes: s.Bytes()}
		for _, e := range s.Exchanges {
			if e.Response.Status >= 400 || e.Error != "" {
				sum.Errors++
			}
		}
		if n := len(s.Exchanges); n > 0 {
			sum.First = label(s.Exchanges[0])
			sum.Last = label(s.Exchanges[n-1])
		}
		out.Sessions = append(out.Sessions, sum)
	}
	return out
}

func label(e *capture.Exchange) string { return e.Request.Method + " " + e.Request.Target() }

// exchangeRow is one request of a session.
type exchangeRow struct {
	OffsetMS   float64 `json:"offset_ms"`
	Method     string  `json:"method"`
	Host       string  `json:"host"`
	Path       string  `json:"path"`
	Name       string  `json:"name"`
	Status     int     `json:"status"`
	DurationMS float64 `json:"duration_ms"`
	Bytes      int64   `json:"bytes"` // response body
	Flags      string  `json:"flags,omitempty"`
	Error      string  `json:"error,omitempty"`
}

// ruleRow is one learned correlation of a session.
type ruleRow struct {
	Name   string   `json:"name"`
	Value  string   `json:"value"`
	Source string   `json:"source"` // where it comes from, e.g. body after "name=\"csrf_token\" value=\""
	From   int      `json:"from"`   // the task whose response carries it
	Uses   []useRow `json:"uses"`
}

type useRow struct {
	Task  int    `json:"task"`
	Where string `json:"where"`
}

type sessionDetail struct {
	sessionSummary
	Truncated    bool          `json:"truncated"` // only the first maxDetailExchanges are listed
	Exchanges    []exchangeRow `json:"exchanges"`
	Correlations []ruleRow     `json:"correlations"`
}

func (ri *recordingIndex) detail(i int) (sessionDetail, bool) {
	if i < 0 || i >= len(ri.rec.Sessions) {
		return sessionDetail{}, false
	}
	s := ri.rec.Sessions[i]
	d := sessionDetail{sessionSummary: ri.page(i, 1).Sessions[0], Exchanges: []exchangeRow{}, Correlations: []ruleRow{}}
	start := s.Start()
	for i, e := range s.Exchanges {
		if i == maxDetailExchanges {
			d.Truncated = true
			break
		}
		host := e.Request.Host()
		bytes := max(e.Response.BodySize, int64(len(e.Response.Body)))
		flags := ""
		if e.Flags != 0 {
			flags = e.Flags.String()
		}
		d.Exchanges = append(d.Exchanges, exchangeRow{
			OffsetMS: round2(float64(e.Start.Sub(start)) / 1e6), Method: e.Request.Method, Host: host,
			Path: e.Request.Target(), Name: ri.namer.Name(e.Request.Method, e.Request.URL),
			Status: e.Response.Status, DurationMS: round2(float64(e.Duration) / 1e6), Bytes: bytes,
			Flags: flags, Error: e.Error,
		})
	}
	for _, r := range replay.Learn(s) {
		rr := ruleRow{Name: r.Name, Value: r.Value, Source: r.Source.Describe(), From: r.Source.Task, Uses: []useRow{}}
		for _, u := range r.Uses {
			rr.Uses = append(rr.Uses, useRow{Task: u.Task, Where: u.Where})
		}
		d.Correlations = append(d.Correlations, rr)
	}
	return d, true
}

// correlationGroup is one kind of correlation: the same name, taken from
// the same place of the same endpoint's response, in many sessions.
type correlationGroup struct {
	Name     string   `json:"name"`
	Source   string   `json:"source"`
	From     string   `json:"from"` // the endpoint whose response carries it, "GET /login"
	UsedIn   []string `json:"used_in"`
	Sessions int      `json:"sessions"`
	Uses     int      `json:"uses"`
	Example  string   `json:"example"`
}

type correlationsReply struct {
	Sessions int                `json:"sessions"` // in the recording
	Scanned  int                `json:"scanned"`  // learned from
	Rules    []correlationGroup `json:"rules"`
}

// correlations learns the rules of the first maxCorrelationSessions
// sessions once and groups them.
func (ri *recordingIndex) correlations() correlationsReply {
	ri.once.Do(func() {
		ss := ri.rec.Sessions
		out := correlationsReply{Sessions: len(ss), Scanned: min(len(ss), maxCorrelationSessions), Rules: []correlationGroup{}}
		groups := map[[3]string]*correlationGroup{}
		usedIn := map[[3]string]map[string]bool{}
		for _, s := range ss[:out.Scanned] {
			seen := map[[3]string]bool{}
			for _, r := range replay.Learn(s) {
				from := ""
				if r.Source.Task >= 0 && r.Source.Task < len(s.Exchanges) {
					e := s.Exchanges[r.Source.Task]
					from = e.Request.Method + " " + ri.namer.Name(e.Request.Method, e.Request.URL)
				}
				key := [3]string{r.Name, r.Source.Describe(), from}
				g := groups[key]
				if g == nil {
					ex := r.Value
					if len(ex) > 80 {
						ex = ex[:77] + "..."
					}
					g = &correlationGroup{Name: r.Name, Source: key[1], From: from, Example: ex}
					groups[key] = g
					usedIn[key] = map[string]bool{}
				}
				if !seen[key] {
					g.Sessions++
					seen[key] = true
				}
				g.Uses += len(r.Uses)
				for _, u := range r.Uses {
					where := u.Where
					if u.Task >= 0 && u.Task < len(s.Exchanges) {
						e := s.Exchanges[u.Task]
						where = e.Request.Method + " " + ri.namer.Name(e.Request.Method, e.Request.URL) + " (" + u.Where + ")"
					}
					if len(usedIn[key]) < 8 {
						usedIn[key][where] = true
					}
				}
			}
		}
		for k, g := range groups {
			for w := range usedIn[k] {
				g.UsedIn = append(g.UsedIn, w)
			}
			sort.Strings(g.UsedIn)
			out.Rules = append(out.Rules, *g)
		}
		slices.SortFunc(out.Rules, func(a, b correlationGroup) int {
			return cmp.Or(cmp.Compare(b.Sessions, a.Sessions), cmp.Compare(a.From, b.From), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Source, b.Source))
		})
		ri.corr = out
	})
	return ri.corr
}
