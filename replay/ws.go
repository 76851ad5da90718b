package replay

import (
	"crypto/sha1" //nolint:gosec // RFC 6455 names SHA-1 for the accept key
	"encoding/base64"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/ampload/amp/capture/wsframe"
	"github.com/ampload/amp/stats"
)

// WebSocket failure reasons (see the vocabulary in reason.go).
const (
	// ReasonWSRefused is an upgrade the server did not accept with 101; the
	// sample says what it answered ("HTTP 403").
	ReasonWSRefused = "websocket handshake refused"
	// ReasonWSClosedEarly is a conversation the server closed (or cut)
	// before the client had sent its recorded messages and had its replies.
	ReasonWSClosedEarly = "websocket closed early"
	// ReasonWSReplyTimeout is a server message the recording shows the
	// client waiting for that did not come within --timeout.
	ReasonWSReplyTimeout = "websocket reply timeout"
)

// MethodWS is the method of the endpoints that count a conversation's
// request-like client messages, named like the upgrade's ("WS /chat").
const MethodWS = "WS"

// wsGUID is RFC 6455's key suffix.
const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// wsIn is a message the server sent, as the reader goroutine saw it.
type wsIn struct {
	op   byte
	data []byte
	at   time.Time
}

// wsConv is one live conversation of a user.
type wsConv struct {
	u     *user
	c     *conn
	wmu   sync.Mutex // serialises frames: the user's and the reader's pongs
	out   []byte
	rnd   *rand.Rand
	in    chan wsIn
	done  chan struct{} // closed when the reader stops
	rerr  error         // why the reader stopped; read after done
	sentC bool          // a close frame was sent (under wmu)
}

// wsRun is a conversation under way, played on its user's goroutine
// between the session's other tasks (advanceWS) and to its end (endWS).
type wsRun struct {
	cv     *wsConv
	sc     *Script
	t      *Task
	st     *wsState
	opened time.Time // on the timeline, messages keep their recorded offsets from the 101
	next   int       // the next of t.ws.msgs to send
	ended  bool      // failed or stopped: nothing more is sent
	seen   int       // t.ws.msgs scanned for the server's messages before a task (advance)
	before int       // the server's data messages among them
}

// doWS replays task t, an upgrade to WebSocket, and its whole conversation
// (the validation pass).
func (u *user) doWS(sc *Script, t *Task, intended time.Time) {
	if r := u.startWS(sc, t, intended); r != nil {
		u.finishWS(r)
	}
}

// startWS sends the upgrade of task t on a connection of its own (with the
// user's cookies and live values) and returns the conversation, or nil
// when the upgrade failed (its sample says why). The client's messages go
// out as the session's tasks go on (advanceWS): each after its recorded
// pause, once the server has sent what the recording shows the client
// waited for.
func (u *user) startWS(sc *Script, t *Task, intended time.Time) *wsRun {
	p := u.p
	c := &conn{target: wsTarget(t.Target), guard: &u.mu}
	u.mu.Lock()
	u.wsc = append(u.wsc, c)
	u.mu.Unlock()
	if u.rnd == nil {
		u.rnd = rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(u.id)))
	}
	var nonce [16]byte
	for i := range nonce {
		nonce[i] = byte(u.rnd.Uint32())
	}
	key := base64.StdEncoding.EncodeToString(nonce[:])
	u.req = u.wsHandshake(u.req[:0], sc, t, key)
	timeline := !intended.IsZero()
	sent := time.Now()
	if intended.IsZero() {
		intended = sent
	}
	err := u.wsOpen(c, sent.Add(p.cfg.Timeout))
	done := time.Now()
	s := &u.sample
	*s = stats.Sample{Intended: intended, Sent: sent, Done: done, Status: c.status, Bytes: c.bytes}
	if c.status != 0 {
		s.BytesSent = int64(len(u.req))
	}
	switch {
	case err != nil:
		s.Status = 0
		s.Failure, s.Detail = classify(err)
		if p.hard.Err() != nil {
			s.Failure, s.Detail = ReasonTimeoutAtStop, ""
		}
	case c.status != 101:
		s.Failure, s.Detail = ReasonWSRefused, "HTTP "+strconv.Itoa(c.status)
	case string(c.header("Sec-WebSocket-Accept")) != wsAccept(key):
		s.Failure, s.Detail = reasonBadResponse+"Sec-WebSocket-Accept", string(c.header("Sec-WebSocket-Accept"))
	}
	if s.Failure == "" {
		c.eachHeader("Set-Cookie", func(v []byte) { u.jar.set(t.Target, v, done) })
		if len(t.extract) > 0 {
			if miss := u.extract(sc, t, c); miss != "" {
				s.Failure = miss
			}
		}
	}
	u.record(sc, t, s)
	if s.Failure != "" {
		u.dropWS(c)
		return nil
	}
	_ = c.nc.SetDeadline(time.Time{})
	conv := &wsConv{u: u, c: c, rnd: u.rnd, in: make(chan wsIn, 64), done: make(chan struct{})}
	go conv.read()
	r := &wsRun{cv: conv, sc: sc, t: t,
		st: &wsState{ep: p.col.JourneyEndpoint(sc.Journey, MethodWS, t.Name), found: make([]bool, len(sc.Rules))}}
	if timeline && p.cfg.Think.Mode == ThinkRecorded {
		r.opened = done
	}
	return r
}

// dropWS closes a conversation's connection and forgets it.
func (u *user) dropWS(c *conn) {
	c.close()
	u.mu.Lock()
	if i := slices.Index(u.wsc, c); i >= 0 {
		u.wsc = slices.Delete(u.wsc, i, i+1)
	}
	u.mu.Unlock()
}

// advanceWS sends the messages of the user's open conversations that the
// recording has before session offset until. It reports false when the
// user was stopped.
func (u *user) advanceWS(until time.Duration) bool {
	for _, r := range u.convs {
		u.advance(r, until)
	}
	return !u.stopped()
}

// endWS plays the user's open conversations to their end and closes them.
func (u *user) endWS() {
	for _, r := range u.convs {
		u.finishWS(r)
	}
	clear(u.convs)
	u.convs = u.convs[:0]
}

// finishWS sends what is left of r, waits for the server's remaining
// messages, counts the conversation and closes it.
func (u *user) finishWS(r *wsRun) {
	if !u.stopped() {
		u.advance(r, time.Duration(math.MaxInt64))
		if !r.ended {
			u.wsWaitFor(r.cv, r.sc, r.t, r.st, r.t.ws.server)
		}
	}
	u.wsHits(r.sc, r.t, r.st)
	u.p.col.AddMessages(u.p.eps[r.sc.index][r.t.index], int64(r.st.sent), int64(r.st.received))
	r.cv.close()
	u.dropWS(r.cv.c)
}

// wsOpen dials c and sends the handshake in u.req, reading the answer's
// head; bytes after it stay in c.br.
func (u *user) wsOpen(c *conn, deadline time.Time) error {
	if err := c.dial(u.p.hard, deadline); err != nil {
		return err
	}
	if err := c.nc.SetDeadline(deadline); err != nil {
		return err
	}
	if _, err := c.nc.Write(u.req); err != nil {
		return err
	}
	return c.readResponse(false, false)
}

// wsTarget is t for an upgrade, which exists in HTTP/1.1 only: a target
// spoken to in HTTP/2 (by ALPN or --h2c) gets a copy that speaks HTTP/1.1.
func wsTarget(t *Target) *Target {
	alpnH2 := t.TLS != nil && slices.Contains(t.TLS.NextProtos, "h2")
	if t.h2 == nil && !alpnH2 {
		return t
	}
	w := *t
	w.h2 = nil
	if alpnH2 {
		w.TLS = t.TLS.Clone()
		w.TLS.NextProtos = []string{"http/1.1"}
	}
	return &w
}

// wsAccept is the Sec-WebSocket-Accept a server answers key with.
func wsAccept(key string) string {
	h := sha1.Sum([]byte(key + wsGUID)) //nolint:gosec // the protocol's hash
	return base64.StdEncoding.EncodeToString(h[:])
}

// wsHandshake appends the upgrade request of t: the recorded fields with the
// live values, the user's cookies, a fresh key and no extensions (the
// replay client does not compress).
func (u *user) wsHandshake(b []byte, sc *Script, t *Task, key string) []byte {
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
	b = append(b, "GET "...)
	b = fill(u, b, sc, t.Path, part(partTarget))
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, t.Target.Host...)
	b = append(b, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "...)
	b = append(b, key...)
	b = append(b, "\r\n"...)
	for i, f := range t.Header {
		if asciiEqualFold([]byte(f.Name), "Sec-WebSocket-Key") || asciiEqualFold([]byte(f.Name), "Sec-WebSocket-Extensions") {
			continue
		}
		b = append(b, f.Name...)
		b = append(b, ": "...)
		b = fill(u, b, sc, f.Value, part(i))
		b = append(b, "\r\n"...)
	}
	mark := len(b)
	b = append(b, "Cookie: "...)
	start := len(b)
	b = u.jar.appendHeader(b, t.Target, t.Path, t.Cookies, time.Now())
	if len(b) == start {
		b = b[:mark]
	} else {
		b = append(b, "\r\n"...)
	}
	return append(b, "\r\n"...)
}

// read passes the server's messages to the user until the connection ends,
// answering pings and the server's close.
func (cv *wsConv) read() {
	defer close(cv.done)
	var r wsframe.Reader
	buf := make([]byte, 32<<10)
	emit := func(m wsframe.Message) error {
		switch m.Opcode {
		case wsframe.OpPing:
			_, err := cv.send(wsframe.OpPong, m.Data)
			return err
		case wsframe.OpPong:
			return nil
		case wsframe.OpClose:
			_, _ = cv.send(wsframe.OpClose, m.Data)
			return errWSClosed
		}
		cv.in <- wsIn{op: m.Opcode, data: append([]byte(nil), m.Data...), at: time.Now()}
		return nil
	}
	for {
		n, err := cv.c.br.Read(buf)
		if n > 0 {
			if ferr := r.Feed(buf[:n], emit); ferr != nil {
				cv.rerr = ferr
				return
			}
		}
		if err != nil {
			cv.rerr = err
			return
		}
	}
}

// errWSClosed ends the reader at the server's close frame.
var errWSClosed = errors.New("websocket: closed by the server")

// send writes one masked frame and returns its size; a close is sent once.
func (cv *wsConv) send(op byte, payload []byte) (int, error) {
	cv.wmu.Lock()
	defer cv.wmu.Unlock()
	if cv.sentC {
		return 0, nil
	}
	if op == wsframe.OpClose {
		cv.sentC = true
	}
	var mask [4]byte
	m := cv.rnd.Uint32()
	mask[0], mask[1], mask[2], mask[3] = byte(m), byte(m>>8), byte(m>>16), byte(m>>24)
	cv.out = wsframe.AppendFrame(cv.out[:0], op, payload, &mask)
	return cv.c.nc.Write(cv.out)
}

// close ends the conversation: a normal close unless one was sent, a short
// wait for the server's, then the connection.
func (cv *wsConv) close() {
	_, _ = cv.send(wsframe.OpClose, []byte{0x03, 0xe8}) // 1000, normal closure
	t := time.NewTimer(time.Second)
	defer t.Stop()
	for {
		select {
		case <-cv.in:
			continue
		case <-cv.done:
		case <-t.C:
		}
		break
	}
	cv.u.mu.Lock()
	abortConns([]*conn{cv.c})
	cv.u.mu.Unlock()
	for { // the reader may be blocked handing over a message
		select {
		case <-cv.in:
		case <-cv.done:
			return
		}
	}
}

// wsState is what a conversation's replay has seen so far.
type wsState struct {
	received int       // data messages from the server
	sent     int       // data messages to the server
	pending  time.Time // when a request-like message went out that awaits its reply; zero: none
	out      int64     // bytes of frames sent since the last reply
	ep       stats.Endpoint
	found    []bool // per rule of the script: a live value came in a server message
	timer    *time.Timer
}

// arm returns the conversation's timer set to fire after d (one timer for
// all its waits).
func (st *wsState) arm(d time.Duration) *time.Timer {
	if st.timer == nil {
		st.timer = time.NewTimer(d)
	} else {
		st.timer.Reset(d)
	}
	return st.timer
}

// advance sends the client messages of r up to session offset until: each
// once the server has sent as many messages as the recording shows before
// it, after its recorded pause (on the timeline, at its recorded offset from
// the 101).
func (u *user) advance(r *wsRun, until time.Duration) {
	p, w, cv, st := u.p, r.t.ws, r.cv, r.st
	for ; r.next < len(w.msgs) && !r.ended; r.next++ {
		m := &w.msgs[r.next]
		if m.FromServer || !m.IsData() {
			continue // control frames are answered live; close comes at the end
		}
		if r.t.Offset+m.Offset > until {
			break // later than the task: sent after it
		}
		if !u.wsWaitFor(cv, r.sc, r.t, st, m.wait) {
			r.ended = true
			return
		}
		pause := ThinkTime(&Task{Think: m.think}, p.cfg.Think, p.cfg.Speed)
		if !r.opened.IsZero() {
			pause = time.Until(r.opened.Add(time.Duration(float64(m.Offset-w.open) / p.cfg.Speed)))
		}
		if !u.wsPause(cv, r.sc, r.t, st, pause) {
			r.ended = true
			return
		}
		u.body = fill(u, u.body[:0], r.sc, m.Data, m.spans)
		if st.pending.IsZero() && m.replyLike {
			st.pending = time.Now()
		}
		n, err := cv.send(m.Opcode, u.body)
		if err != nil {
			u.wsFail(st, ReasonWSClosedEarly, err.Error())
			r.ended = true
			return
		}
		st.sent++
		st.out += int64(n)
	}
	if r.ended || until == time.Duration(math.MaxInt64) {
		return
	}
	// The session's next task waits, as the recorded client did, for the
	// server's messages that came before it.
	for ; r.seen < len(w.msgs) && r.t.Offset+w.msgs[r.seen].Offset < until; r.seen++ {
		if m := &w.msgs[r.seen]; m.FromServer && m.IsData() {
			r.before++
		}
	}
	if !u.wsWaitFor(cv, r.sc, r.t, st, r.before) {
		r.ended = true
	}
}

// wsWaitFor takes the server's messages until it has sent need data
// messages, within --timeout; it reports false (after counting the failure)
// when the conversation must end.
func (u *user) wsWaitFor(cv *wsConv, sc *Script, t *Task, st *wsState, need int) bool {
	if st.received >= need {
		return true
	}
	timer := st.arm(u.p.cfg.Timeout)
	defer timer.Stop()
	for st.received < need {
		select {
		case m := <-cv.in:
			u.wsTake(sc, t, st, m)
		case <-cv.done:
			u.wsDrain(cv, sc, t, st)
			if st.received >= need {
				return true
			}
			u.wsFail(st, ReasonWSClosedEarly, wsDetail(cv.rerr))
			return false
		case <-timer.C:
			u.wsFail(st, ReasonWSReplyTimeout, "")
			return false
		case <-u.stop:
			return false
		case <-u.p.stopping:
			return false
		}
	}
	return true
}

// wsPause waits d, taking the server's messages meanwhile.
func (u *user) wsPause(cv *wsConv, sc *Script, t *Task, st *wsState, d time.Duration) bool {
	timer := st.arm(max(d, 0))
	defer timer.Stop()
	for {
		select {
		case m := <-cv.in:
			u.wsTake(sc, t, st, m)
		case <-cv.done:
			u.wsDrain(cv, sc, t, st)
			u.wsFail(st, ReasonWSClosedEarly, wsDetail(cv.rerr))
			return false
		case <-timer.C:
			return true
		case <-u.stop:
			return false
		case <-u.p.stopping:
			return false
		}
	}
}

// wsDrain takes the messages the reader passed before it stopped.
func (u *user) wsDrain(cv *wsConv, sc *Script, t *Task, st *wsState) {
	for {
		select {
		case m := <-cv.in:
			u.wsTake(sc, t, st, m)
		default:
			return
		}
	}
}

// wsTake counts a server message, ends the pending reply's latency and
// takes the live values the conversation's rules find in it.
func (u *user) wsTake(sc *Script, t *Task, st *wsState, m wsIn) {
	st.received++
	if !st.pending.IsZero() {
		u.sample = stats.Sample{Sent: st.pending, Intended: st.pending, Done: m.at, Status: 101, Bytes: int64(len(m.data)), BytesSent: st.out}
		u.p.record(u.id, st.ep, &u.sample)
		st.pending, st.out = time.Time{}, 0
	}
	doc := wsJSON(m.data)
	if doc == nil {
		return
	}
	for _, path := range t.ws.paths {
		js := Source{Kind: SourceJSON, Name: path.name}
		v, ok := liveValue(&js, func(string, func([]byte)) {}, doc, "")
		if !ok {
			continue
		}
		for _, ri := range path.rules {
			u.slots[ri] = v
			st.found[ri] = true
		}
	}
}

// wsFail counts a failed conversation on its endpoint.
func (u *user) wsFail(st *wsState, reason, detail string) {
	now := time.Now()
	sent := st.pending
	if sent.IsZero() {
		sent = now
	}
	u.sample = stats.Sample{Sent: sent, Intended: sent, Done: now, Failure: reason, Detail: detail}
	u.failed = true // the session fails with its conversation
	u.p.record(u.id, st.ep, &u.sample)
	st.pending = time.Time{}
}

// wsHits counts, for each rule sourced in the conversation, whether a live
// message carried it.
func (u *user) wsHits(sc *Script, t *Task, st *wsState) {
	hits := u.p.hits[sc.index]
	for ri := range sc.Rules {
		if sc.Rules[ri].Source.Kind != SourceWS || sc.Rules[ri].Source.Task != t.index || ri >= len(hits) {
			continue
		}
		if st.found[ri] {
			hits[ri].found.Add(1)
		} else {
			hits[ri].missed.Add(1)
		}
	}
}

// wsDetail is the sample of a conversation that ended: what ended it.
func wsDetail(err error) string {
	if err == nil || errors.Is(err, errWSClosed) {
		return "closed by the server"
	}
	_, d := classify(err)
	if d == "" {
		d = err.Error()
	}
	return d
}
