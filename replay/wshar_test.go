package replay

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/capture/har"
	"github.com/ampload/amp/capture/ingest"
	"github.com/ampload/amp/internal/testenv"
	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"
)

// wantSeenBinary is the conversation of chatBinaryScript, as the server
// sees it.
const wantSeenBinary = "hello say0 ack0 say1 ack1 say2 ack2 bin7 bin7"

// TestChromiumHARWebSocket is issue 17's "a HAR with _webSocketMessages
// from Chromium imports with the right message counts". Headless Chromium
// chats with the loopback chat server (the login page's token, three
// messages acknowledged by id, two binary messages that are not UTF-8);
// the test builds the HAR from the DevTools protocol's Network events as
// DevTools' HAR export does (testenv.HARRecorder) and imports it as `amp
// import` does (ingest.DetectFile, ingest.Import, into a recording file).
// The recording holds the login page and the upgrade, whose messages are
// the ones the server read and wrote: as many each way, in order, with
// their opcodes and payloads. It then replays as 5 users against a fresh
// chat server: 5 conversations with 5 tokens, each whole, 0 failures.
func TestChromiumHARWebSocket(t *testing.T) {
	testenv.Chromium(t)
	chat := newChatServer()
	srv := httptest.NewServer(chat)
	defer srv.Close()
	harPath := filepath.Join(t.TempDir(), "chat.har")
	chromiumHAR(t, srv.URL+"/login?binary=1", harPath)
	chat.settle(1)
	chat.mu.Lock()
	if len(chat.accepted) != 1 || strings.Join(chat.accepted[0].seen, " ") != wantSeenBinary {
		chat.mu.Unlock()
		t.Fatalf("Chromium's conversation went wrong: %+v (refused %d)", chat.accepted, chat.refused)
	}
	server, token := chat.accepted[0].log, chat.accepted[0].token
	chat.mu.Unlock()

	wsEntries := checkHARFile(t, harPath, server)
	rec := importHAR(t, harPath)
	if len(rec.Sessions) != 1 {
		t.Fatalf("imported %d sessions, want the page and its socket in one", len(rec.Sessions))
	}
	var login, ws *capture.Exchange
	for _, e := range rec.Sessions[0].Exchanges {
		switch {
		case e.IsWebSocket():
			ws = e
		case strings.HasSuffix(e.Request.URL, "/login?binary=1"):
			login = e
		}
	}
	if login == nil || login.Response.Status != http.StatusOK || !bytes.Contains(login.Response.Body, []byte(token)) {
		t.Fatalf("the login page was not imported with its token: %+v", login)
	}
	if ws == nil || ws.Request.URL != "http"+strings.TrimPrefix(srv.URL, "http")+"/chat" {
		t.Fatalf("no upgrade to /chat among %d exchanges", rec.Exchanges())
	}
	if rec.Exchanges() != wsEntries[0] {
		t.Errorf("imported %d exchanges from %d HAR entries", rec.Exchanges(), wsEntries[0])
	}
	sent, received := checkMessages(t, ws.WS, server)
	// DevTools' "wait" for a socket runs to its last frame; the handshake
	// was over before the page's first message.
	if first := ws.WS[0].Offset; ws.TTFB > first {
		t.Errorf("the upgrade's time to first byte is %v, after the first message (%v)", ws.TTFB, first)
	}
	t.Logf("HAR: %d entries (%d WebSocket); imported %d exchanges; upgrade: %d messages sent, %d received (server: %d frames)",
		wsEntries[0], wsEntries[1], rec.Exchanges(), sent, received, len(server))

	replayChromiumHAR(t, rec)
}

// chromiumHAR runs the page at url in headless Chromium until its title is
// "done" and writes the HAR of its traffic to path.
func chromiumHAR(t *testing.T, url, path string) {
	t.Helper()
	actx, acancel := testenv.Browser(t, 30*time.Second)
	defer acancel()
	var rec testenv.HARRecorder
	bctx, bcancel := chromedp.NewContext(actx, chromedp.WithListener(rec.Listen))
	defer bcancel()
	err := chromedp.Do(bctx, chromedp.Navigate(url))
	if err == nil {
		_, err = chromedp.Run(bctx, chromedp.Poll[bool](`document.title === "done"`, chromedp.WithPollingTimeout(15*time.Second)))
	}
	if err != nil {
		title, _ := chromedp.Run(bctx, chromedp.Title())
		t.Fatalf("chatting in Chromium: %v (title %q)", err, title)
	}
	time.Sleep(100 * time.Millisecond) // the close reaches the protocol
	if err := rec.WriteHAR(bctx, path); err != nil {
		t.Fatal(err)
	}
}

// checkHARFile checks the HAR as a HAR reader sees it: one WebSocket entry
// whose _webSocketMessages are the server's frames, binary payloads in
// base64. It returns the numbers of entries and of WebSocket entries.
func checkHARFile(t *testing.T, path string, server []chatFrame) [2]int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l, err := har.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	var sockets []har.Entry
	for _, en := range l.Entries {
		if len(en.WebSocketMessages) > 0 {
			sockets = append(sockets, en)
		}
	}
	if len(sockets) != 1 {
		t.Fatalf("%d entries with _webSocketMessages, want 1", len(sockets))
	}
	var data []har.WebSocketMessage
	for _, m := range sockets[0].WebSocketMessages {
		if m.Opcode == 1 || m.Opcode == 2 {
			data = append(data, m)
		}
	}
	if len(data) != len(server) {
		t.Fatalf("the HAR has %d data messages, the server %d frames", len(data), len(server))
	}
	for i, m := range data {
		want := string(server[i].data)
		if server[i].typ == websocket.MessageBinary {
			want = base64.StdEncoding.EncodeToString(server[i].data)
		}
		if m.Data != want || (m.Type == "receive") != server[i].fromServer {
			t.Errorf("HAR message %d: %s %q, want %q (from server %v)", i, m.Type, m.Data, want, server[i].fromServer)
		}
	}
	return [2]int{len(l.Entries), len(sockets)}
}

// importHAR imports the HAR file as `amp import` does and reads the
// recording back.
func importHAR(t *testing.T, path string) *capture.Recording {
	t.Helper()
	in, err := ingest.DetectFile(path, "")
	if err != nil || in.Format != ingest.FormatHAR {
		t.Fatalf("%s detected as %q: %v", path, in.Format, err)
	}
	out := filepath.Join(t.TempDir(), "chat.amp")
	w, err := capture.Create(out, capture.FileHeader{Source: string(in.Format), Created: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	st, err := ingest.Import(t.Context(), ingest.Config{}, []ingest.Input{in}, w)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if st.HAR.Skipped != 0 || st.HAR.NoResponse != 0 || st.Requests != st.HAR.Entries {
		t.Errorf("import: %d of %d entries written, %d skipped, %d without a response", st.Requests, st.HAR.Entries, st.HAR.Skipped, st.HAR.NoResponse)
	}
	rec, err := capture.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// checkMessages compares the imported messages with the server's frames:
// the data messages one for one, in order; it returns the counts each
// way.
func checkMessages(t *testing.T, msgs []capture.WSMessage, server []chatFrame) (sent, received int) {
	t.Helper()
	var data []capture.WSMessage
	for i, m := range msgs {
		if i > 0 && m.Offset < msgs[i-1].Offset {
			t.Errorf("message %d at %v, before the one before it (%v)", i, m.Offset, msgs[i-1].Offset)
		}
		if m.IsData() {
			data = append(data, m)
		}
	}
	wantSent, wantReceived := 0, 0
	for _, f := range server {
		if f.fromServer {
			wantReceived++
		} else {
			wantSent++
		}
	}
	for _, m := range data {
		if m.FromServer {
			received++
		} else {
			sent++
		}
	}
	if sent != wantSent || received != wantReceived || len(data) != len(server) {
		t.Fatalf("imported %d messages sent and %d received, the server read %d and wrote %d", sent, received, wantSent, wantReceived)
	}
	for i, m := range data {
		f := server[i]
		op := uint8(capture.WSText)
		if f.typ == websocket.MessageBinary {
			op = capture.WSBinary
		}
		if m.FromServer != f.fromServer || m.Opcode != op || !bytes.Equal(m.Data, f.data) {
			t.Errorf("message %d: from server %v, %s %q; the server's: from server %v, %s %q",
				i, m.FromServer, capture.WSOpcodeName(m.Opcode), m.Data, f.fromServer, capture.WSOpcodeName(op), f.data)
		}
	}
	return sent, received
}

// replayChromiumHAR replays the imported chat as 5 users against a fresh
// server: each conversation whole, with its own token.
func replayChromiumHAR(t *testing.T, rec *capture.Recording) {
	t.Helper()
	live := newChatServer()
	srv := httptest.NewServer(live)
	defer srv.Close()
	cfg := fastConfig(srv.URL)
	cfg.Users, cfg.Iterations = 5, 5
	res, _ := runReplay(t, rec, cfg)
	if res.Failures != 0 {
		t.Fatalf("replay: %d failures: %s", res.Failures, describeFailures(res))
	}
	live.settle(5)
	live.mu.Lock()
	defer live.mu.Unlock()
	tokens := map[string]bool{}
	for i, c := range live.accepted {
		tokens[c.token] = true
		if got := strings.Join(c.seen, " "); got != wantSeenBinary {
			t.Errorf("replayed conversation %d: the server saw %q, want %q", i, got, wantSeenBinary)
		}
	}
	if len(live.accepted) != 5 || len(tokens) != 5 || live.refused != 0 {
		t.Errorf("replay: the server accepted %d conversations with %d tokens and refused %d, want 5, 5 and 0", len(live.accepted), len(tokens), live.refused)
	}
}
