package testenv

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// HARRecorder builds a HAR 1.2 document from the DevTools protocol's
// Network events, the way Chrome DevTools' "Save all as HAR" does, for a
// headless Chromium, which has no such button. DevTools' front end keeps
// one NetworkRequest per request id, fed by the same events
// (core/sdk/NetworkManager.ts), and its HAR writer (models/har/Log.ts,
// Writer.ts) turns them into entries; this follows what those do:
//
//   - startedDateTime is the request's wall-clock issue time, and every
//     later protocol timestamp (monotonic seconds) is turned into wall
//     time by the same offset (NetworkRequest.pseudoWallTime);
//   - timings are computed from the response's ResourceTiming as
//     Log.ts's buildTimings does; a WebSocket has none, so its "wait"
//     runs to the last frame (each frame moves responseReceivedTime) and
//     "receive" to the close;
//   - a WebSocket is an entry with _resourceType "websocket", its ws://
//     URL, the handshake's headers and status, and _webSocketMessages:
//     {type "send"|"receive"|"error", time (Unix seconds), opcode, data},
//     data being the frame's payloadData as the protocol gives it (text,
//     or base64 for other opcodes);
//   - response bodies come from Network.getResponseBody, base64 when the
//     protocol says so or when they are not valid UTF-8 (Writer.ts);
//   - pages are the main-frame document loads, "page_1", "page_2"...,
//     and every request after one's start refers to it.
//
// It does not read the ExtraInfo events (so header lists are those of
// requestWillBeSent and responseReceived, headersSize is -1 for HTTP
// entries and httpVersion comes from the response's protocol), follow
// redirects (a redirected request keeps only its last hop), list cookies
// (the Cookie and Set-Cookie fields are in the headers) or export
// initiator stacks. Header fields are in name order: the protocol hands
// them over as a JSON object, whose order Go's maps lose.
//
// Pass Listen to chromedp.WithListener, run the page, then call WriteHAR
// with the chromedp context while the page is still open.
type HARRecorder struct {
	mu    sync.Mutex
	reqs  map[network.RequestID]*harReq
	order []network.RequestID
	pages []*harPageLoad
}

// harReq is what DevTools' NetworkRequest holds of one request.
type harReq struct {
	id           network.RequestID
	url, method  string
	resourceType string
	headers      network.Headers
	postData     string
	initiator    *network.Initiator
	priority     string
	page         int // index in pages + 1; 0 for none

	issue, wall    float64 // monotonic and wall-clock issue times
	start          float64
	received, end  float64 // -1 until known
	timing         *network.ResourceTiming
	protocol       string
	status         int64
	statusText     string
	respHeaders    network.Headers
	reqHeadersText string
	respHeadersTxt string
	mimeType       string
	remote         string
	connectionID   float64
	transferSize   float64
	failed         string
	frames         []harWSMessage
}

// harPageLoad is a main-frame document load (DevTools' PageLoad).
type harPageLoad struct {
	url                   string
	start                 float64 // the main request's issue time
	contentLoaded, loaded float64 // -1 until fired
}

// Listen records what a protocol event says about a request or page.
func (r *HARRecorder) Listen(ev any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		r.requestWillBeSent(e)
	case *network.EventResponseReceived:
		if q := r.reqs[e.RequestID]; q != nil {
			q.responseReceived(float64(e.Timestamp), e.Type, e.Response)
		}
	case *network.EventLoadingFinished:
		if q := r.reqs[e.RequestID]; q != nil {
			q.end, q.transferSize = float64(e.Timestamp), e.EncodedDataLength
		}
	case *network.EventLoadingFailed:
		if q := r.reqs[e.RequestID]; q != nil {
			q.end, q.failed = float64(e.Timestamp), e.ErrorText
		}
	case *page.EventDomContentEventFired:
		if n := len(r.pages); n > 0 {
			r.pages[n-1].contentLoaded = float64(e.Timestamp)
		}
	case *page.EventLoadEventFired:
		if n := len(r.pages); n > 0 {
			r.pages[n-1].loaded = float64(e.Timestamp)
		}
	default:
		r.webSocketEvent(ev)
	}
}

// webSocketEvent records the events of a WebSocket's life.
func (r *HARRecorder) webSocketEvent(ev any) {
	switch e := ev.(type) {
	case *network.EventWebSocketCreated:
		q := r.add(e.RequestID)
		q.url, q.resourceType, q.initiator = e.URL, "websocket", e.Initiator
	case *network.EventWebSocketWillSendHandshakeRequest:
		if q := r.reqs[e.RequestID]; q != nil {
			q.method, q.headers = "GET", e.Request.Headers
			q.issue, q.wall, q.start = float64(e.Timestamp), float64(e.WallTime), float64(e.Timestamp)
		}
	case *network.EventWebSocketHandshakeResponseReceived:
		if q := r.reqs[e.RequestID]; q != nil {
			rs := e.Response
			q.status, q.statusText, q.respHeaders, q.respHeadersTxt = rs.Status, rs.StatusText, rs.Headers, rs.HeadersText
			if len(rs.RequestHeaders) > 0 {
				q.headers = rs.RequestHeaders
			}
			q.reqHeadersText = rs.RequestHeadersText
			q.received, q.protocol = float64(e.Timestamp), "websocket"
		}
	case *network.EventWebSocketFrameSent:
		r.frame(e.RequestID, float64(e.Timestamp), "send", e.Response)
	case *network.EventWebSocketFrameReceived:
		r.frame(e.RequestID, float64(e.Timestamp), "receive", e.Response)
	case *network.EventWebSocketFrameError:
		if q := r.reqs[e.RequestID]; q != nil {
			q.frames = append(q.frames, harWSMessage{Type: "error", Time: q.pseudoWall(float64(e.Timestamp)), Opcode: -1, Data: e.ErrorMessage})
			q.received = float64(e.Timestamp)
		}
	case *network.EventWebSocketClosed:
		if q := r.reqs[e.RequestID]; q != nil {
			q.end = float64(e.Timestamp)
		}
	}
}

// add starts a request record, belonging to the current page if any.
func (r *HARRecorder) add(id network.RequestID) *harReq {
	if r.reqs == nil {
		r.reqs = map[network.RequestID]*harReq{}
	}
	q := &harReq{id: id, received: -1, end: -1, page: len(r.pages)}
	if _, seen := r.reqs[id]; !seen {
		r.order = append(r.order, id)
	}
	r.reqs[id] = q
	return q
}

func (r *HARRecorder) requestWillBeSent(e *network.EventRequestWillBeSent) {
	if e.Type == network.ResourceTypeDocument && string(e.LoaderID) == string(e.RequestID) {
		// A main-frame navigation starts a page load.
		r.pages = append(r.pages, &harPageLoad{url: e.Request.URL, start: float64(e.Timestamp), contentLoaded: -1, loaded: -1})
	}
	q := r.add(e.RequestID)
	rq := e.Request
	q.url, q.method, q.headers, q.initiator = rq.URL, rq.Method, rq.Headers, e.Initiator
	q.resourceType, q.priority = resourceTypeName(e.Type), string(rq.InitialPriority)
	for _, pd := range rq.PostDataEntries {
		q.postData += string(pd.Bytes)
	}
	q.issue, q.wall, q.start = float64(e.Timestamp), float64(e.WallTime), float64(e.Timestamp)
}

// responseReceived is NetworkDispatcher.responseReceived: the time, then
// the response, whose timing moves the start and may move the time the
// headers came back earlier.
func (q *harReq) responseReceived(ts float64, typ network.ResourceType, rs *network.Response) {
	q.received = ts
	q.resourceType = resourceTypeName(typ)
	q.status, q.statusText, q.respHeaders, q.mimeType = rs.Status, rs.StatusText, rs.Headers, rs.MimeType
	if len(rs.RequestHeaders) > 0 {
		q.headers = rs.RequestHeaders
	}
	q.protocol, q.connectionID = rs.Protocol, rs.ConnectionID
	if rs.RemoteIPAddress != "" {
		q.remote = rs.RemoteIPAddress + ":" + strconv.FormatInt(rs.RemotePort, 10)
	}
	if tm := rs.Timing; tm != nil {
		q.timing, q.start = tm, tm.RequestTime
		if headers := tm.RequestTime + tm.ReceiveHeadersEnd/1000; q.received < 0 || q.received > headers {
			q.received = headers
		}
	}
}

// frame adds a WebSocket message as NetworkRequest.addProtocolFrame does.
func (r *HARRecorder) frame(id network.RequestID, ts float64, typ string, f *network.WebSocketFrame) {
	q := r.reqs[id]
	if q == nil || f == nil {
		return
	}
	// cdproto decodes non-text payloads; the protocol (and so the HAR)
	// carries them in base64.
	data := string(f.PayloadData)
	if f.Opcode != 1 {
		data = base64.StdEncoding.EncodeToString(f.PayloadData)
	}
	q.frames = append(q.frames, harWSMessage{Type: typ, Time: q.pseudoWall(ts), Opcode: f.Opcode, Data: data})
	q.received = ts
}

// pseudoWall turns a monotonic protocol time into wall-clock seconds.
func (q *harReq) pseudoWall(mono float64) float64 {
	if q.wall == 0 {
		return mono
	}
	return q.wall - q.issue + mono
}

// resourceTypeName is DevTools' name of a protocol resource type.
func resourceTypeName(t network.ResourceType) string {
	switch t {
	case network.ResourceTypeSignedExchange:
		return "signed-exchange"
	case network.ResourceTypeCSPViolationReport:
		return "csp-violation-report"
	case "":
		return "other"
	}
	return strings.ToLower(string(t))
}

// WriteHAR writes the HAR document of what was recorded so far to path,
// fetching the response bodies through the chromedp context ctx (whose
// page must still be open).
func (r *HARRecorder) WriteHAR(ctx context.Context, path string) error {
	b, err := r.HAR(ctx)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// HAR returns the HAR document of what was recorded so far, indented as
// DevTools writes it, its entries in the order of their issue times.
func (r *HARRecorder) HAR(ctx context.Context) ([]byte, error) {
	r.mu.Lock()
	reqs := make([]*harReq, 0, len(r.order))
	for _, id := range r.order {
		if q := r.reqs[id]; q.method != "" {
			cp := *q
			reqs = append(reqs, &cp)
		}
	}
	pages := make([]harPageLoad, len(r.pages))
	for i, p := range r.pages {
		pages[i] = *p
	}
	r.mu.Unlock()
	sort.SliceStable(reqs, func(i, j int) bool { return reqs[i].issue < reqs[j].issue })
	log := harLog{Version: "1.2", Creator: harCreator{Name: "WebInspector", Version: "n/a"}, Pages: []harPage{}, Entries: []harEntry{}}
	seen := map[int]bool{}
	for _, q := range reqs {
		if ua, ok := q.headers["User-Agent"].(string); ok && log.Creator.Version == "n/a" {
			// Log.ts takes the front end's AppleWebKit version.
			if _, v, found := strings.Cut(ua, "AppleWebKit/"); found {
				log.Creator.Version, _, _ = strings.Cut(v, " ")
			}
		}
		if q.page > 0 && !seen[q.page] {
			seen[q.page] = true
			log.Pages = append(log.Pages, pages[q.page-1].har(q))
		}
		en := q.entry()
		if err := q.content(ctx, &en); err != nil {
			return nil, err
		}
		log.Entries = append(log.Entries, en)
	}
	return json.MarshalIndent(map[string]harLog{"log": log}, "", "  ")
}

// har is Log.ts's convertPage: times from the page's start, which is the
// main request's issue time, made wall-clock through q, the page's first
// request in the list.
func (p harPageLoad) har(q *harReq) harPage {
	at := func(t float64) float64 {
		if t == -1 || p.start == -1 {
			return -1
		}
		return ms(t - p.start)
	}
	return harPage{
		StartedDateTime: wallJSON(q.pseudoWall(p.start)),
		ID:              "page_" + strconv.Itoa(q.page),
		Title:           p.url,
		PageTimings:     harPageTimings{OnContentLoad: at(p.contentLoaded), OnLoad: at(p.loaded)},
	}
}

// content fills the entry's body as Writer.ts does, for the requests that
// have one (not a WebSocket, not a failed request).
func (q *harReq) content(ctx context.Context, en *harEntry) error {
	if q.resourceType == "websocket" || q.status <= 0 || q.failed != "" {
		return nil
	}
	body, err := chromedp.Call(ctx, network.GetResponseBody, network.GetResponseBodyParams{RequestID: q.id})
	if err != nil {
		return nil // DevTools writes no text when the content is gone
	}
	c := &en.Response.Content
	c.Size = float64(len(body.Body))
	if body.Base64encoded || !utf8.Valid(body.Body) {
		c.Text, c.Encoding = base64.StdEncoding.EncodeToString(body.Body), "base64"
	} else {
		c.Text = string(body.Body)
	}
	return nil
}

// entry is Log.ts's Entry.build for the request.
func (q *harReq) entry() harEntry {
	t := q.timings()
	total := 0.0
	for _, v := range []float64{t.Blocked, t.DNS, t.Connect, t.Send, t.Wait, t.Receive} {
		total += max(v, 0)
	}
	en := harEntry{
		ResourceType:    q.resourceType,
		Request:         q.request(),
		Response:        q.response(),
		StartedDateTime: wallJSON(q.wall),
		Time:            total,
		Timings:         t,
		Cache:           struct{}{},
	}
	if q.initiator != nil {
		en.Initiator = &harInitiator{Type: string(q.initiator.Type), URL: q.initiator.URL}
	}
	if q.priority != "" {
		en.Priority = &q.priority
	}
	en.ServerIPAddress = q.remote
	if i := strings.LastIndexByte(q.remote, ':'); i >= 0 {
		en.ServerIPAddress, en.Connection = strings.Trim(q.remote[:i], "[]"), q.remote[i+1:]
	}
	if q.connectionID != 0 {
		en.ConnectionID = strconv.FormatFloat(q.connectionID, 'f', -1, 64)
	}
	if q.page > 0 {
		en.Pageref = "page_" + strconv.Itoa(q.page)
	}
	if q.resourceType == "websocket" {
		msgs := append([]harWSMessage{}, q.frames...)
		en.WebSocketMessages = &msgs
	}
	return en
}

func (q *harReq) request() harRequest {
	rq := harRequest{
		Method: q.method, URL: strings.SplitN(q.url, "#", 2)[0],
		HTTPVersion: httpVersion(q.reqHeadersText, false, q.protocol),
		Headers:     headerList(q.headers), QueryString: queryList(q.url), Cookies: []struct{}{},
		HeadersSize: textSize(q.reqHeadersText), BodySize: len(q.postData),
	}
	if q.postData != "" {
		ct, _ := q.headers["Content-Type"].(string)
		rq.PostData = &harPostData{MimeType: ct, Text: q.postData}
	}
	return rq
}

func (q *harReq) response() harResponse {
	rs := harResponse{
		Status: q.status, StatusText: q.statusText,
		HTTPVersion: httpVersion(q.respHeadersTxt, true, q.protocol),
		Headers:     headerList(q.respHeaders), Cookies: []struct{}{},
		Content:     harContent{MimeType: q.mimeType},
		HeadersSize: textSize(q.respHeadersTxt), BodySize: -1, TransferSize: q.transferSize,
	}
	if loc, ok := q.respHeaders["Location"].(string); ok {
		rs.RedirectURL = loc
	}
	if rs.Content.MimeType == "" {
		rs.Content.MimeType = "x-unknown"
	}
	if q.status == 304 {
		rs.BodySize = 0
	} else if q.respHeadersTxt != "" {
		rs.BodySize = q.transferSize - float64(len(q.respHeadersTxt))
		c := rs.Content.Size - rs.BodySize
		rs.Content.Compression = &c
	}
	if q.failed != "" {
		rs.Error = &q.failed
	}
	return rs
}

// timings is Log.ts's buildTimings: milliseconds from the request's
// timing, -1 for a phase that did not happen.
func (q *harReq) timings() harTimings {
	t := harTimings{Blocked: -1, DNS: -1, SSL: -1, Connect: -1}
	queued := -1.0
	if q.issue < q.start {
		queued = q.start - q.issue
	}
	t.Blocked, t.BlockedQueueing = ms(queued), ms(queued)
	highest := 0.0
	tm := q.timing
	switch {
	case tm != nil:
		highest = q.networkTimings(&t, tm)
	case q.received == -1:
		t.Blocked = ms(q.end - q.issue)
		return t
	}
	reqTime := q.start
	if tm != nil {
		reqTime = tm.RequestTime
	}
	waitEnd := ms(q.received - reqTime)
	t.Wait = waitEnd - highest
	t.Receive = max(ms(q.end-reqTime)-waitEnd, 0)
	return t
}

// networkTimings fills the phases up to the request's sending and returns
// the last of their ends.
func (q *harReq) networkTimings(t *harTimings, tm *network.ResourceTiming) float64 {
	blockedStart, found := leastNonNegative(tm.DNSStart, tm.ConnectStart, tm.SendStart)
	if found {
		t.Blocked += blockedStart
	}
	if tm.ProxyEnd != -1 {
		p := tm.ProxyEnd - tm.ProxyStart
		t.BlockedProxy = &p
		t.Blocked = max(t.Blocked, p)
	}
	dnsStart, dnsEnd := 0.0, -1.0
	if tm.DNSEnd >= 0 {
		dnsStart, dnsEnd = blockedStart, tm.DNSEnd
	}
	t.DNS = dnsEnd - dnsStart
	sslStart, sslEnd := 0.0, -1.0
	if tm.SslEnd > 0 {
		sslStart, sslEnd = tm.SslStart, tm.SslEnd
	}
	t.SSL = sslEnd - sslStart
	connectStart, connectEnd := 0.0, -1.0
	if tm.ConnectEnd >= 0 {
		connectStart, _ = leastNonNegative(dnsEnd, blockedStart)
		connectEnd = tm.ConnectEnd
	}
	t.Connect = connectEnd - connectStart
	sendStart, sendEnd := 0.0, 0.0
	if tm.SendEnd >= 0 {
		sendStart, sendEnd = max(connectEnd, dnsEnd, blockedStart), tm.SendEnd
	}
	t.Send = max(sendEnd-sendStart, 0)
	return max(sendEnd, connectEnd, sslEnd, dnsEnd, blockedStart, 0)
}

// leastNonNegative returns the least of vs that is not negative; found is
// false (and the value 0, where DevTools has Infinity) when there is none.
func leastNonNegative(vs ...float64) (least float64, found bool) {
	least = math.Inf(1)
	for _, v := range vs {
		if v >= 0 && v < least {
			least, found = v, true
		}
	}
	if !found {
		return 0, false
	}
	return least, true
}

// ms is Entry.toMilliseconds: seconds to milliseconds, -1 kept.
func ms(sec float64) float64 {
	if sec == -1 {
		return -1
	}
	return sec * 1000
}

// wallJSON is JavaScript's Date.toJSON of Unix seconds.
func wallJSON(sec float64) string {
	return time.UnixMilli(int64(math.Round(sec * 1000))).UTC().Format("2006-01-02T15:04:05.000Z")
}

// httpVersion is NetworkRequest's requestHttpVersion (the version ends
// the request line) and responseHttpVersion (it starts the status line):
// from the header block's first line if there is one (HTTP/0.9 if it names
// none), else the protocol's name.
func httpVersion(headersText string, leading bool, protocol string) string {
	if headersText == "" {
		p := strings.ToLower(protocol)
		if p == "h2" {
			return "http/2.0"
		}
		return p
	}
	first, _, _ := strings.Cut(headersText, "\r\n")
	v := first
	if leading {
		v, _, _ = strings.Cut(first, " ")
	} else if i := strings.LastIndexByte(first, ' '); i >= 0 {
		v = first[i+1:]
	}
	if isHTTPVersion(v) {
		return v
	}
	return "HTTP/0.9"
}

// isHTTPVersion reports whether v is HTTP/digits.digits.
func isHTTPVersion(v string) bool {
	major, minor, ok := strings.Cut(strings.TrimPrefix(v, "HTTP/"), ".")
	digits := func(s string) bool {
		return s != "" && strings.Trim(s, "0123456789") == ""
	}
	return ok && strings.HasPrefix(v, "HTTP/") && digits(major) && digits(minor)
}

// headerList is headersMapToHeadersArray: a field per line of each value.
func headerList(h network.Headers) []harNV {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	sort.Strings(names)
	out := []harNV{}
	for _, name := range names {
		v, ok := h[name].(string)
		if !ok {
			b, _ := json.Marshal(h[name])
			v = string(b)
		}
		for _, line := range strings.Split(v, "\n") {
			out = append(out, harNV{Name: name, Value: line})
		}
	}
	return out
}

// queryList is the URL's query as DevTools parses it: name=value pairs,
// not decoded.
func queryList(u string) []harNV {
	out := []harNV{}
	u, _, _ = strings.Cut(u, "#")
	_, q, ok := strings.Cut(u, "?")
	if !ok {
		return out
	}
	for _, pair := range strings.Split(q, "&") {
		name, value, _ := strings.Cut(pair, "=")
		out = append(out, harNV{Name: name, Value: value})
	}
	return out
}

// textSize is a header block's size, -1 when there is none.
func textSize(s string) int {
	if s == "" {
		return -1
	}
	return len(s)
}

// The HAR document, as Log.ts's DTOs shape it.
type (
	harNV struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	harCreator struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	harLog struct {
		Version string     `json:"version"`
		Creator harCreator `json:"creator"`
		Pages   []harPage  `json:"pages"`
		Entries []harEntry `json:"entries"`
	}
	harPage struct {
		StartedDateTime string         `json:"startedDateTime"`
		ID              string         `json:"id"`
		Title           string         `json:"title"`
		PageTimings     harPageTimings `json:"pageTimings"`
	}
	harPageTimings struct {
		OnContentLoad float64 `json:"onContentLoad"`
		OnLoad        float64 `json:"onLoad"`
	}
	harInitiator struct {
		Type string `json:"type"`
		URL  string `json:"url,omitempty"`
	}
	harWSMessage struct {
		Type   string  `json:"type"`
		Time   float64 `json:"time"`
		Opcode float64 `json:"opcode"`
		Data   string  `json:"data"`
	}
	harEntry struct {
		ConnectionID      string          `json:"_connectionId,omitempty"`
		Initiator         *harInitiator   `json:"_initiator"`
		Priority          *string         `json:"_priority"`
		ResourceType      string          `json:"_resourceType"`
		WebSocketMessages *[]harWSMessage `json:"_webSocketMessages,omitempty"`
		Cache             struct{}        `json:"cache"`
		Connection        string          `json:"connection,omitempty"`
		Pageref           string          `json:"pageref,omitempty"`
		Request           harRequest      `json:"request"`
		Response          harResponse     `json:"response"`
		ServerIPAddress   string          `json:"serverIPAddress"`
		StartedDateTime   string          `json:"startedDateTime"`
		Time              float64         `json:"time"`
		Timings           harTimings      `json:"timings"`
	}
	harRequest struct {
		Method      string       `json:"method"`
		URL         string       `json:"url"`
		HTTPVersion string       `json:"httpVersion"`
		Headers     []harNV      `json:"headers"`
		QueryString []harNV      `json:"queryString"`
		Cookies     []struct{}   `json:"cookies"`
		HeadersSize int          `json:"headersSize"`
		BodySize    int          `json:"bodySize"`
		PostData    *harPostData `json:"postData,omitempty"`
	}
	harPostData struct {
		MimeType string `json:"mimeType"`
		Text     string `json:"text"`
	}
	harResponse struct {
		Status       int64      `json:"status"`
		StatusText   string     `json:"statusText"`
		HTTPVersion  string     `json:"httpVersion"`
		Headers      []harNV    `json:"headers"`
		Cookies      []struct{} `json:"cookies"`
		Content      harContent `json:"content"`
		RedirectURL  string     `json:"redirectURL"`
		HeadersSize  int        `json:"headersSize"`
		BodySize     float64    `json:"bodySize"`
		TransferSize float64    `json:"_transferSize"`
		Error        *string    `json:"_error"`
	}
	harContent struct {
		Size        float64  `json:"size"`
		MimeType    string   `json:"mimeType"`
		Compression *float64 `json:"compression,omitempty"`
		Text        string   `json:"text,omitempty"`
		Encoding    string   `json:"encoding,omitempty"`
	}
	harTimings struct {
		Blocked         float64  `json:"blocked"`
		DNS             float64  `json:"dns"`
		SSL             float64  `json:"ssl"`
		Connect         float64  `json:"connect"`
		Send            float64  `json:"send"`
		Wait            float64  `json:"wait"`
		Receive         float64  `json:"receive"`
		BlockedQueueing float64  `json:"_blocked_queueing"`
		BlockedProxy    *float64 `json:"_blocked_proxy,omitempty"`
	}
)
