package replay

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/internal/testenv"
	"github.com/ampload/amp/proxy"
	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"
)

// chatServer is a WebSocket chat whose first message must carry the token
// its login page handed out (each token once), and whose every "ack" must
// name the id of the message the server sent last.
type chatServer struct {
	mu       sync.Mutex
	tokens   map[string]bool // issued → used
	accepted []chatConn      // conversations that presented a valid token
	refused  int
}

// chatConn is what the server saw on one accepted conversation.
type chatConn struct {
	token string
	seen  []string    // message types in order, with their numbers: hello say0 ack0 ...
	log   []chatFrame // every message, both ways, in the order read and written
}

// chatFrame is a message of a conversation as the server read or wrote it.
type chatFrame struct {
	fromServer bool
	typ        websocket.MessageType
	data       []byte
}

// write sends a message and logs it.
func (conv *chatConn) write(ctx context.Context, c *websocket.Conn, typ websocket.MessageType, data []byte) error {
	conv.log = append(conv.log, chatFrame{fromServer: true, typ: typ, data: data})
	return c.Write(ctx, typ, data)
}

func newChatServer() *chatServer { return &chatServer{tokens: map[string]bool{}} }

// settle waits (at most 5 s) until the server has counted n conversations,
// accepted or refused: a handler counts its conversation as it returns,
// which may be just after the client saw the close.
func (s *chatServer) settle(n int) {
	for range 500 {
		s.mu.Lock()
		done := len(s.accepted)+s.refused >= n
		s.mu.Unlock()
		if done {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func chatHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *chatServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/login":
		tok := chatHex(16)
		s.mu.Lock()
		s.tokens[tok] = false
		s.mu.Unlock()
		script := chatScript
		if r.URL.Query().Has("binary") {
			script = chatBinaryScript
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><meta name="chat-token" content="%s"><title>Chat</title></head><body>chat%s</body></html>`, tok, script)
	case "/chat":
		s.chat(w, r)
	default:
		http.NotFound(w, r)
	}
}

// chatScript is the login page's chat, as chatClient does it, for a
// browser: it sets the title to "done" after the last ack.
const chatScript = `<script>
const tok = document.querySelector('meta[name=chat-token]').content;
const ws = new WebSocket('ws://' + location.host + '/chat');
let n = 0;
const say = () => { ws.send(JSON.stringify({type: 'say', n: n, text: 'hello ' + n})); n++; };
ws.onopen = () => ws.send(JSON.stringify({type: 'hello', token: tok}));
ws.onmessage = (ev) => {
  const m = JSON.parse(ev.data);
  if (m.type === 'said') ws.send(JSON.stringify({type: 'ack', n: m.n, id: m.id}));
  if (n < 3) { setTimeout(say, 5); return; }
  setTimeout(() => { ws.close(1000); document.title = 'done'; }, 50);
};
</script>`

// chatBinaryScript is chatScript followed by two binary messages (bytes
// that are not UTF-8), each answered by the server with its bytes
// inverted, which the page checks.
const chatBinaryScript = `<script>
const tok = document.querySelector('meta[name=chat-token]').content;
const ws = new WebSocket('ws://' + location.host + '/chat');
ws.binaryType = 'arraybuffer';
let n = 0, bins = 0;
const say = () => { ws.send(JSON.stringify({type: 'say', n: n, text: 'hello ' + n})); n++; };
const bin = () => ws.send(new Uint8Array([0, 1, 2, 0xfe, 0xff, 0x80, bins]));
ws.onopen = () => ws.send(JSON.stringify({type: 'hello', token: tok}));
ws.onmessage = (ev) => {
  if (typeof ev.data !== 'string') {
    const b = new Uint8Array(ev.data);
    if (b.length !== 7 || b[0] !== 0xff || b[6] !== (~bins & 0xff)) { document.title = 'bad binary reply'; return; }
    if (++bins < 2) { setTimeout(bin, 5); return; }
    setTimeout(() => { ws.close(1000); document.title = 'done'; }, 50);
    return;
  }
  const m = JSON.parse(ev.data);
  if (m.type === 'said') ws.send(JSON.stringify({type: 'ack', n: m.n, id: m.id}));
  if (n < 3) { setTimeout(say, 5); return; }
  setTimeout(bin, 5);
};
</script>`

type chatMsg struct {
	Type  string `json:"type"`
	Token string `json:"token,omitempty"`
	N     int    `json:"n"`
	ID    string `json:"id,omitempty"`
	Text  string `json:"text,omitempty"`
}

func (s *chatServer) chat(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	ctx := r.Context()
	var m chatMsg
	_, data, err := c.Read(ctx)
	if err != nil || json.Unmarshal(data, &m) != nil || m.Type != "hello" {
		return
	}
	s.mu.Lock()
	used, issued := s.tokens[m.Token]
	ok := issued && !used
	if ok {
		s.tokens[m.Token] = true
	} else {
		s.refused++
	}
	s.mu.Unlock()
	if !ok {
		_ = c.Close(websocket.StatusPolicyViolation, "bad token")
		return
	}
	conv := chatConn{token: m.Token, seen: []string{"hello"}, log: []chatFrame{{typ: websocket.MessageText, data: data}}}
	defer func() {
		s.mu.Lock()
		s.accepted = append(s.accepted, conv)
		s.mu.Unlock()
	}()
	welcome, _ := json.Marshal(chatMsg{Type: "welcome", Text: "room " + chatHex(4)})
	_ = conv.write(ctx, c, websocket.MessageText, welcome)
	lastID := ""
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			return
		}
		conv.log = append(conv.log, chatFrame{typ: typ, data: data})
		if typ == websocket.MessageBinary { // answered with its bytes inverted
			conv.seen = append(conv.seen, fmt.Sprintf("bin%d", len(data)))
			inv := make([]byte, len(data))
			for i, b := range data {
				inv[i] = ^b
			}
			_ = conv.write(ctx, c, websocket.MessageBinary, inv)
			continue
		}
		if json.Unmarshal(data, &m) != nil {
			return
		}
		conv.seen = append(conv.seen, fmt.Sprintf("%s%d", m.Type, m.N))
		switch m.Type {
		case "say":
			lastID = "m" + chatHex(8)
			said, _ := json.Marshal(chatMsg{Type: "said", N: m.N, ID: lastID, Text: m.Text})
			_ = conv.write(ctx, c, websocket.MessageText, said)
		case "ack":
			if m.ID != lastID {
				conv.seen = append(conv.seen, "bad-ack")
				_ = c.Close(websocket.StatusPolicyViolation, "unknown id")
				return
			}
		}
	}
}

func writeJSON(ctx context.Context, c *websocket.Conn, m chatMsg) error {
	b, _ := json.Marshal(m)
	return c.Write(ctx, websocket.MessageText, b)
}

// wantSeen is the conversation of chatClient, as the server sees it.
var wantSeen = "hello say0 ack0 say1 ack1 say2 ack2"

// chatClient logs in at base and chats: hello with the page's token, then
// three messages, each acknowledged with the id the server gave it.
func chatClient(t *testing.T, base string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := http.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	tok := regexp.MustCompile(`content="([0-9a-f]+)"`).FindStringSubmatch(string(page))
	if tok == nil {
		t.Fatalf("no token in %q", page)
	}
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/chat", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := writeJSON(ctx, c, chatMsg{Type: "hello", Token: tok[1]}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Read(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		time.Sleep(5 * time.Millisecond)
		if err := writeJSON(ctx, c, chatMsg{Type: "say", N: i, Text: fmt.Sprintf("hello %d", i)}); err != nil {
			t.Fatal(err)
		}
		_, data, err := c.Read(ctx)
		var m chatMsg
		if err != nil || json.Unmarshal(data, &m) != nil {
			t.Fatalf("said: %q %v", data, err)
		}
		if err := writeJSON(ctx, c, chatMsg{Type: "ack", N: i, ID: m.ID}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(20 * time.Millisecond) // the last ack reaches the server before the close
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
}

// recordChat records chatClient through amp's reverse proxy in front of a
// chat server.
func recordChat(t *testing.T) *capture.Recording {
	t.Helper()
	chat := newChatServer()
	srv := httptest.NewServer(chat)
	defer srv.Close()
	cfg := proxy.DefaultConfig()
	cfg.Target = srv.URL
	return recordThrough(t, cfg, chat, func(addr string) { chatClient(t, "http://"+addr) })
}

// recordThrough records what drive does through a recorder with cfg and
// checks that the chat server saw one whole conversation.
func recordThrough(t *testing.T, cfg proxy.Config, chat *chatServer, drive func(addr string)) *capture.Recording {
	t.Helper()
	rec, err := proxy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "chat.amp")
	w, err := capture.Create(path, capture.FileHeader{Source: "proxy", Created: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- rec.Serve(ctx, ln, w) }()
	drive(ln.Addr().String())
	time.Sleep(50 * time.Millisecond) // the relay sees the close
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := capture.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if chat == nil {
		return r
	}
	chat.settle(1)
	chat.mu.Lock()
	defer chat.mu.Unlock()
	if len(chat.accepted) != 1 || strings.Join(chat.accepted[0].seen, " ") != wantSeen {
		t.Fatalf("the recorded conversation went wrong: %+v", chat.accepted)
	}
	return r
}

// TestReplayWebSocketChat is issue 17's acceptance: a chat recorded
// through the proxy replays as 50 users, each with its own token from its
// own login page and the ids of its own server's messages, every message in
// order; without correlation the server refuses them all.
func TestReplayWebSocketChat(t *testing.T) {
	checkChatReplay(t, recordChat(t))
}

// checkChatReplay replays a recorded chat as 50 users, then 5 without
// correlation.
func checkChatReplay(t *testing.T, rec *capture.Recording) {
	t.Helper()
	if rec.Exchanges() != 2 {
		t.Fatalf("recorded %d exchanges, want the login page and the upgrade", rec.Exchanges())
	}
	ws := rec.Sessions[0].Exchanges[1]
	if !ws.IsWebSocket() || len(ws.WS) < 9 {
		t.Fatalf("upgrade recorded with status %d and %d messages", ws.Response.Status, len(ws.WS))
	}

	chat := newChatServer()
	srv := httptest.NewServer(chat)
	defer srv.Close()
	cfg := fastConfig(srv.URL)
	cfg.Users, cfg.Iterations = 50, 50
	res, _ := runReplay(t, rec, cfg)
	if res.Failures != 0 {
		t.Fatalf("%d failures: %s", res.Failures, describeFailures(res))
	}
	chat.settle(50)
	chat.mu.Lock()
	tokens := map[string]bool{}
	for i, c := range chat.accepted {
		tokens[c.token] = true
		if got := strings.Join(c.seen, " "); got != wantSeen {
			t.Errorf("conversation %d: the server saw %q, want %q", i, got, wantSeen)
		}
	}
	if len(chat.accepted) != 50 || len(tokens) != 50 || chat.refused != 0 {
		t.Errorf("the server accepted %d conversations with %d tokens and refused %d, want 50 with 50 and 0", len(chat.accepted), len(tokens), chat.refused)
	}
	chat.mu.Unlock()
	var wsEp bool
	for _, e := range res.Endpoints {
		if e.Method == MethodWS && e.Name == "/chat" {
			wsEp = true
			if e.Requests != 200 || e.Failures != 0 {
				t.Errorf("WS /chat: %d replies timed, %d failures; want 200 (hello and three says a conversation are answered) and 0", e.Requests, e.Failures)
			}
		}
		if e.Name == "/chat" && (e.BytesSent == 0 || e.Bytes == 0) {
			t.Errorf("%s /chat: %d bytes sent, %d received", e.Method, e.BytesSent, e.Bytes)
		}
		if e.Method == "GET" && e.Name == "/chat" && (e.MessagesSent != 50*7 || e.MessagesReceived != 50*4 || e.Statuses["101"] != 50) {
			t.Errorf("GET /chat: %d messages sent, %d received, statuses %v; want 350, 200 and 50×101", e.MessagesSent, e.MessagesReceived, e.Statuses)
		}
	}
	if !wsEp {
		t.Errorf("no WS endpoint among %+v", res.Endpoints)
	}

	// Without correlation every user presents the recorded, spent token.
	chat2 := newChatServer()
	srv2 := httptest.NewServer(chat2)
	defer srv2.Close()
	cfg = fastConfig(srv2.URL)
	cfg.Users, cfg.Iterations, cfg.NoCorrelate = 5, 5, true
	cfg.Timeout = 2 * time.Second
	res, _ = runReplay(t, rec, cfg)
	chat2.settle(5)
	chat2.mu.Lock()
	defer chat2.mu.Unlock()
	if len(chat2.accepted) != 0 || chat2.refused != 5 {
		t.Errorf("--no-correlate: the server accepted %d and refused %d, want 0 and 5", len(chat2.accepted), chat2.refused)
	}
	if !strings.Contains(describeFailures(res), ReasonWSClosedEarly) {
		t.Errorf("--no-correlate: failures %q, want %q", describeFailures(res), ReasonWSClosedEarly)
	}
}

// TestReplayWebSocketFailures: a refused upgrade and a server that never
// answers show as their reasons, on the upgrade's and the WS endpoint.
func TestReplayWebSocketFailures(t *testing.T) {
	rec := recordChat(t)
	login := newChatServer()
	mux := http.NewServeMux()
	mux.Handle("/login", login)
	mux.HandleFunc("/chat", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusForbidden) })
	refusing := httptest.NewServer(mux)
	defer refusing.Close()
	cfg := fastConfig(refusing.URL)
	cfg.Users, cfg.Iterations = 2, 2
	res, _ := runReplay(t, rec, cfg)
	if got := describeFailures(res); !strings.Contains(got, "GET /chat: "+ReasonWSRefused+" ×2") {
		t.Errorf("refused upgrade: failures %q", got)
	}
	for _, e := range res.Errors {
		if e.Reason == ReasonWSRefused && e.Sample != "HTTP 403" {
			t.Errorf("sample %q, want HTTP 403", e.Sample)
		}
	}

	silent := http.NewServeMux()
	silent.Handle("/login", login)
	silent.HandleFunc("/chat", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for { // read, never answer
			if _, _, err := c.Read(r.Context()); err != nil {
				return
			}
		}
	})
	mute := httptest.NewServer(silent)
	defer mute.Close()
	cfg = fastConfig(mute.URL)
	cfg.Users, cfg.Iterations, cfg.Timeout = 2, 2, 200*time.Millisecond
	res, _ = runReplay(t, rec, cfg)
	if got := describeFailures(res); !strings.Contains(got, "WS /chat: "+ReasonWSReplyTimeout+" ×2") {
		t.Errorf("silent server: failures %q", got)
	}
}

// TestReplayWebSocketChromium: the chat as headless Chromium runs it,
// recorded through the forward proxy (Chromium tunnels ws:// through
// CONNECT), replays as 50 users like the scripted client's.
func TestReplayWebSocketChromium(t *testing.T) {
	testenv.Chromium(t)
	chat := newChatServer()
	srv := httptest.NewServer(chat)
	defer srv.Close()
	cfg := proxy.DefaultConfig()
	cfg.IncludeHosts = []string{strings.TrimPrefix(srv.URL, "http://")}
	dir := t.TempDir()
	cfg.CACert, cfg.CAKey = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca-key.pem")
	if _, err := proxy.LoadOrCreateCA(cfg.CACert, cfg.CAKey); err != nil {
		t.Fatal(err)
	}
	rec := recordThrough(t, cfg, chat, func(addr string) {
		actx, acancel := testenv.Browser(t, 60*time.Second, chromedp.ProxyServer("http://"+addr),
			chromedp.Flag("proxy-bypass-list", "<-loopback>"))
		defer acancel()
		bctx, bcancel := chromedp.NewContext(actx)
		defer bcancel()
		err := chromedp.Do(bctx, chromedp.Navigate(srv.URL+"/login"))
		if err == nil {
			_, err = chromedp.Run(bctx, chromedp.Poll[bool](`document.title === "done"`, chromedp.WithPollingTimeout(20*time.Second)))
		}
		if err != nil {
			t.Fatalf("chatting in Chromium: %v", err)
		}
	})
	var kept []*capture.Exchange // the page and the conversation, not the favicon
	for _, e := range rec.Sessions[0].Exchanges {
		if e.Response.Status != http.StatusNotFound {
			kept = append(kept, e)
		}
	}
	rec.Sessions = []*capture.Session{{ID: rec.Sessions[0].ID, Exchanges: kept}}
	checkChatReplay(t, rec)
}

// TestReplayWebSocketFlood: a server that keeps sending after the
// recorded conversation is over does not keep its users: they close and go
// on.
func TestReplayWebSocketFlood(t *testing.T) {
	rec := recordChat(t)
	login := newChatServer()
	mux := http.NewServeMux()
	mux.Handle("/login", login)
	mux.HandleFunc("/chat", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := c.CloseRead(r.Context()) // the client's messages are read (and dropped) until it closes
		for i := 0; ; i++ {
			if writeJSON(ctx, c, chatMsg{Type: "news", N: i, ID: "m" + chatHex(8)}) != nil {
				return
			}
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	cfg := fastConfig(srv.URL)
	cfg.Users, cfg.Iterations = 2, 4
	done := make(chan struct{})
	go func() {
		defer close(done)
		res, _ := runReplay(t, rec, cfg)
		for _, e := range res.Endpoints {
			if e.Method == "GET" && e.Name == "/chat" && (e.Requests != 4 || e.MessagesReceived < 4*4) {
				t.Errorf("GET /chat: %d upgrades, %d messages received; want 4 and at least the recorded 4 each", e.Requests, e.MessagesReceived)
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the replay did not end: users held by a flooding server")
	}
}

// TestVerifyWebSocket: the validation pass plays the conversation rather
// than sending the upgrade as a plain request, and finds no difference.
func TestVerifyWebSocket(t *testing.T) {
	rec := recordChat(t)
	chat := newChatServer()
	srv := httptest.NewServer(chat)
	defer srv.Close()
	cfg := fastConfig(srv.URL)
	plan, err := NewPlan(rec, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Verify(t.Context(), plan, cfg)
	if err != nil {
		t.Fatal(err)
	}
	chat.settle(1)
	if len(v.Errors) != 0 || len(v.Differs) != 0 {
		t.Errorf("validation pass: errors %+v, differences %+v", v.Errors, v.Differs)
	}
	chat.mu.Lock()
	defer chat.mu.Unlock()
	if len(chat.accepted) != 1 || strings.Join(chat.accepted[0].seen, " ") != wantSeen {
		t.Errorf("the validation pass's conversation: %+v", chat.accepted)
	}
}

// TestReplayWebSocketTLSTimeline: the chat recorded over http replays
// against an https target (wss), and on the timeline.
func TestReplayWebSocketTLSTimeline(t *testing.T) {
	rec := recordChat(t)
	chat := newChatServer()
	srv := httptest.NewTLSServer(chat)
	defer srv.Close()
	cfg := fastConfig(srv.URL)
	cfg.Insecure = true
	cfg.Timeline, cfg.Multiple = true, 10
	res, _ := runReplay(t, rec, cfg)
	if res.Failures != 0 {
		t.Fatalf("%d failures: %s", res.Failures, describeFailures(res))
	}
	chat.settle(10)
	chat.mu.Lock()
	defer chat.mu.Unlock()
	if len(chat.accepted) != 10 {
		t.Errorf("the server accepted %d conversations, want 10", len(chat.accepted))
	}
	for i, c := range chat.accepted {
		if got := strings.Join(c.seen, " "); got != wantSeen {
			t.Errorf("conversation %d: %q", i, got)
		}
	}
	h2 := &Target{TLS: &tls.Config{NextProtos: []string{"h2", "http/1.1"}}}
	if w := wsTarget(h2); slices.Contains(w.TLS.NextProtos, "h2") || !slices.Contains(h2.TLS.NextProtos, "h2") {
		t.Errorf("an upgrade's TLS offers %v (target's now %v)", w.TLS.NextProtos, h2.TLS.NextProtos)
	}
	h2c := &Target{h2: &h2Target{prior: true}}
	if w := wsTarget(h2c); w.h2 != nil || h2c.h2 == nil {
		t.Errorf("an upgrade to an --h2c target would speak HTTP/2")
	}
}

// pushServer is a chat where messages are posted over HTTP and arrive over
// the WebSocket: the conversation waits for what a request made during it
// causes.
type pushServer struct {
	mu     sync.Mutex
	conns  map[string]*websocket.Conn // by token
	lastID map[string]string
	acked  int
}

func (s *pushServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/login":
		fmt.Fprintf(w, `<html><head><meta name="chat-token" content="%s"></head></html>`, chatHex(16))
	case "/say":
		tok := r.FormValue("token")
		s.mu.Lock()
		c := s.conns[tok]
		id := "m" + chatHex(8)
		s.lastID[tok] = id
		s.mu.Unlock()
		if c == nil {
			http.Error(w, "no conversation", http.StatusNotFound)
			return
		}
		_ = writeJSON(r.Context(), c, chatMsg{Type: "said", ID: id, Text: r.FormValue("text")})
		_, _ = io.WriteString(w, "ok")
	case "/chat":
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		var m chatMsg
		_, data, err := c.Read(r.Context())
		if err != nil || json.Unmarshal(data, &m) != nil {
			return
		}
		tok := m.Token
		s.mu.Lock()
		s.conns[tok] = c
		s.mu.Unlock()
		_ = writeJSON(r.Context(), c, chatMsg{Type: "welcome"})
		for {
			_, data, err := c.Read(r.Context())
			if err != nil || json.Unmarshal(data, &m) != nil {
				return
			}
			s.mu.Lock()
			if m.Type == "ack" && m.ID == s.lastID[tok] {
				s.acked++
			}
			s.mu.Unlock()
		}
	}
}

// TestReplayWebSocketInterleaved: a request the session made during the
// conversation goes out in its place, between the conversation's messages,
// so the server message it causes arrives and the client's answer to it
// carries its id.
func TestReplayWebSocketInterleaved(t *testing.T) {
	newPush := func() *pushServer {
		return &pushServer{conns: map[string]*websocket.Conn{}, lastID: map[string]string{}}
	}
	push := newPush()
	srv := httptest.NewServer(push)
	defer srv.Close()
	cfg := proxy.DefaultConfig()
	cfg.Target = srv.URL
	rec := recordThrough(t, cfg, nil, func(addr string) {
		base := "http://" + addr
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		resp, err := http.Get(base + "/login")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		tok := regexp.MustCompile(`content="([0-9a-f]+)"`).FindStringSubmatch(string(page))[1]
		c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/chat", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		_ = writeJSON(ctx, c, chatMsg{Type: "hello", Token: tok})
		if _, _, err := c.Read(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
		resp, err = http.PostForm(base+"/say", url.Values{"token": {tok}, "text": {"hi"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		_, data, err := c.Read(ctx)
		var m chatMsg
		if err != nil || json.Unmarshal(data, &m) != nil {
			t.Fatalf("said: %q %v", data, err)
		}
		_ = writeJSON(ctx, c, chatMsg{Type: "ack", ID: m.ID})
		time.Sleep(20 * time.Millisecond)
		_ = c.Close(websocket.StatusNormalClosure, "")
	})
	if push.acked != 1 || rec.Exchanges() != 3 {
		t.Fatalf("recording: %d acks, %d exchanges", push.acked, rec.Exchanges())
	}

	live := newPush()
	srv2 := httptest.NewServer(live)
	defer srv2.Close()
	rcfg := fastConfig(srv2.URL)
	rcfg.Think = Think{Mode: ThinkRecorded}
	rcfg.Users, rcfg.Iterations, rcfg.Timeout = 10, 10, 5*time.Second
	res, _ := runReplay(t, rec, rcfg)
	if res.Failures != 0 {
		t.Fatalf("%d failures: %s", res.Failures, describeFailures(res))
	}
	for range 500 {
		live.mu.Lock()
		n := live.acked
		live.mu.Unlock()
		if n >= 10 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	live.mu.Lock()
	defer live.mu.Unlock()
	if live.acked != 10 {
		t.Errorf("the server had %d acks naming the id it pushed, want 10", live.acked)
	}
}

// TestReplayWebSocketTwice: a session that logs in and chats twice replays
// both conversations, each with the token of the login page before it.
func TestReplayWebSocketTwice(t *testing.T) {
	chat := newChatServer()
	srv := httptest.NewServer(chat)
	defer srv.Close()
	cfg := proxy.DefaultConfig()
	cfg.Target = srv.URL
	rec := recordThrough(t, cfg, nil, func(addr string) {
		chatClient(t, "http://"+addr)
		chatClient(t, "http://"+addr)
	})
	if len(rec.Sessions) != 1 || rec.Exchanges() != 4 {
		t.Fatalf("recorded %d sessions, %d exchanges; want 1 and 4", len(rec.Sessions), rec.Exchanges())
	}
	live := newChatServer()
	srv2 := httptest.NewServer(live)
	defer srv2.Close()
	rcfg := fastConfig(srv2.URL)
	rcfg.Users, rcfg.Iterations = 10, 10
	res, _ := runReplay(t, rec, rcfg)
	if res.Failures != 0 {
		t.Fatalf("%d failures: %s", res.Failures, describeFailures(res))
	}
	live.settle(20)
	live.mu.Lock()
	defer live.mu.Unlock()
	tokens := map[string]bool{}
	for i, c := range live.accepted {
		tokens[c.token] = true
		if got := strings.Join(c.seen, " "); got != wantSeen {
			t.Errorf("conversation %d: %q", i, got)
		}
	}
	if len(live.accepted) != 20 || len(tokens) != 20 || live.refused != 0 {
		t.Errorf("accepted %d with %d tokens, refused %d; want 20, 20, 0", len(live.accepted), len(tokens), live.refused)
	}
}
