package replay

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ampload/amp/capture"
)

// Target is a server that replayed requests go to.
type Target struct {
	// Origin is the target as given, "scheme://host[:port]".
	Origin string
	// Host is the Host header value sent to it.
	Host string
	// Addr is the host:port dialled.
	Addr string
	// TLS is the client TLS configuration for https targets, nil for http.
	TLS *tls.Config

	dial func(ctx context.Context) (net.Conn, error) // tests: in-memory connections
	h2   *h2Target                                   // how it speaks HTTP/2 (h2.go); nil: HTTP/1.1 only
}

// Task is one request of a script, prepared for replay.
type Task struct {
	// Method is the request method.
	Method string
	// RecordedURL is the URL as recorded.
	RecordedURL string
	// Host is the recorded host[:port], lower-cased (a key of Plan.Hosts).
	Host string
	// Target is where the request goes; nil when it is skipped.
	Target *Target
	// Skip says why the task is not sent ("unmapped host x"), or "".
	Skip string
	// Path is the request target (path and query) as recorded.
	Path string
	// Header holds the recorded fields to send, in order, without Host,
	// Content-Length, Cookie and hop-by-hop fields.
	Header capture.Headers
	// Cookies are the recorded Cookie pairs, in order.
	Cookies []Cookie
	// cookieAt is the index in Header before which the Cookie field goes.
	cookieAt int
	// Body is the recorded request body.
	Body []byte
	// Offset is the task's recorded start relative to its session's start.
	Offset time.Duration
	// Think is the recorded pause between the end of the previous task and
	// the start of this one.
	Think time.Duration
	// RecordedStatus is the recorded response status (0: none).
	RecordedStatus int
	// RecordedLatency is the recorded duration of the exchange.
	RecordedLatency time.Duration
	// Name is the endpoint name for statistics, e.g. "/articles/{id}".
	Name string

	index    int    // in Script.Tasks
	keepBody bool   // the response carries values later tasks need
	extract  []int  // rules whose source is this task
	spans    []span // where live values go in the request, by part (body, target, headers) and offset
	hdrFrom  []int  // for each field of Header, its index in the recorded request's fields, or -1

	exp *expect // the recorded response's fingerprint and the checks (check.go); nil: status class only
	ws  *wsTask // the WebSocket conversation of an upgrade (wsplan.go); nil for plain HTTP
}

// Cookie is one name=value pair of a Cookie header.
type Cookie struct {
	Name, Value string
}

// Script is one recorded session prepared for replay: a sequence of tasks.
type Script struct {
	// ID is the recorded session's key.
	ID string
	// Tasks are the session's requests in order.
	Tasks []Task
	// Rules are the correlations learned from the session.
	Rules []Rule
	// Span is the recorded time from the first request to the last byte.
	Span time.Duration
	// Start is the recorded start of the session.
	Start time.Time
	// Name is the session's readable name (SessionName), Journey the
	// journey it is replayed in ("" without Config.Journeys).
	Name, Journey string

	index    int              // in Plan.Scripts
	number   int              // the session's number in the recording
	tasks    int              // how many tasks it compiles to (OpenPlan's scripts before they compile)
	session  *capture.Session // the recorded session, for the validation pass
	dataCols []dataSlot       // rules filled from the user's --data row
	client   []int            // rules of values the client generates
}

// dataSlot says which rule takes which column of a --data row.
type dataSlot struct{ rule, column int }

// Plan is a recording prepared for replay against mapped targets.
type Plan struct {
	// Scripts are the recording's sessions, in start order.
	Scripts []*Script
	// MainHost is the recorded host most requests went to.
	MainHost string
	// Hosts counts recorded requests per host.
	Hosts map[string]int
	// Span is the recorded time from the first request to the last byte.
	Span time.Duration
	// Tasks is the number of tasks in all scripts, Sendable those with a target.
	Tasks, Sendable int
	// RulesApplied is the number of rules Config.Rules added.
	RulesApplied int

	journeys []planJourney // Config.Journeys, by script

	cfg     Config                             // what compile builds with
	name    func(method, rawURL string) string // endpoint names, or nil
	targets map[string]*Target                 // by recorded host
	facts   *Facts
	file    *capture.File // OpenPlan's recording, its scripts compiled on demand; nil: compiled by NewPlan
	cache   *scriptCache  // OpenPlan's compiled scripts
}

// NewPlan prepares rec for replay with the host mapping of cfg: cfg.Host takes
// the main host, cfg.Map the others; requests to other hosts are skipped.
// Every session is compiled at once (OpenPlan reads them on demand).
func NewPlan(rec *capture.Recording, cfg Config, name func(method, rawURL string) string) (*Plan, error) {
	p, err := newPlan(Survey(rec), cfg, name)
	if err != nil {
		return nil, err
	}
	for si, s := range rec.Sessions {
		if len(s.Exchanges) == 0 {
			continue
		}
		sc := &Script{ID: s.ID, Name: SessionName(s, name), Start: s.Start(), Span: s.Duration(), index: len(p.Scripts), number: si}
		p.RulesApplied += p.compile(sc, s)
		p.Scripts = append(p.Scripts, sc)
	}
	if err := p.matchChecks(); err != nil {
		return nil, err
	}
	if err := p.setJourneys(cfg.Journeys); err != nil {
		return nil, err
	}
	return p, nil
}

// newPlan readies a plan of a recording with facts f: its hosts and
// targets, its counts and span; it has no scripts yet.
func newPlan(f *Facts, cfg Config, name func(method, rawURL string) string) (*Plan, error) {
	p := &Plan{Hosts: f.Hosts, Tasks: f.Tasks, cfg: cfg, name: name, facts: f, targets: map[string]*Target{}}
	if len(p.Hosts) == 0 {
		return nil, fmt.Errorf("replay: the recording holds no requests")
	}
	p.MainHost = mainHost(p.Hosts)
	if cfg.Host != "" {
		t, err := newTarget(cfg.Host, cfg.Insecure)
		if err != nil {
			return nil, &FieldError{Field: "Host", Value: cfg.Host, Problem: err.Error()}
		}
		p.targets[p.MainHost] = t.withProtocol(cfg)
	}
	for _, m := range cfg.Map {
		if m.From == "" || m.To == "" {
			return nil, &FieldError{Field: "Map", Value: strconv.Quote(m.String()), Problem: "want OLDHOST=URL"}
		}
		t, err := newTarget(m.To, cfg.Insecure)
		if err != nil {
			return nil, &FieldError{Field: "Map", Value: m.String(), Problem: err.Error()}
		}
		p.targets[mapHost(m.From)] = t.withProtocol(cfg)
	}
	for h, n := range p.Hosts {
		if p.targets[h] != nil {
			p.Sendable += n
		}
	}
	if f.Last > f.First {
		p.Span = time.Duration(f.Last - f.First)
	}
	return p, nil
}

// targetList returns the plan's distinct targets, by origin.
func (p *Plan) targetList() []*Target {
	var out []*Target
	for _, t := range p.targets {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Origin < out[j].Origin })
	return out
}

// originTarget is the target of a recorded origin ("" if the host is
// recorded but not mapped); false if no request went to that host.
func (p *Plan) originTarget(origin string) (string, bool) {
	h := hostOf(origin)
	if _, ok := p.Hosts[h]; !ok {
		return "", false
	}
	if tg := p.targets[h]; tg != nil {
		return tg.Origin, true
	}
	return "", true
}

// compile turns recorded session s into the tasks and rules of sc: the
// requests with their headers fixed for their targets, the correlations
// learned from s, the --data and client-made values, the checks, and the
// rules of Config.Rules for its shape. It returns how many of those rules
// it added. sc keeps s for the validation pass.
func (p *Plan) compile(sc *Script, s *capture.Session) int {
	cfg := p.cfg
	sc.session = s
	sc.Tasks = make([]Task, 0, len(s.Exchanges))
	var prevEnd time.Time
	for i, e := range s.Exchanges {
		t := Task{
			Method:          e.Request.Method,
			RecordedURL:     e.Request.URL,
			Path:            requestTarget(e.Request.URL),
			Body:            e.Request.Body,
			Offset:          e.Start.Sub(sc.Start),
			RecordedStatus:  e.Response.Status,
			RecordedLatency: e.Duration,
			index:           i,
			ws:              newWSTask(e),
		}
		if t.Method == "" {
			t.Method = "GET"
		}
		if t.ws != nil {
			t.RecordedLatency = e.TTFB // the handshake; the conversation has endpoints of its own
		}
		if p.name != nil {
			t.Name = p.name(t.Method, e.Request.URL)
		}
		if i > 0 {
			t.Think = max(0, e.Start.Sub(prevEnd))
		}
		if end := e.End(); end.After(prevEnd) {
			prevEnd = end
		}
		t.Host = hostOf(e.Request.URL)
		if tg := p.targets[t.Host]; tg != nil {
			t.Target = tg
		} else {
			t.Skip = "unmapped host " + t.Host
		}
		t.Header, t.Cookies, t.cookieAt, t.hdrFrom = fixHeaders(e.Request.Header, t.Target, originOf(e.Request.URL), p.originTarget)
		t.setHeaders(cfg.Headers)
		sc.Tasks = append(sc.Tasks, t)
	}
	var l learned
	if !cfg.NoCorrelate {
		l = learnSpans(s)
	} else {
		l.spans = make([][]span, len(s.Exchanges))
	}
	if cfg.Data != nil {
		l.addData(s, BindSession(cfg.Data, s), cfg.Data)
	}
	if !cfg.KeepClientValues && !cfg.NoCorrelate {
		l.addClient(s, p.facts.unshared(ClientValues(s)))
	}
	sc.Rules = l.rules
	sc.attach(s, l.spans)
	sc.attachWS(l.ws)
	sc.prepareChecks(s, cfg, p.facts)
	n := 0
	if len(cfg.Rules) > 0 {
		n = sc.applyRules(cfg.Rules)
	}
	sc.checkRules()
	return n
}

// clone returns a copy of p whose scripts may take rules of their own (the
// validation pass learns into one) without changing p. What rules never
// change (the recorded requests, headers, targets) is shared.
func (p *Plan) clone() *Plan {
	q := *p
	if p.cache != nil {
		q.cache = newScriptCache(p.cache.limit) // its scripts may take other rules
	}
	q.Scripts = make([]*Script, len(p.Scripts))
	for i, sc := range p.Scripts {
		c := *sc
		c.Rules = slices.Clone(sc.Rules)
		c.dataCols = slices.Clone(sc.dataCols)
		c.client = slices.Clone(sc.client)
		c.Tasks = slices.Clone(sc.Tasks)
		for j := range c.Tasks {
			t := &c.Tasks[j]
			t.extract = slices.Clone(t.extract)
			t.spans = slices.Clone(t.spans)
			t.ws = t.ws.clone()
			if t.exp != nil {
				e := *t.exp
				t.exp = &e
			}
		}
		q.Scripts[i] = &c
	}
	return &q
}

// attach records on each task which rules it extracts, and where in its
// request the live values go: spans learned on the recorded request, with
// header spans moved to the task's own fields (dropped where --header
// replaced the field, shifted where Origin or Referer was pointed at the
// target).
func (sc *Script) attach(s *capture.Session, spans [][]span) {
	for ri := range sc.Rules {
		sc.Rules[ri].setMissing()
	}
	for ri, r := range sc.Rules {
		switch r.Source.Kind {
		case SourceData:
			sc.dataCols = append(sc.dataCols, dataSlot{rule: ri, column: r.Source.Occurrence})
			continue
		case SourceClient:
			sc.client = append(sc.client, ri)
			continue
		}
		src := &sc.Tasks[r.Source.Task]
		src.extract = append(src.extract, ri)
		if r.Source.needsBody() {
			src.keepBody = true
		}
	}
	for j := range sc.Tasks {
		t := &sc.Tasks[j]
		recorded := s.Exchanges[j].Request.Header
		for _, sp := range spans[j] {
			if sp.part < 0 {
				t.spans = append(t.spans, sp)
				continue
			}
			k := slices.Index(t.hdrFrom, sp.part)
			if k < 0 {
				continue
			}
			old, nu := recorded[sp.part].Value, t.Header[k].Value
			d := len(nu) - len(old)
			if sp.start+d < 0 || sp.end+d > len(nu) || nu[sp.start+d:] != old[sp.start:] {
				continue
			}
			sp.part, sp.start, sp.end = k, sp.start+d, sp.end+d
			t.spans = append(t.spans, sp)
		}
		sort.SliceStable(t.spans, func(a, b int) bool {
			x, y := t.spans[a], t.spans[b]
			if x.part != y.part {
				return x.part < y.part
			}
			return x.start < y.start
		})
	}
}

// mainHost returns the host with the most requests (ties: the smaller name).
func mainHost(hosts map[string]int) string {
	names := make([]string, 0, len(hosts))
	for h := range hosts {
		names = append(names, h)
	}
	sort.Slice(names, func(i, j int) bool {
		if hosts[names[i]] != hosts[names[j]] {
			return hosts[names[i]] > hosts[names[j]]
		}
		return names[i] < names[j]
	})
	return names[0]
}

// newTarget parses a target URL ("http://host:port", "https://host", or a
// bare "host:port" for http). It is strict, so that a typo is an error
// rather than a different target: the scheme must be http or https with
// "://", and a path, query, fragment or credentials are refused (requests
// keep their recorded paths; credentials go in a --header).
func newTarget(raw string, insecure bool) (*Target, error) {
	if !strings.Contains(raw, "://") {
		if strings.ContainsAny(raw, "/?#@") || strings.HasPrefix(strings.ToLower(raw), "http") && strings.Contains(raw, ":") && !validHostPort(raw) {
			return nil, fmt.Errorf("want a URL such as http://127.0.0.1:5000 (scheme://host[:port])")
		}
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("want a URL such as http://127.0.0.1:5000: %v", err)
	}
	switch {
	case u.User != nil:
		return nil, fmt.Errorf("credentials in the URL are not supported: use --header 'Authorization: ...'")
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.Fragment != "", u.Opaque != "":
		return nil, fmt.Errorf("a path, query or fragment is not supported: requests keep their recorded paths; give scheme://host[:port]")
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("no host in %q", raw)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("port %q is not 1..65535", p)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return nil, fmt.Errorf("empty port in %q", raw)
	}
	t := &Target{Host: u.Host}
	switch strings.ToLower(u.Scheme) {
	case "http":
		t.Addr = withPort(u, "80")
	case "https":
		t.Addr = withPort(u, "443")
		t.TLS = &tls.Config{ServerName: u.Hostname(), InsecureSkipVerify: insecure, NextProtos: []string{"http/1.1"}}
	default:
		return nil, fmt.Errorf("scheme %q is not http or https", u.Scheme)
	}
	t.Origin = strings.ToLower(u.Scheme) + "://" + u.Host
	return t, nil
}

func withPort(u *url.URL, def string) string {
	if u.Port() != "" {
		return u.Host
	}
	return net.JoinHostPort(u.Hostname(), def)
}

// hostOf, originOf and requestTarget are capture's URL helpers, so every
// package reads recorded URLs alike.
func hostOf(raw string) string        { return capture.URLHost(raw) }
func originOf(raw string) string      { return capture.URLOrigin(raw) }
func requestTarget(raw string) string { return capture.URLTarget(raw) }

// fixHeaders drops the fields the replay sets itself, splits the Cookie
// fields into pairs, and points Origin and Referer at the target: a page of
// a mapped host at that host's target, the request's own origin or one that
// the recording never saw requests for (the recorder's own address in
// reverse mode) at the request's target. from gives, for each field kept,
// its index in h.
func fixHeaders(h capture.Headers, t *Target, recordedOrigin string, originTarget func(string) (string, bool)) (out capture.Headers, cookies []Cookie, cookieAt int, from []int) {
	cookieAt = -1
	for i, f := range h {
		name := strings.ToLower(f.Name)
		if strings.HasPrefix(name, ":") { // HTTP/2 pseudo-headers from HAR files
			continue
		}
		if name == "cookie" {
			if cookieAt < 0 {
				cookieAt = len(out)
			}
			cookies = append(cookies, parseCookies(f.Value)...)
			continue
		}
		if isHopHeader(name) {
			continue
		}
		if (name == "origin" || name == "referer") && t != nil {
			if o := originOf(f.Value); o != "" && len(o) <= len(f.Value) && strings.EqualFold(f.Value[:len(o)], o) {
				switch nu, known := originTarget(o); {
				case o == recordedOrigin:
					f.Value = t.Origin + f.Value[len(o):]
				case known && nu != "":
					f.Value = nu + f.Value[len(o):]
				case !known:
					f.Value = t.Origin + f.Value[len(o):]
				}
			}
		}
		out = append(out, f)
		from = append(from, i)
	}
	if cookieAt < 0 {
		cookieAt = len(out)
	}
	return out, cookies, cookieAt, from
}

func parseCookies(v string) []Cookie {
	var out []Cookie
	for _, part := range strings.Split(v, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, val, _ := strings.Cut(part, "=")
		out = append(out, Cookie{Name: strings.TrimSpace(name), Value: strings.TrimSpace(val)})
	}
	return out
}

// fromAt is the recorded index of field i of t.Header, or -1.
func (t *Task) fromAt(i int) int {
	if i < len(t.hdrFrom) {
		return t.hdrFrom[i]
	}
	return -1
}

// setHeaders applies Config.Headers to the task: each field replaces the
// recorded ones of its name, or is added; Cookie pairs replace the recorded
// cookies of their names, or are added.
func (t *Task) setHeaders(fields capture.Headers) {
	for _, f := range fields {
		name, value := f.Name, f.Value
		if strings.EqualFold(name, "Cookie") {
			for _, c := range parseCookies(value) {
				i := slices.IndexFunc(t.Cookies, func(x Cookie) bool { return x.Name == c.Name })
				if i >= 0 {
					t.Cookies[i] = c
				} else {
					t.Cookies = append(t.Cookies, c)
				}
			}
			continue
		}
		out := make(capture.Headers, 0, len(t.Header)+1)
		from := make([]int, 0, len(t.Header)+1)
		at, replaced := t.cookieAt, false
		for i, h := range t.Header {
			switch {
			case !strings.EqualFold(h.Name, name):
				out = append(out, h)
				from = append(from, t.fromAt(i))
			case !replaced: // the first field of the name takes the new value
				out = append(out, capture.Header{Name: name, Value: value})
				from = append(from, -1)
				replaced = true
			case i < t.cookieAt: // a later one is dropped: the Cookie moves up
				at--
			}
		}
		if !replaced {
			out = append(out, capture.Header{Name: name, Value: value})
			from = append(from, -1)
		}
		t.Header, t.cookieAt, t.hdrFrom = out, at, from
	}
}
