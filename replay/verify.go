package replay

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/stats"
)

// Verification is what a validation pass found: each distinct recorded
// session replayed once as one user, every live response compared with its
// recording.
type Verification struct {
	// Sessions is the number of distinct sessions replayed, Requests the
	// requests they sent.
	Sessions, Requests int
	// Learned are the rules the pass added: recorded values that came back
	// different and that later requests send.
	Learned []LearnedRule
	// Differs are the requests whose live response differs from the
	// recorded one even with every rule applied, as the replay's checks
	// judge it (status, redirect, title, forms, JSON shape, --check).
	Differs []Difference
	// Errors are requests that failed to get a response; a session stops at
	// its first.
	Errors []Difference
	// Unfinished counts the distinct sessions the pass had no time for.
	Unfinished int
	// Rules are the learned sources by session shape, for SaveRules.
	Rules RuleSet
}

// LearnedRule is a rule the validation pass found.
type LearnedRule struct {
	// Session is the recorded session's key.
	Session string `json:"session"`
	// Rule is the rule, with the recorded value.
	Rule Rule `json:"rule"`
	// Live is the value the live response had.
	Live string `json:"live"`
}

// Difference is a request whose live response differs from its recording.
type Difference struct {
	// Session is the recorded session's key, Task the request's index.
	Session string `json:"session"`
	Task    int    `json:"task"`
	// Method and Name say which request (Name is the endpoint).
	Method string `json:"method"`
	Name   string `json:"name"`
	// Recorded and Live are the statuses (Live 0: no response).
	Recorded int `json:"recorded"`
	Live     int `json:"live"`
	// Reason says what differs.
	Reason string `json:"reason"`
}

// RuleSet holds rule sources by session shape (the endpoint sequence of a
// session), so that rules learned on one session apply to every session of
// the same shape, and to the same recording later (--rules).
type RuleSet map[string][]Source

// Bounds of a validation pass: the live body it keeps per response, the time
// one of its requests may take, and the time the whole pass may take.
const (
	maxVerifyBody    = 4 << 20
	verifyTimeout    = 10 * time.Second
	verifyPassBudget = 60 * time.Second
)

// liveResponse is one response of a validation pass.
type liveResponse struct {
	status int
	header capture.Headers
	body   []byte // decoded
}

func (r *liveResponse) each(name string, fn func(v []byte)) {
	for _, f := range r.header {
		if strings.EqualFold(f.Name, name) {
			fn([]byte(f.Value))
		}
	}
}

// shape is the endpoint sequence of a script: sessions of one shape share
// their rules.
func (sc *Script) shape() string {
	var b strings.Builder
	for i := range sc.Tasks {
		t := &sc.Tasks[i]
		b.WriteString(t.Method)
		b.WriteByte(' ')
		if t.Name != "" {
			b.WriteString(t.Name)
		} else {
			b.WriteString(t.Path)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// Verify runs the validation pass of plan against its targets: one session
// of each shape, once, as one user with the rules learned so far. Every
// recorded value that a later request sends, that the learner left alone
// (too short, a word, ambiguous) and that the live response carries
// different in the same place becomes a rule — of that session and of every
// session of its shape (Verification.Rules). Requests whose live response
// still differs are listed. plan is not changed: build the run's plan with
// Config.Rules set to the result's Rules (NewRun does).
func Verify(ctx context.Context, plan *Plan, cfg Config) (*Verification, error) {
	if cfg.NoCorrelate {
		return &Verification{Rules: RuleSet{}}, nil
	}
	plan = plan.clone()
	vcfg := cfg
	vcfg.Users, vcfg.Rate, vcfg.Iterations, vcfg.Duration, vcfg.Stages, vcfg.Timeline = 1, 1, 1, 0, nil, false
	vcfg.Shard, vcfg.Shards, vcfg.StartAt, vcfg.MaxConns = 0, 0, time.Time{}, 0
	p, err := NewPlayer(plan, vcfg, stats.NewCollector(stats.Config{}))
	if err != nil {
		return nil, err
	}
	if vcfg.Timeout > verifyTimeout {
		p.cfg.Timeout = verifyTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, verifyPassBudget)
	defer cancel()
	v := &Verification{Rules: RuleSet{}}
	if plan.OnDemand() {
		return v, verifyOnDemand(ctx, p, v)
	}
	byShape := map[string][]*Script{}
	var shapes []string
	for _, sc := range plan.Scripts {
		k := sc.shape()
		if byShape[k] == nil {
			shapes = append(shapes, k)
		}
		byShape[k] = append(byShape[k], sc)
	}
	for n, k := range shapes {
		if ctx.Err() != nil {
			v.Unfinished = len(shapes) - n
			break
		}
		sc := byShape[k][0]
		if sc.session == nil {
			continue
		}
		v.Sessions++
		if learned := p.verifyScript(ctx, sc, n, v); len(learned) > 0 {
			v.Rules[k] = learned
		}
	}
	return v, nil
}

// verifyOnDemand is Verify's pass for a plan read on demand: the first
// session of each shape the recording's Facts list, read and compiled in
// turn.
func verifyOnDemand(ctx context.Context, p *Player, v *Verification) error {
	plan := p.plan
	first := make(map[int]int, len(plan.facts.Shapes)) // session number → script
	for _, sc := range plan.Scripts {
		first[sc.number] = sc.index
	}
	seen := map[string]bool{}
	for n, number := range plan.facts.Shapes {
		if ctx.Err() != nil {
			v.Unfinished = len(plan.facts.Shapes) - n
			break
		}
		i, ok := first[number]
		if !ok {
			continue
		}
		sc, err := plan.load(i)
		if err != nil {
			return err
		}
		k := sc.shape()
		if seen[k] {
			continue
		}
		seen[k] = true
		p.register(sc, map[stats.Endpoint][]time.Duration{})
		v.Sessions++
		if learned := p.verifyScript(ctx, sc, n, v); len(learned) > 0 {
			v.Rules[k] = learned
		}
	}
	return nil
}

// verifyScript replays sc once as one user and returns the sources of the
// rules it learned.
func (p *Player) verifyScript(ctx context.Context, sc *Script, n int, v *Verification) []Source {
	u := newUser(p, n)
	defer u.closeConns()
	if !u.startScript(sc) {
		return nil
	}
	var learned []Source
	relearned, offTrack := false, false
	for i := range sc.Tasks {
		t := &sc.Tasks[i]
		if t.Target == nil || ctx.Err() != nil {
			continue
		}
		c := u.conn(t.Target)
		u.req = u.build(u.req[:0], sc, t)
		v.Requests++
		err := c.roundTrip(ctx, u.req, t.Method == "HEAD", true, time.Now().Add(p.cfg.Timeout))
		if err != nil {
			// The rest of the session would fail the same way: stop here.
			v.Errors = append(v.Errors, Difference{Session: sc.ID, Task: i, Method: t.Method, Name: t.Name, Recorded: t.RecordedStatus, Reason: failureReason(err)})
			break
		}
		live := &liveResponse{status: c.status}
		for _, f := range c.hoffs {
			live.header = append(live.header, capture.Header{Name: string(c.hbuf[f.name0:f.name1]), Value: string(c.hbuf[f.val0:f.val1])})
		}
		h := capture.Headers{{Name: "Content-Encoding", Value: string(c.header("Content-Encoding"))}}
		live.body = append([]byte(nil), decodedBody(h, c.body)...)
		if len(live.body) > maxVerifyBody {
			live.body = live.body[:maxVerifyBody]
		}
		c.eachHeader("Set-Cookie", func(val []byte) { u.jar.set(t.Target, val, time.Now()) })
		miss := ""
		if len(t.extract) > 0 {
			miss = u.extract(sc, t, c)
		}
		// Recorded values of this response that later requests send and
		// that came back different: rules — until the session has gone off
		// the recorded path, when every page differs for another reason.
		if offTrack {
			goto judge
		}
		for _, src := range sc.dynamicSources(i, live) {
			if ri, ok := sc.addRule(src, live); ok {
				for len(u.slots) < len(sc.Rules) {
					u.slots = append(u.slots, "")
				}
				got, _ := liveValue(&src, live.each, live.body, t.RecordedURL)
				u.slots[ri] = got
				learned = append(learned, src)
				relearned = true
				v.Learned = append(v.Learned, LearnedRule{Session: sc.ID, Rule: sc.Rules[ri], Live: got})
			}
		}
		if relearned {
			sc.checkRules() // what is now a rule is a per-user value in the checks too
			relearned = false
		}
	judge:
		reason, sample := p.check(t, c)
		if reason == "" {
			reason = miss
		}
		if reason != "" {
			offTrack = true
			if sample != "" {
				reason += " (" + sample + ")"
			}
			v.Differs = append(v.Differs, Difference{Session: sc.ID, Task: i, Method: t.Method, Name: t.Name, Recorded: t.RecordedStatus, Live: live.status, Reason: reason})
		}
	}
	return learned
}

// dynamicSources lists the sources in recorded response i of values that a
// later request sends, that no rule covers yet, and that the live response
// has in the same place with another value.
func (sc *Script) dynamicSources(i int, live *liveResponse) []Source {
	s := sc.session
	e := s.Exchanges[i]
	ix := indexResponse(e, decodedBody(e.Response.Header, e.Response.Body), i)
	have := map[Source]bool{}
	for _, r := range sc.Rules {
		have[r.Source] = true
	}
	liveIx := indexResponse(&capture.Exchange{Request: e.Request, Response: capture.Response{Status: live.status, Header: live.header}}, live.body, i)
	var out []Source
	seen := map[Source]bool{}
	for j := i + 1; j < len(s.Exchanges); j++ {
		for _, p := range requestPlaces(s.Exchanges[j]) {
			if sc.covered(j, p) {
				continue
			}
			for _, c := range ix.byValue[p.value] {
				if have[c.src] || seen[c.src] || !fitsStructure(c, p) || sentBefore(s, i, p) {
					continue
				}
				seen[c.src] = true
				if constantIn(liveIx, c) || c.src.Kind == SourceLink && !c.unique {
					// The live page still has the value in such a place: a
					// constant, whatever the n-th place holds; and a link
					// known only by its position is no place to trust.
					continue
				}
				got, ok := liveValue(&c.src, live.each, live.body, e.Request.URL)
				if ok && got != p.value {
					out = append(out, c.src)
				}
			}
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return kindRank(out[a].Kind) < kindRank(out[b].Kind) })
	return out
}

// fitsStructure is fits for a value proven dynamic by a live response: any
// length and shape, but still only into a place of matching structure.
func fitsStructure(c candidate, p place) bool {
	switch c.src.Kind {
	case SourceField:
		return p.seg < 0 && p.name == c.src.Name
	case SourceLocation, SourceLink:
		if c.src.Param != "" {
			return p.seg < 0 && p.name == c.src.Param
		}
		return p.seg == c.src.Segment-1 && p.ctx == c.ctx
	case SourceJSON:
		return p.seg >= 0 || p.name == c.key
	case SourceCookie:
		return p.seg < 0 && strings.EqualFold(p.name, c.src.Name)
	case SourceHeader:
		return p.seg < 0 && strings.EqualFold(p.name, c.src.Header)
	}
	return dynamicLooking(p.value)
}

// sentBefore reports whether a request up to i sent p's value in p's place:
// then response i may only echo it.
func sentBefore(s *capture.Session, i int, p place) bool {
	for j := 0; j <= i; j++ {
		for _, q := range requestPlaces(s.Exchanges[j]) {
			if q.value == p.value && q.where == p.where && q.name == p.name {
				return true
			}
		}
	}
	return false
}

// covered reports whether a rule's span already covers place p of task j.
func (sc *Script) covered(j int, p place) bool {
	t := &sc.Tasks[j]
	for _, sp := range t.spans {
		part := sp.part
		if part >= 0 {
			part = t.fromAt(part)
		}
		if part == p.part && sp.start < p.end && p.start < sp.end {
			return true
		}
	}
	return false
}

// addRule adds a rule with source src to sc: its recorded value is what src
// finds in the recorded response, and it goes wherever later requests send
// that value in a place of matching structure. It reports the rule's index
// and false when the source finds nothing to correlate.
func (sc *Script) addRule(src Source, _ *liveResponse) (int, bool) {
	s := sc.session
	if s == nil || src.Task < 0 || src.Task >= len(s.Exchanges) {
		return 0, false
	}
	e := s.Exchanges[src.Task]
	body := decodedBody(e.Response.Header, e.Response.Body)
	rh := &liveResponse{header: e.Response.Header, body: body}
	value, ok := liveValue(&src, rh.each, body, e.Request.URL)
	if !ok {
		return 0, false
	}
	var c candidate
	for _, x := range indexResponse(e, body, src.Task).byValue[value] {
		if x.src == src {
			c, ok = x, true
			break
		}
	}
	if !ok {
		return 0, false
	}
	ri := len(sc.Rules)
	r := Rule{Value: value, Source: src}
	for j := src.Task + 1; j < len(s.Exchanges); j++ {
		t := &sc.Tasks[j]
		for _, p := range requestPlaces(s.Exchanges[j]) {
			if p.value != value || !fitsStructure(c, p) || sc.covered(j, p) {
				continue
			}
			sp := span{part: p.part, start: p.start, end: p.end, rule: ri, enc: p.enc}
			if sp.part >= 0 {
				k := -1
				for x, from := range t.hdrFrom {
					if from == sp.part {
						k = x
					}
				}
				if k < 0 || t.Header[k].Value != s.Exchanges[j].Request.Header[sp.part].Value {
					continue
				}
				sp.part = k
			}
			if r.Name == "" {
				r.Name = p.name
			}
			r.Uses = append(r.Uses, Use{Task: j, Where: p.where, Name: p.name})
			t.spans = append(t.spans, sp)
			sortSpans(t.spans)
		}
	}
	if len(r.Uses) == 0 {
		return 0, false
	}
	r.setMissing()
	sc.Rules = append(sc.Rules, r)
	st := &sc.Tasks[src.Task]
	st.extract = append(st.extract, ri)
	if src.needsBody() {
		st.keepBody = true
	}
	return ri, true
}

func sortSpans(spans []span) {
	sort.SliceStable(spans, func(a, b int) bool {
		if spans[a].part != spans[b].part {
			return spans[a].part < spans[b].part
		}
		return spans[a].start < spans[b].start
	})
}

// applyRules adds the rules of rs to the sessions of plan by their shape,
// as a validation pass that learned them would; it returns how many it
// added. Only NewPlan calls it: a plan does not change once built.
func (plan *Plan) applyRules(rs RuleSet) int {
	n := 0
	for _, sc := range plan.Scripts {
		n += sc.applyRules(rs)
	}
	return n
}

// applyRules adds the rules of rs for sc's shape to sc.
func (sc *Script) applyRules(rs RuleSet) int {
	n := 0
	for _, src := range rs[sc.shape()] {
		if _, ok := sc.addRule(src, nil); ok {
			n++
		}
	}
	return n
}

// rulesFile is the JSON form of a RuleSet.
type rulesFile struct {
	Tool   string              `json:"tool"`
	Shapes []rulesFileSessions `json:"shapes"`
}

type rulesFileSessions struct {
	Endpoints []string `json:"endpoints"`
	Sources   []Source `json:"sources"`
}

// SaveRules writes rs as JSON.
func SaveRules(w io.Writer, rs RuleSet) error {
	f := rulesFile{Tool: "amp", Shapes: []rulesFileSessions{}}
	keys := make([]string, 0, len(rs))
	for k := range rs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f.Shapes = append(f.Shapes, rulesFileSessions{Endpoints: strings.Split(strings.TrimSuffix(k, "\n"), "\n"), Sources: rs[k]})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(f)
}

// LoadRules reads a file written by SaveRules.
func LoadRules(path string) (RuleSet, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f rulesFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: not a rules file: %v", path, err)
	}
	if f.Tool != "amp" {
		return nil, fmt.Errorf("%s: not a rules file written by amp replay --save-rules", path)
	}
	rs := RuleSet{}
	for _, s := range f.Shapes {
		rs[strings.Join(s.Endpoints, "\n")+"\n"] = s.Sources
	}
	return rs, nil
}

// RuleCount is how often one rule of a replay found its live value.
type RuleCount struct {
	// Session is the recorded session's key, Rule the rule.
	Session string
	Rule    Rule
	// Found and Missed count the live responses of the rule's source task
	// that carried the value and those that did not.
	Found, Missed int64
}

// RuleCounts returns how often each rule of the plan found its live value
// in the replay so far; rules whose source task never ran are left out.
func (p *Player) RuleCounts() []RuleCount {
	var out []RuleCount
	p.mu.Lock()
	defer p.mu.Unlock()
	for si, sc := range p.plan.Scripts {
		for i, r := range p.rules[si] {
			if i >= len(p.hits[si]) {
				break
			}
			f, m := p.hits[si][i].found.Load(), p.hits[si][i].missed.Load()
			if f+m > 0 {
				out = append(out, RuleCount{Session: sc.ID, Rule: r, Found: f, Missed: m})
			}
		}
	}
	return out
}

// constantIn reports whether the live response has the candidate's value in
// a place of the same kind and name: then it did not change, whichever
// occurrence now holds what.
func constantIn(live *respIndex, c candidate) bool {
	for _, x := range live.byValue[c.value] {
		if x.src.Kind == c.src.Kind && x.src.Name == c.src.Name && x.src.Param == c.src.Param &&
			x.src.Segment == c.src.Segment && x.src.Attr == c.src.Attr && x.src.Header == c.src.Header {
			return true
		}
	}
	return false
}
