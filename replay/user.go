package replay

import (
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/stats"
)

// user is one simulated user: its own cookie jar, correlation values and
// keep-alive connections, like a browser. Only its own goroutine runs it;
// the Player may abort its connections from outside through mu.
type user struct {
	id   int
	p    *Player
	stop chan struct{} // closed when the Player scales this user away

	mu    sync.Mutex // guards conns' net.Conn for abort
	conns []*conn
	wsc   []*conn  // the connections of the WebSocket conversations under way (ws.go)
	convs []*wsRun // those conversations, played between the session's tasks

	jar    jar
	ran    bool       // the user has sent a task: pause before the next session too
	slots  []string   // live values of the script's rules
	req    []byte     // request bytes, reused
	body   []byte     // a request body with live values, reused
	rnd    *rand.Rand // makes the client's values afresh
	timer  *time.Timer
	sample stats.Sample
	failed bool // a request of the current session failed

	backoff time.Duration // pause after a refused connection; 0 after a response

	flight, spare []*stream // HTTP/2 requests in flight, and done ones to reuse (h2.go)
}

// The backoff of a user whose connections are refused: from minBackoff,
// doubling with every refusal, at most maxBackoff; a response resets it.
const (
	minBackoff = 10 * time.Millisecond
	maxBackoff = time.Second
)

func newUser(p *Player, id int) *user {
	return &user{id: id, p: p, stop: make(chan struct{})}
}

// conn returns the user's connection to t, creating it on first use.
func (u *user) conn(t *Target) *conn {
	for _, c := range u.conns {
		if c.target == t {
			return c
		}
	}
	c := &conn{target: t, guard: &u.mu}
	u.mu.Lock()
	u.conns = append(u.conns, c)
	u.mu.Unlock()
	return c
}

// abort makes every blocked read or write of the user fail now.
func (u *user) abort() {
	u.mu.Lock()
	defer u.mu.Unlock()
	abortConns(u.conns)
	abortConns(u.wsc)
}

// abortConns makes blocked reads and writes on conns fail now. The caller
// holds the mutex that guards their net.Conns.
func abortConns(conns []*conn) {
	for _, c := range conns {
		if c.nc != nil {
			_ = c.nc.SetDeadline(time.Unix(1, 0))
		}
	}
}

func (u *user) closeConns() {
	for _, c := range u.conns {
		c.close()
	}
}

// stopped reports whether the user must not start another task.
func (u *user) stopped() bool {
	select {
	case <-u.stop:
		return true
	case <-u.p.stopping:
		return true
	default:
		return false
	}
}

// sleep waits d unless the user is stopped first; it reports whether the
// full pause elapsed.
func (u *user) sleep(d time.Duration) bool {
	if d <= 0 {
		return !u.stopped()
	}
	if u.timer == nil {
		u.timer = time.NewTimer(d)
	} else {
		u.timer.Reset(d)
	}
	select {
	case <-u.timer.C:
		return true
	case <-u.stop:
	case <-u.p.stopping:
	}
	u.timer.Stop()
	return false
}

// startScript readies the user for a session of sc: a fresh cookie jar, no
// live values yet but its --data row's and fresh client-made ones. It
// reports false when the run must stop (the data ran out).
func (u *user) startScript(sc *Script) bool {
	p := u.p
	u.jar.reset()
	u.slots = u.slots[:0]
	for range sc.Rules {
		u.slots = append(u.slots, "")
	}
	if len(sc.dataCols) > 0 && p.feed != nil {
		row, err := p.feed.Row(u.id)
		if err != nil {
			p.fail(err)
			return false
		}
		for _, d := range sc.dataCols {
			if d.column < len(row) {
				u.slots[d.rule] = row[d.column]
			}
		}
	}
	if len(sc.client) > 0 {
		if u.rnd == nil {
			u.rnd = rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(u.id)))
		}
		now := time.Now()
		for _, ri := range sc.client {
			u.slots[ri] = Regenerate(sc.Rules[ri].Source.Name, sc.Rules[ri].Value, now, u.rnd)
		}
	}
	return true
}

// runScript replays one session. at is the intended start of the session on
// the timeline (open model), or zero for the closed model, where tasks follow
// each other after the think time. It reports false when the user was
// stopped before the end.
func (u *user) runScript(sc *Script, at time.Time) bool {
	p := u.p
	if !u.startScript(sc) {
		return false
	}
	u.failed = false
	defer u.settleAll()
	defer u.endWS() // conversations still open when the user stops (ws.go)
	for i := range sc.Tasks {
		t := &sc.Tasks[i]
		if len(u.flight) > 0 {
			u.settle(t) // the HTTP/2 responses t may depend on
		}
		// A WebSocket conversation under way sends what it has before this task.
		if len(u.convs) > 0 && !u.advanceWS(t.Offset) {
			return false
		}
		var intended time.Time
		if !at.IsZero() {
			intended = at.Add(time.Duration(float64(t.Offset) / p.cfg.Speed))
			if !u.sleep(time.Until(intended)) {
				return false
			}
		} else if i > 0 || u.ran {
			// The first task of a session has no recorded pause before it, so
			// only a fixed --think separates one session from the next.
			if !u.sleep(ThinkTime(t, p.cfg.Think, p.cfg.Speed)) {
				return false
			}
		} else if u.stopped() {
			return false
		}
		if t.Target == nil {
			p.col.AddSkipped(t.Skip, 1)
			continue
		}
		if t.ws != nil {
			if r := u.startWS(sc, t, intended); r != nil {
				u.convs = append(u.convs, r)
			}
		} else {
			u.do(sc, t, intended)
		}
		u.ran = true
	}
	u.settleAll() // the session's last HTTP/2 responses count in it
	u.endWS()
	// Only a session that ran to its end counts: failed if any request did.
	p.col.SessionDone(u.failed)
	return true
}

// record adds the sample of task t, noting a failure for the session.
func (u *user) record(sc *Script, t *Task, s *stats.Sample) {
	u.failed = u.failed || s.Failure != ""
	u.p.record(u.id, u.p.eps[sc.index][t.index], s)
}

// do sends one task and records its sample.
func (u *user) do(sc *Script, t *Task, intended time.Time) {
	p := u.p
	var c *conn
	if pool := p.pools[t.Target]; pool != nil {
		// Waiting for a shared connection is part of the latency.
		if intended.IsZero() {
			intended = time.Now()
		}
		var ok bool
		if c, ok = pool.get(p.hard, p.stopping); !ok {
			return
		}
		defer pool.put(c)
	} else {
		c = u.conn(t.Target)
		if t.Target.h2 != nil && u.doH2(sc, t, c, intended) {
			return // in flight on HTTP/2: settle records it
		}
	}
	u.req = u.build(u.req[:0], sc, t)
	sent := time.Now()
	if intended.IsZero() {
		intended = sent
	}
	err := c.roundTrip(p.hard, u.req, t.Method == "HEAD", t.keepBody, sent.Add(p.cfg.Timeout))
	u.finish(sc, t, c, intended, sent, time.Now(), err)
}

// finish judges the response of task t that c holds (or the error err),
// takes its cookies and correlated values, and records its sample.
func (u *user) finish(sc *Script, t *Task, c *conn, intended, sent, done time.Time, err error) {
	p := u.p
	s := &u.sample
	*s = stats.Sample{Intended: intended, Sent: sent, Done: done, Status: c.status, Bytes: c.bytes, BytesSent: c.sent}
	if err != nil {
		s.Status = 0
		s.Failure, s.Detail = classify(err)
		if p.hard.Err() != nil {
			// Unanswered when the hard stop cut it: a failure, never a skip.
			s.Failure, s.Detail = ReasonTimeoutAtStop, ""
		}
		if s.Failure == ReasonRefused {
			// A dead target: back off (per user, doubling, capped) so that
			// --think none does not reconnect tens of thousands of times a second.
			u.backoff = min(max(2*u.backoff, minBackoff), maxBackoff)
			u.record(sc, t, s)
			u.sleep(u.backoff)
			return
		}
	} else {
		u.backoff = 0
		if s.Failure, s.Detail = c.grpcFailure(); s.Failure == "" {
			s.Failure, s.Detail = p.check(t, c)
		}
		c.eachHeader("Set-Cookie", func(v []byte) { u.jar.set(t.Target, v, done) })
		if len(t.extract) > 0 {
			if miss := u.extract(sc, t, c); miss != "" && s.Failure == "" {
				// The recorded response had a value later requests need, the
				// live one not: they would go out with the recording's.
				s.Failure = miss
			}
		}
	}
	u.record(sc, t, s)
}

// extract stores the live values of the rules whose source is task t, and
// counts for each whether the live response had it. It returns the failure
// reason of the first value the live response lacked, or "". A cookie the
// response did not set again is taken from the user's jar.
func (u *user) extract(sc *Script, t *Task, c *conn) string {
	miss := ""
	var body []byte
	decoded := false
	for _, ri := range t.extract {
		src := &sc.Rules[ri].Source
		if src.Kind == SourceWS {
			continue // taken from the conversation's messages (ws.go)
		}
		if src.needsBody() && !decoded {
			h := capture.Headers{{Name: "Content-Encoding", Value: string(c.header("Content-Encoding"))}}
			body, decoded = decodedBody(h, c.body), true
		}
		got, ok := liveValue(src, c.eachHeader, body, t.RecordedURL)
		if !ok && src.Kind == SourceCookie {
			if jc := u.jar.lookup(t.Target, src.Name, t.Path, time.Now()); jc != nil && jc.value != "" {
				got, ok = jc.value, true
			}
		}
		switch {
		case ok:
			u.slots[ri] = got
		case miss == "" && src.Kind != SourceField:
			// A form field the live page lacks (one a role without the
			// permission is not shown) is left to the form's own post to
			// show; an id or token that addresses the next request is not.
			miss = sc.Rules[ri].missing
		}
		if hits := u.p.hits[sc.index]; ri < len(hits) {
			if ok {
				hits[ri].found.Add(1)
			} else {
				hits[ri].missed.Add(1)
			}
		}
	}
	return miss
}

// build appends the request bytes of task t: the recorded method, path,
// headers and body with the live correlated values in their places, the
// target's Host, the user's cookies and a fresh Content-Length.
func (u *user) build(b []byte, sc *Script, t *Task) []byte {
	spans := t.spans
	part := func(p int) []span {
		i := 0
		for i < len(spans) && spans[i].part < p {
			i++
		}
		j := i
		for j < len(spans) && spans[j].part == p {
			j++
		}
		return spans[i:j]
	}
	now := time.Now()
	b = append(b, t.Method...)
	b = append(b, ' ')
	b = fill(u, b, sc, t.Path, part(partTarget))
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, t.Target.Host...)
	b = append(b, "\r\n"...)
	cookie := func() {
		mark := len(b)
		b = append(b, "Cookie: "...)
		start := len(b)
		b = u.jar.appendHeader(b, t.Target, t.Path, t.Cookies, now)
		if len(b) == start {
			b = b[:mark]
			return
		}
		b = append(b, "\r\n"...)
	}
	for i, f := range t.Header {
		if i == t.cookieAt {
			cookie()
		}
		b = append(b, f.Name...)
		b = append(b, ": "...)
		if len(spans) > 0 {
			b = fill(u, b, sc, f.Value, part(i))
		} else {
			b = append(b, f.Value...)
		}
		b = append(b, "\r\n"...)
	}
	if t.cookieAt >= len(t.Header) {
		cookie()
	}
	body := t.Body
	if bs := part(partBody); len(bs) > 0 {
		u.body = fill(u, u.body[:0], sc, t.Body, bs)
		body = u.body
	}
	if len(body) > 0 || t.Method == "POST" || t.Method == "PUT" || t.Method == "PATCH" {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(len(body)), 10)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	return append(b, body...)
}

// fill appends text with the user's live values in its spans; a span whose
// rule has no live value (the live response lacked it) keeps the recorded
// text.
func fill[T string | []byte](u *user, b []byte, sc *Script, text T, spans []span) []byte {
	pos := 0
	for _, sp := range spans {
		live := u.slots[sp.rule]
		if live == "" || live == sc.Rules[sp.rule].Value || sp.start < pos || sp.end > len(text) {
			continue
		}
		b = append(b, text[pos:sp.start]...)
		b = appendEncoded(b, live, sp.enc)
		pos = sp.end
	}
	return append(b, text[pos:]...)
}
