package replay

import (
	"slices"
	"strconv"
	"time"

	"github.com/ampload/amp/capture"
)

// SourceWS is a value a server sent in a WebSocket message: the JSON member
// at the path Name of the latest message that has it, on the conversation
// of task Task (a message may start with a prefix before its JSON, as
// Socket.IO's "42[...]" does).
const SourceWS SourceKind = "websocket"

// wsTask is the WebSocket conversation of a task whose recorded request
// upgraded (status 101), prepared for replay.
type wsTask struct {
	open   time.Duration // recorded time from the request to the 101
	msgs   []wsMsg
	server int      // the server's data messages in the recording
	paths  []wsPath // the JSON members of the server's messages that rules take
}

// wsPath is a JSON member of the server's messages and the rules that take
// its latest value.
type wsPath struct {
	name  string
	rules []int
}

// wsMsg is one recorded message with what replaying it needs.
type wsMsg struct {
	capture.WSMessage
	// think is the recorded pause between the previous message (either
	// direction) and this one.
	think time.Duration
	// wait is, for a client message, how many data messages the server had
	// sent before it: the client waited for them.
	wait int
	// replyLike marks a client message the server answered before the
	// client's next one: its latency is measured to the next server message.
	replyLike bool
	spans     []span // where live values go in Data (part partBody)
}

// newWSTask prepares the conversation of e, or returns nil when e is not an
// accepted WebSocket upgrade.
func newWSTask(e *capture.Exchange) *wsTask {
	if !e.IsWebSocket() {
		return nil
	}
	w := &wsTask{open: e.TTFB}
	prev := e.TTFB
	for i, m := range e.WS {
		wm := wsMsg{WSMessage: m, think: max(0, m.Offset-prev), wait: w.server}
		prev = m.Offset
		if m.FromServer && m.IsData() {
			w.server++
		}
		if !m.FromServer && m.IsData() {
			for _, n := range e.WS[i+1:] {
				if !n.IsData() {
					continue
				}
				wm.replyLike = n.FromServer
				break
			}
		}
		w.msgs = append(w.msgs, wm)
	}
	return w
}

// attachWS puts the spans learned in the conversations' client messages on
// their tasks.
func (sc *Script) attachWS(ws map[int][][]span) {
	for ri, r := range sc.Rules {
		if r.Source.Kind != SourceWS || r.Source.Task >= len(sc.Tasks) || sc.Tasks[r.Source.Task].ws == nil {
			continue
		}
		w := sc.Tasks[r.Source.Task].ws
		k := slices.IndexFunc(w.paths, func(p wsPath) bool { return p.name == r.Source.Name })
		if k < 0 {
			k = len(w.paths)
			w.paths = append(w.paths, wsPath{name: r.Source.Name})
		}
		w.paths[k].rules = append(w.paths[k].rules, ri)
	}
	for j, spans := range ws {
		t := &sc.Tasks[j]
		if t.ws == nil {
			continue
		}
		for k := range t.ws.msgs {
			if k < len(spans) {
				t.ws.msgs[k].spans = spans[k]
			}
		}
	}
}

// clone copies what rules change (the spans) for Plan.clone.
func (w *wsTask) clone() *wsTask {
	if w == nil {
		return nil
	}
	c := *w
	c.msgs = slices.Clone(w.msgs)
	for i := range c.msgs {
		c.msgs[i].spans = slices.Clone(c.msgs[i].spans)
	}
	return &c
}

// wsPlaces lists the values a client message sends: the scalar members of
// its JSON (after any prefix such as Socket.IO's "42"), or the message
// itself when it is a bare token.
func wsPlaces(data []byte, k int) []place {
	where := "websocket message " + strconv.Itoa(k+1)
	start := -1
	for i, b := range data {
		if b == '{' || b == '[' {
			start = i
			break
		}
		if i > 8 {
			break
		}
	}
	if start < 0 {
		if len(data) <= maxValue && dynamicLooking(string(data)) {
			return []place{{where: where, name: "message", seg: -1, part: partBody, start: 0, end: len(data), value: string(data), enc: encRaw}}
		}
		return nil
	}
	var out []place
	body := data[start:]
	scanJSON(body, func(_, key string, s, e int, str bool) {
		v, ok := jsonScalar(body[s:e], str)
		if !ok {
			return
		}
		p := place{where: where, name: key, seg: -1, part: partBody, start: start + s, end: start + e, value: v, enc: encRaw}
		if str {
			p.start, p.end, p.enc = start+s+1, start+e-1, encJSON
		}
		out = append(out, p)
	})
	return out
}

// wsJSON returns the JSON document of a message: from its first '{' or '['
// within the first bytes, or nil.
func wsJSON(data []byte) []byte {
	for i, b := range data {
		if b == '{' || b == '[' {
			return data[i:]
		}
		if i > 8 {
			break
		}
	}
	return nil
}

// learnWS finds the correlated values of the client messages of task j's
// conversation: from the server's earlier messages on it (latest first),
// else from the responses up to and including the upgrade's. It adds the
// rules to l and returns the spans of each message.
func (l *learned) learnWS(j int, e *capture.Exchange, indexOf func(int) *respIndex, ruleOf map[Source]int) [][]span {
	spans := make([][]span, len(e.WS))
	server := map[string][]candidate{} // JSON members of the server's messages so far, by value, oldest first
	for k, m := range e.WS {
		if !m.IsData() {
			continue
		}
		if m.FromServer {
			if doc := wsJSON(m.Data); doc != nil {
				indexJSON(doc, func(c candidate) { server[c.value] = append(server[c.value], c) })
			}
			continue
		}
		for _, p := range wsPlaces(m.Data, k) {
			if p.value == "" || len(p.value) > maxValue {
				continue
			}
			long := dynamicLooking(p.value)
			src, ok := wsSource(server, p, long, j)
			if !ok {
				src, ok = findSource(indexOf, j+1, p, long)
			}
			if !ok {
				continue
			}
			ri := l.ruleFor(src, p, ruleOf)
			r := &l.rules[ri]
			if u := (Use{Task: j, Where: p.where, Name: p.name}); !slices.Contains(r.Uses, u) {
				r.Uses = append(r.Uses, u)
			}
			spans[k] = addSpan(spans[k], span{part: partBody, start: p.start, end: p.end, rule: ri, enc: p.enc})
		}
		slices.SortFunc(spans[k], func(a, b span) int { return a.start - b.start })
	}
	return spans
}

// ruleFor returns the rule of the value at p from src, adding it if new.
// A conversation's member carries a new value in each message ("n": 1, 2,
// 3): its rules are kept per value, so that each span keeps its own.
func (l *learned) ruleFor(src Source, p place, ruleOf map[Source]int) int {
	if src.Kind != SourceWS {
		ri, ok := ruleOf[src]
		if !ok {
			ri = len(l.rules)
			ruleOf[src] = ri
			l.rules = append(l.rules, Rule{Name: p.name, Value: p.value, Source: src})
		}
		return ri
	}
	key := wsRuleKey{src, p.value}
	ri, ok := l.wsRules[key]
	if !ok {
		if l.wsRules == nil {
			l.wsRules = map[wsRuleKey]int{}
		}
		ri = len(l.rules)
		l.wsRules[key] = ri
		l.rules = append(l.rules, Rule{Name: p.name, Value: p.value, Source: src})
	}
	return ri
}

// wsRuleKey identifies a rule sourced in a conversation: its source and
// recorded value.
type wsRuleKey struct {
	src   Source
	value string
}

// wsSource looks for the value at p in the server's earlier messages of
// the conversation, the latest first.
func wsSource(server map[string][]candidate, p place, long bool, task int) (Source, bool) {
	cs := server[p.value]
	for i := len(cs) - 1; i >= 0; i-- {
		if fits(cs[i], p, long) {
			return Source{Task: task, Kind: SourceWS, Name: cs[i].src.Name}, true
		}
	}
	return Source{}, false
}
