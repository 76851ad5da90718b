package replay

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/stats"
	"github.com/vmihailenco/msgpack/v5"
)

// FactsExtra is the name of the index extra (capture.File.Extra) that keeps
// a recording's Facts, so that a replay of an indexed file starts without a
// pass over it. The number changes whenever what a pass finds does.
const FactsExtra = "replay.facts/1"

// Facts are what a replay needs to know across all sessions of a recording
// before it can compile any one of them: the hosts, the recorded span, the
// checks' view of each endpoint, the client-made values that more than one
// session shares, and one session of each shape for the validation pass.
// Survey finds them in one pass, session by session, in memory bounded by
// the endpoints and values, not by the exchanges.
type Facts struct {
	// Hosts counts recorded requests per host; Tasks counts all requests.
	Hosts map[string]int `msgpack:"hosts"`
	Tasks int            `msgpack:"tasks"`
	// First and Last are the recorded start of the first request and end of
	// the last response, in Unix nanoseconds.
	First int64 `msgpack:"first"`
	Last  int64 `msgpack:"last"`
	// Spans and Names are each session's recorded span and readable name
	// (SessionName with paths' templates), by the session's number.
	Spans []time.Duration `msgpack:"spans"`
	Names []string        `msgpack:"names"`
	// Groups are, by endpoint group (see groupKey), what the recorded
	// responses of the group agree on.
	Groups map[string]GroupFacts `msgpack:"groups"`
	// Endpoints are the distinct method and path templates, each with one
	// recorded URL, so that --check scopes can be matched with the names
	// the run gives; EndpointsCapped says the list stopped at maxFactsEndpoints.
	Endpoints       []EndpointSample `msgpack:"endpoints"`
	EndpointsCapped bool             `msgpack:"endpoints_capped,omitempty"`
	// Shared holds hashes (valueHash) of client-made values that more than
	// one session sent: those are not regenerated.
	Shared []uint64 `msgpack:"shared,omitempty"`
	// Shapes are the numbers of the first session of each distinct
	// sequence of endpoints, in order.
	Shapes []int `msgpack:"shapes"`
	// Indexed is the number of exchanges the file's index lists, Damaged
	// the damaged records the pass left out (SurveyFile), in file order.
	Indexed int              `msgpack:"indexed,omitempty"`
	Damaged []capture.Damage `msgpack:"damaged,omitempty"`

	shared map[uint64]bool // Shared as a set
}

// GroupFacts say, for one endpoint group, whether its recorded pages agree
// on their title and form set, and the smallest recorded body where the
// sizes are stable (-1 otherwise).
type GroupFacts struct {
	TitleOK bool  `msgpack:"t,omitempty"`
	FormsOK bool  `msgpack:"f,omitempty"`
	MinSize int64 `msgpack:"s"`
}

// EndpointSample is a method and path template with one recorded URL.
type EndpointSample struct {
	Method   string `msgpack:"m"`
	Template string `msgpack:"t"`
	URL      string `msgpack:"u"`
}

// maxFactsEndpoints bounds Facts.Endpoints (a recording whose paths do not
// template well).
const maxFactsEndpoints = 20000

// groupAcc accumulates one endpoint group during a survey.
type groupAcc struct {
	title, url     string
	titles, urls   int // distinct values seen, counted up to 2
	forms          uint64
	formSets       int
	min, max, n    int64
	static, titled bool
}

// survey accumulates Facts over sessions given one at a time.
type survey struct {
	f       *Facts
	groups  map[string]*groupAcc
	eps     map[string]bool
	values  map[uint64]uint8
	shapes  map[uint64]bool
	session int
}

func newSurvey() *survey {
	return &survey{
		f:      &Facts{Hosts: map[string]int{}, Groups: map[string]GroupFacts{}},
		groups: map[string]*groupAcc{}, eps: map[string]bool{},
		values: map[uint64]uint8{}, shapes: map[uint64]bool{},
	}
}

// add takes the next session (its number is the count of sessions before).
func (sv *survey) add(s *capture.Session) {
	f := sv.f
	n := sv.session
	sv.session++
	f.Spans = append(f.Spans, s.Duration())
	f.Names = append(f.Names, SessionName(s, nil))
	if len(s.Exchanges) == 0 {
		return
	}
	if st := s.Start().UnixNano(); f.First == 0 || st < f.First {
		f.First = st
	}
	if end := s.End().UnixNano(); end > f.Last {
		f.Last = end
	}
	shape := fnv.New64a()
	var sent [][]byte
	for _, e := range s.Exchanges {
		f.Tasks++
		if h := hostOf(e.Request.URL); h != "" {
			f.Hosts[h]++
		}
		method := e.Request.Method
		if method == "" {
			method = "GET"
		}
		path := requestTarget(e.Request.URL)
		tmpl := stats.Template(ckPathString(path))
		shape.Write([]byte(method + " " + tmpl + "\n"))
		if k := method + " " + tmpl; !sv.eps[k] {
			if len(f.Endpoints) < maxFactsEndpoints {
				sv.eps[k] = true
				f.Endpoints = append(f.Endpoints, EndpointSample{Method: method, Template: tmpl, URL: e.Request.URL})
			} else {
				f.EndpointsCapped = true
			}
		}
		sent = sentValues(sent, &e.Request)
		if e.Response.Status == 0 {
			continue
		}
		var ex expect
		ex.fingerprint(e, sent)
		sv.group(groupKey(method, tmpl, path, ex.status), tmpl, &ex, path)
	}
	if h := shape.Sum64(); !sv.shapes[h] {
		sv.shapes[h] = true
		f.Shapes = append(f.Shapes, n)
	}
	for _, v := range ClientValues(s) {
		h := valueHash(v.Value)
		if sv.values[h] < 2 {
			sv.values[h]++
		}
	}
}

// group adds one recorded response to its endpoint group.
func (sv *survey) group(key, tmpl string, e *expect, path string) {
	g := sv.groups[key]
	if g == nil {
		g = &groupAcc{static: true, min: e.size, max: e.size}
		sv.groups[key] = g
	}
	if g.urls == 0 || g.urls == 1 && path != g.url {
		g.url = path
		g.urls++
	}
	if e.checkTitle {
		if !g.titled || g.titles == 1 && e.title != g.title {
			g.titles++
		}
		g.title, g.titled = e.title, true
	}
	if e.checkForms {
		if g.formSets == 0 || g.formSets == 1 && e.forms != g.forms {
			g.formSets++
		}
		g.forms = e.forms
	}
	g.min, g.max, g.n = min(g.min, e.size), max(g.max, e.size), g.n+1
	if strings.Contains(tmpl, "{") {
		g.static = false
	}
}

// done finishes the survey: a title is checked only where the recording
// shows it is stable for the group, a form set only where the recorded pages
// agree, and the size only where the group was recorded more than once with
// bodies of similar size.
func (sv *survey) done() *Facts {
	f := sv.f
	for key, g := range sv.groups {
		gf := GroupFacts{MinSize: -1}
		gf.TitleOK = g.titles == 1 && (g.static || g.urls >= 2)
		gf.FormsOK = g.formSets == 1
		if g.n >= 2 && g.min >= minCheckedSize && g.max <= 2*g.min {
			gf.MinSize = g.min
		}
		f.Groups[key] = gf
	}
	for h, n := range sv.values {
		if n > 1 {
			f.Shared = append(f.Shared, h)
		}
	}
	slices.Sort(f.Shared)
	f.index()
	return f
}

// index makes the lookup sets of f.
func (f *Facts) index() {
	f.shared = make(map[uint64]bool, len(f.Shared))
	for _, h := range f.Shared {
		f.shared[h] = true
	}
}

// groupKey is the endpoint group of a recorded response: pages of one
// method and path template, routed by their query's shape
// (index.php?title=X&action=edit), with one recorded status. It takes the
// path's template whatever the run's --name patterns, so that Facts serve
// every run.
func groupKey(method, tmpl, target string, status int) string {
	_, query, _ := strings.Cut(target, "?")
	return method + " " + tmpl + "?" + string(shapeWords(nil, []byte(query), false)) + " " + strconv.Itoa(status)
}

// valueHash is the hash under which Facts keep a client-made value.
func valueHash(v string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(v))
	return h.Sum64()
}

// Survey finds the Facts of the sessions of rec.
func Survey(rec *capture.Recording) *Facts {
	sv := newSurvey()
	for _, s := range rec.Sessions {
		sv.add(s)
	}
	return sv.done()
}

// SurveyFile finds the Facts of f by reading its sessions one at a time,
// calling progress (if not nil) after each with the sessions done and in
// all. ctx stops it early with ctx.Err().
func SurveyFile(ctx context.Context, f *capture.File, progress func(done, total int)) (*Facts, error) {
	sv := newSurvey()
	n := len(f.Sessions())
	for i := range n {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s, err := f.Session(i)
		if err != nil {
			return nil, err
		}
		sv.add(s)
		if progress != nil {
			progress(i+1, n)
		}
	}
	fa := sv.done()
	fa.Indexed = f.Exchanges()
	fa.Damaged = f.Damaged()
	slices.SortStableFunc(fa.Damaged, func(a, b capture.Damage) int { return cmp.Compare(a.Offset, b.Offset) })
	return fa, nil
}

// FileFacts returns the Facts kept in f's index (FactsExtra), or nil when
// it holds none or they do not fit its sessions (then SurveyFile them).
func FileFacts(f *capture.File) *Facts {
	raw := f.Extra(FactsExtra)
	if raw == nil {
		return nil
	}
	return decodeFacts(raw, len(f.Sessions()), f.Exchanges())
}

// decodeFacts decodes facts saved for a file of the given sessions and
// indexed exchanges, or returns nil when they are not those of such a file.
func decodeFacts(raw []byte, sessions, indexed int) *Facts {
	var fa Facts
	if err := msgpack.Unmarshal(raw, &fa); err != nil || len(fa.Spans) != sessions || len(fa.Names) != sessions || fa.Indexed != indexed {
		return nil
	}
	if fa.Hosts == nil {
		fa.Hosts = map[string]int{}
	}
	if fa.Groups == nil {
		fa.Groups = map[string]GroupFacts{}
	}
	for _, i := range fa.Shapes {
		if i < 0 || i >= len(fa.Spans) {
			return nil
		}
	}
	fa.index()
	return &fa
}

// SaveFacts saves facts in the index beside f (FactsExtra, File.SaveIndex),
// for the next FileFacts.
func SaveFacts(f *capture.File, facts *Facts) error {
	b, err := facts.Marshal()
	if err != nil {
		return err
	}
	return f.SaveIndex(nil, map[string][]byte{FactsExtra: b})
}

// Marshal encodes f for the index (FactsExtra).
func (f *Facts) Marshal() ([]byte, error) {
	b, err := msgpack.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("replay: encoding facts: %w", err)
	}
	return b, nil
}

// unshared returns the values of vs that no other session sent.
func (f *Facts) unshared(vs []ClientValue) []ClientValue {
	kept := vs[:0]
	for _, v := range vs {
		if !f.shared[valueHash(v.Value)] {
			kept = append(kept, v)
		}
	}
	return kept
}
