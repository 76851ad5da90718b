package replay

import (
	"fmt"
	"sort"
	"sync"

	"github.com/ampload/amp/capture"
)

// DefaultScriptCache is how many bytes of compiled sessions a plan read on
// demand (OpenPlan) keeps for the next user that replays them; the sessions
// users are replaying stay in memory whatever the cache holds.
const DefaultScriptCache = 64 << 20

// OpenPlan prepares the recording f for replay like NewPlan, without reading
// its sessions: each compiles when a user first replays it (or again, once
// the cache of DefaultScriptCache bytes has let it go), so memory grows with
// the sessions in flight, not with the file. facts are f's (FileFacts, or
// SurveyFile when its index keeps none). Sessions are named as the index
// names them, or by their paths' templates (Facts.Names), whatever name
// does; --check scopes are matched with the recording's endpoints
// (Facts.Endpoints). f must stay open while the plan is used.
func OpenPlan(f *capture.File, facts *Facts, cfg Config, name func(method, rawURL string) string) (*Plan, error) {
	if facts == nil || len(facts.Spans) != len(f.Sessions()) {
		return nil, fmt.Errorf("replay: the facts are not those of %d sessions", len(f.Sessions()))
	}
	p, err := newPlan(facts, cfg, name)
	if err != nil {
		return nil, err
	}
	p.file, p.cache = f, newScriptCache(DefaultScriptCache)
	for i, info := range f.Sessions() {
		if info.Exchanges == 0 {
			continue
		}
		sc := &Script{ID: info.ID, Name: info.Name, Start: info.Start, Span: facts.Spans[i], index: len(p.Scripts), number: i, tasks: info.Exchanges}
		if sc.Name == "" {
			sc.Name = facts.Names[i]
		}
		p.Scripts = append(p.Scripts, sc)
	}
	if len(p.Scripts) == 0 {
		return nil, fmt.Errorf("replay: the recording holds no requests")
	}
	for _, rs := range cfg.Rules {
		p.RulesApplied += len(rs)
	}
	if err := p.matchChecks(); err != nil {
		return nil, err
	}
	if err := p.setJourneys(cfg.Journeys); err != nil {
		return nil, err
	}
	return p, nil
}

// addRules adds the rules of rs to the plan's scripts by their shape (see
// Config.Rules): at once to compiled scripts, or to a plan read on demand
// as each compiles.
func (p *Plan) addRules(rs RuleSet) {
	if p.file == nil {
		p.RulesApplied += p.applyRules(rs)
		p.checkRules()
		return
	}
	merged := RuleSet{}
	for k, v := range p.cfg.Rules {
		merged[k] = v
	}
	for k, v := range rs {
		merged[k] = append(merged[k], v...)
		p.RulesApplied += len(v)
	}
	p.cfg.Rules = merged
	p.cache = newScriptCache(p.cache.limit)
}

// OnDemand reports whether the plan reads its sessions when users replay
// them (OpenPlan) rather than holding them all compiled (NewPlan).
func (p *Plan) OnDemand() bool { return p.file != nil }

// script returns script i compiled: the plan's own, or for a plan read on
// demand from its cache, compiling it if need be.
func (p *Plan) script(i int) (*Script, error) {
	if p.file == nil {
		return p.Scripts[i], nil
	}
	return p.cache.get(i, func() (*Script, int64, error) {
		sc, err := p.load(i)
		if err != nil {
			return nil, 0, err
		}
		sc.session = nil // the recorded responses are not needed any more
		return sc, sc.size(), nil
	})
}

// load reads and compiles script i of a plan read on demand, keeping its
// recorded session.
func (p *Plan) load(i int) (*Script, error) {
	stub := p.Scripts[i]
	s, err := p.file.Session(stub.number)
	if err != nil {
		return nil, fmt.Errorf("replay: reading session %d (%s): %w", stub.number, stub.ID, err)
	}
	sc := &Script{ID: stub.ID, Name: stub.Name, Journey: stub.Journey, Start: stub.Start, Span: stub.Span, index: stub.index, number: stub.number}
	// A session none of whose records is intact compiles to no task: the
	// damage was said when the file was read (Facts.Damaged).
	p.compile(sc, s)
	return sc, nil
}

// Each calls fn with every script of the plan in order, compiled and with
// its recorded session; a plan read on demand compiles them one at a time
// and keeps none, so fn must not keep them either. It stops at fn's first
// error, or a session that cannot be read, and returns it.
func (p *Plan) Each(fn func(*Script) error) error {
	for i := range p.Scripts {
		sc := p.Scripts[i]
		if p.file != nil {
			var err error
			if sc, err = p.load(i); err != nil {
				return err
			}
		}
		if err := fn(sc); err != nil {
			return err
		}
	}
	return nil
}

// Len returns how many tasks the script has: a script of a plan read on
// demand knows it before it compiles.
func (sc *Script) Len() int {
	if sc.Tasks == nil {
		return sc.tasks
	}
	return len(sc.Tasks)
}

// size estimates the memory a compiled script holds, in bytes.
func (sc *Script) size() int64 {
	n := int64(512 + 256*len(sc.Rules))
	for i := range sc.Tasks {
		t := &sc.Tasks[i]
		n += 640 + int64(len(t.Body)+len(t.Path)+len(t.RecordedURL)+len(t.Name)+24*len(t.spans))
		for _, h := range t.Header {
			n += 32 + int64(len(h.Name)+len(h.Value))
		}
		if e := t.exp; e != nil {
			n += 512 + int64(len(e.title)+len(e.titleBase)+len(e.location)+len(e.locRaw))
		}
	}
	return n
}

// scriptCache keeps compiled scripts up to a number of bytes, letting the
// oldest go first; concurrent requests for one script compile it once.
type scriptCache struct {
	mu      sync.Mutex
	entries map[int]*cacheEntry
	order   []int // indexes in the order they were compiled
	bytes   int64
	limit   int64
}

type cacheEntry struct {
	done chan struct{} // closed once sc or err is set
	sc   *Script
	err  error
	size int64
}

func newScriptCache(limit int64) *scriptCache {
	return &scriptCache{entries: map[int]*cacheEntry{}, limit: limit}
}

// get returns script i, compiling it with load unless the cache holds it.
// An error is kept like a script: reading the session again would fail
// again.
func (c *scriptCache) get(i int, load func() (*Script, int64, error)) (*Script, error) {
	c.mu.Lock()
	if e := c.entries[i]; e != nil {
		c.mu.Unlock()
		<-e.done
		return e.sc, e.err
	}
	e := &cacheEntry{done: make(chan struct{})}
	c.entries[i] = e
	c.mu.Unlock()
	e.sc, e.size, e.err = load()
	close(e.done)
	c.mu.Lock()
	c.bytes += e.size
	c.order = append(c.order, i)
	for c.bytes > c.limit && len(c.order) > 1 {
		old := c.order[0]
		c.order = c.order[1:]
		if x := c.entries[old]; x != nil {
			c.bytes -= x.size
			delete(c.entries, old)
		}
	}
	c.mu.Unlock()
	return e.sc, e.err
}

// EndpointLabels returns the distinct "METHOD name" of the requests the
// replay sends, sorted, and whether the list is complete: a plan read on
// demand lists the recording's endpoints (Facts.Endpoints) named as the
// run names them, which stops at a bound on a recording whose paths do not
// template well.
func (p *Plan) EndpointLabels() (labels []string, complete bool) {
	seen := map[string]bool{}
	add := func(l string) {
		if !seen[l] {
			seen[l] = true
			labels = append(labels, l)
		}
	}
	if p.file == nil {
		for _, sc := range p.Scripts {
			for i := range sc.Tasks {
				if t := &sc.Tasks[i]; t.Target != nil {
					add(t.Method + " " + t.Name)
				}
			}
		}
	} else {
		for _, ep := range p.facts.Endpoints {
			if p.targets[hostOf(ep.URL)] == nil {
				continue
			}
			name := ""
			if p.name != nil {
				name = p.name(ep.Method, ep.URL)
			}
			add(ep.Method + " " + name)
		}
	}
	sort.Strings(labels)
	return labels, p.file == nil || !p.facts.EndpointsCapped
}
