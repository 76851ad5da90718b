package har

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ampload/amp/capture"
)

// File is a HAR document: what amp reads of it.
type File struct {
	// Log is the archive's only top-level member.
	Log *Log `json:"log"`
}

// Log is the "log" object of a HAR file.
type Log struct {
	// Version is the HAR version, "1.1" or "1.2".
	Version string `json:"version"`
	// Creator names the program that wrote the file.
	Creator Creator `json:"creator"`
	// Pages are the pages loaded, if the creator groups entries by page.
	Pages []Page `json:"pages"`
	// Entries are the requests, each with its response and timings.
	Entries []Entry `json:"entries"`
}

// Creator is the "creator" (or "browser") object.
type Creator struct {
	// Name and Version of the program.
	Name, Version string
}

// Page is one page load.
type Page struct {
	// ID is what entries' Pageref refers to.
	ID string `json:"id"`
	// StartedDateTime is when the page load started.
	StartedDateTime string `json:"startedDateTime"`
	// Title is the page's title.
	Title string `json:"title"`
}

// Entry is one request with its response.
type Entry struct {
	// Pageref is the ID of the page the request belongs to, if any.
	Pageref string `json:"pageref"`
	// StartedDateTime is when the request started (ISO 8601).
	StartedDateTime string `json:"startedDateTime"`
	// Time is the total time of the request in milliseconds.
	Time Number `json:"time"`
	// Request is the request as sent.
	Request Request `json:"request"`
	// Response is the response as received.
	Response Response `json:"response"`
	// Timings splits Time into phases.
	Timings Timings `json:"timings"`
	// Error is a browser's reason for a failed request (Chrome's "_error").
	Error string `json:"_error"`
	// WebSocketMessages are the messages of a WebSocket the request opened
	// (Chrome's "_webSocketMessages").
	WebSocketMessages []WebSocketMessage `json:"_webSocketMessages"`
}

// WebSocketMessage is one message of a WebSocket, as Chrome's DevTools
// export it.
type WebSocketMessage struct {
	// Type is "send" (by the page) or "receive".
	Type string `json:"type"`
	// Time is when the message was sent or received, in Unix seconds.
	Time Number `json:"time"`
	// Opcode is the frame's opcode: 1 text, 2 binary (Data in base64), ...
	Opcode Number `json:"opcode"`
	// Data is the payload.
	Data string `json:"data"`
}

// Request is an entry's request.
type Request struct {
	// Method is the request method.
	Method string `json:"method"`
	// URL is the absolute URL requested.
	URL string `json:"url"`
	// HTTPVersion as recorded ("HTTP/1.1", "h2", "" ...).
	HTTPVersion string `json:"httpVersion"`
	// Headers in the order recorded.
	Headers []NameValue `json:"headers"`
	// Cookies sent.
	Cookies []NameValue `json:"cookies"`
	// PostData is the request body, if any.
	PostData *PostData `json:"postData"`
	// BodySize is the body size in bytes, -1 if unknown.
	BodySize Number `json:"bodySize"`
}

// PostData is a request body: its text, or its form parameters.
type PostData struct {
	// MimeType is the body's content type.
	MimeType string `json:"mimeType"`
	// Text is the body.
	Text string `json:"text"`
	// Encoding is "base64" when Text is base64 (a field some tools add).
	Encoding string `json:"encoding"`
	// Params are the form fields when Text is absent.
	Params []Param `json:"params"`
}

// Param is a posted form field or file.
type Param struct {
	// Name of the field; FileName and ContentType for a file.
	Name, FileName, ContentType string
	// Value is the field's value as JSON: usually a string, but some writers
	// (chrome-har) put JSON values there; absent for a bare name.
	Value json.RawMessage
}

// text returns the value as it was sent: a JSON string unquoted, any other
// JSON value compacted, and ok false when there is no value.
func (p Param) text() (s string, ok bool) {
	v := bytes.TrimSpace(p.Value)
	if len(v) == 0 || string(v) == "null" {
		return "", false
	}
	if v[0] == '"' {
		if err := json.Unmarshal(v, &s); err == nil {
			return s, true
		}
	}
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		return string(v), true
	}
	return b.String(), true
}

// Response is an entry's response.
type Response struct {
	// Status is the status code; 0 when the request failed or was blocked.
	Status Number `json:"status"`
	// HTTPVersion as recorded ("HTTP/1.1", "h2", "" ...).
	HTTPVersion string `json:"httpVersion"`
	// Headers in the order recorded.
	Headers []NameValue `json:"headers"`
	// Content is the response body, decoded.
	Content Content `json:"content"`
	// Error is Chrome's reason for a failed request ("_error").
	Error string `json:"_error"`
}

// Content is a response body.
type Content struct {
	// Size is the decoded body size in bytes.
	Size Number `json:"size"`
	// MimeType is the body's content type.
	MimeType string `json:"mimeType"`
	// Text is the body.
	Text string `json:"text"`
	// Encoding is "base64" when Text is base64.
	Encoding string `json:"encoding"`
}

// NameValue is a header field, cookie or query parameter.
type NameValue struct {
	// Name and Value as recorded.
	Name, Value string
}

// Timings are an entry's phases in milliseconds; -1 means not applicable.
type Timings struct {
	// Blocked, DNS, Connect (which includes SSL), Send, Wait and Receive.
	Blocked, DNS, Connect, Send, Wait, Receive Number
}

// Number is a JSON number that also accepts a numeric string or null, as
// some HAR writers produce.
type Number float64

// UnmarshalJSON implements json.Unmarshaler.
func (n *Number) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" || s == "" {
		*n = 0
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("%q is not a number", b)
	}
	*n = Number(f)
	return nil
}

// ms converts milliseconds to a duration; negative (unknown) is zero.
func (n Number) ms() time.Duration {
	if n <= 0 {
		return 0
	}
	return time.Duration(float64(n) * float64(time.Millisecond))
}

// ErrNotHAR reports JSON that has no HAR "log" object.
var ErrNotHAR = errors.New("not a HAR file (no \"log\" object with \"entries\")")

// Sniff reports whether head, the first bytes of a file (512 are plenty),
// may be a HAR document: a JSON object, perhaps after a UTF-8 byte order mark
// and blanks. Read tells for sure.
func Sniff(head []byte) bool {
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	head = bytes.TrimLeft(head, " \t\r\n")
	return len(head) > 0 && head[0] == '{'
}

// Read decodes a HAR document. A UTF-8 byte order mark is skipped. JSON
// errors name the byte offset.
func Read(r io.Reader) (*Log, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var f File
	if err := json.Unmarshal(data, &f); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, fmt.Errorf("invalid JSON at byte %d: %v", se.Offset, err)
		case errors.As(err, &te):
			return nil, fmt.Errorf("unexpected %s for %s at byte %d", te.Value, te.Field, te.Offset)
		}
		return nil, err
	}
	if f.Log == nil || f.Log.Entries == nil && f.Log.Version == "" {
		return nil, ErrNotHAR
	}
	return f.Log, nil
}

// Config configures the conversion of entries to exchanges.
type Config struct {
	// Name identifies the HAR file (its base name); it makes up the client
	// of its exchanges: "har/NAME" or "har/NAME#PAGE".
	Name string
	// MaxBody is the number of body bytes kept per message; zero means
	// unlimited.
	MaxBody int
}

// Stats counts what Exchanges converted.
type Stats struct {
	// Entries and Pages in the file.
	Entries, Pages int
	// Exchanges converted; NoResponse of them have status 0.
	Exchanges, NoResponse int
	// Skipped entries lack a method, an absolute http(s) URL or a readable
	// startedDateTime.
	Skipped int
}

// Exchanges converts the log's entries to exchanges, ordered by start.
//
// Each page is its own user unless cookies say otherwise: an entry's client
// is "har/NAME#PAGE" (or "har/NAME" without a page), so capture.Grouper puts
// the entries of a page in one session and joins pages that share a session
// cookie or Authorization. The start is the request's first byte
// (startedDateTime plus blocked, dns and connect), the time to first byte is
// send plus wait, the duration adds receive. Request bodies come from
// postData's text (base64 when marked) or are rebuilt from its params;
// response bodies are content.text (base64 decoded), which HAR stores
// decoded, so a Content-Encoding field is dropped with it. HTTP/2 pseudo
// header fields (":path") are dropped; request cookies listed without a
// Cookie field are turned into one. A WebSocket (Chrome names it by its
// ws:// or wss:// URL, recorded as http:// or https://) keeps its
// _webSocketMessages as the exchange's WS messages, offsets from its start,
// binary payloads base64-decoded; its duration runs to the last message and
// its time to first byte ends at the latest with the first message (Chrome's
// "wait" for a WebSocket runs to its last message).
func (l *Log) Exchanges(cfg Config) ([]*capture.Exchange, Stats) {
	st := Stats{Entries: len(l.Entries), Pages: len(l.Pages)}
	out := make([]*capture.Exchange, 0, len(l.Entries))
	for i := range l.Entries {
		e := l.Entries[i].exchange(cfg)
		if e == nil {
			st.Skipped++
			continue
		}
		if e.Response.Status == 0 {
			st.NoResponse++
		}
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	st.Exchanges = len(out)
	return out, st
}

// Import reads the HAR document from r (see Read) and writes the exchanges of
// its entries to sink, ordered by start (see Log.Exchanges). Each exchange is
// dropped once written, so a Sink that encodes it (capture.Writer) lets its
// memory go. An error from sink stops the import and is returned with the
// counts so far; Stats.Exchanges then counts the exchanges written.
func Import(r io.Reader, cfg Config, sink capture.Sink) (Stats, error) {
	l, err := Read(r)
	if err != nil {
		return Stats{}, err
	}
	exs, st := l.Exchanges(cfg)
	l.Entries = nil
	for i, e := range exs {
		exs[i] = nil
		if err := sink.Write(e); err != nil {
			st.Exchanges = i
			return st, err
		}
	}
	return st, nil
}

// exchange converts one entry, or returns nil if it is unusable.
func (en *Entry) exchange(cfg Config) *capture.Exchange {
	rq := &en.Request
	u := strings.TrimSpace(rq.URL)
	lower := strings.ToLower(u)
	// Chrome names a WebSocket's request by its ws:// or wss:// URL: the
	// upgrade is an http(s) request.
	if strings.HasPrefix(lower, "ws://") || strings.HasPrefix(lower, "wss://") {
		u, lower = "http"+u[2:], "http"+lower[2:]
	}
	if rq.Method == "" || !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
		return nil
	}
	start := parseTime(en.StartedDateTime)
	if start.IsZero() {
		return nil
	}
	t := en.Timings
	start = start.Add(t.Blocked.ms() + t.DNS.ms() + t.Connect.ms())
	e := &capture.Exchange{
		Client: "har/" + strings.ReplaceAll(cfg.Name, ":", "_"),
		Start:  start,
		Request: capture.Request{
			Method: rq.Method,
			URL:    u,
			Proto:  proto(rq.HTTPVersion),
			Header: headers(rq.Headers, false),
		},
	}
	if en.Pageref != "" {
		e.Client += "#" + en.Pageref
	}
	if e.Request.Header.Get("Cookie") == "" && len(rq.Cookies) > 0 {
		pairs := make([]string, len(rq.Cookies))
		for i, c := range rq.Cookies {
			pairs[i] = c.Name + "=" + c.Value
		}
		e.Request.Header = append(e.Request.Header, capture.Header{Name: "Cookie", Value: strings.Join(pairs, "; ")})
	}
	body := requestBody(rq.PostData)
	e.Request.BodySize = int64(len(body))
	if cfg.MaxBody > 0 && len(body) > cfg.MaxBody {
		body = body[:cfg.MaxBody]
		e.Flags |= capture.FlagRequestTruncated
	}
	e.Request.Body = body

	ttfb := t.Send.ms() + t.Wait.ms()
	dur := ttfb + t.Receive.ms()
	if dur == 0 && en.Time > 0 {
		dur = en.Time.ms()
		ttfb = dur
	}
	e.TTFB, e.Duration = ttfb, dur

	rs := &en.Response
	status := int(rs.Status)
	if status <= 0 {
		e.Response.BodySize = -1
		e.Flags |= capture.FlagNoResponse
		if msg := firstNonEmpty(rs.Error, en.Error); msg != "" {
			e.Flags |= capture.FlagFailed
			e.Error = msg
		}
		return e
	}
	e.Response = capture.Response{Status: status, Proto: proto(rs.HTTPVersion), Header: headers(rs.Headers, false), BodySize: -1}
	c := &rs.Content
	if c.Text != "" {
		rbody := []byte(c.Text)
		if strings.EqualFold(c.Encoding, "base64") {
			if dec, err := base64.StdEncoding.DecodeString(c.Text); err == nil {
				rbody = dec
			}
		}
		e.Response.Header = headers(rs.Headers, true)
		e.Response.BodySize = int64(len(rbody))
		if cfg.MaxBody > 0 && len(rbody) > cfg.MaxBody {
			sum := sha256.Sum256(rbody)
			e.Response.BodyHash = sum[:]
			rbody = rbody[:cfg.MaxBody]
			e.Flags |= capture.FlagResponseTruncated
		}
		e.Response.Body = rbody
	} else if c.Size >= 0 {
		e.Response.BodySize = int64(c.Size)
	}
	en.webSocket(e, cfg)
	return e
}

// webSocket adds the entry's WebSocket messages to e, their offsets from its
// start; binary payloads are base64 in the HAR.
func (en *Entry) webSocket(e *capture.Exchange, cfg Config) {
	for _, m := range en.WebSocketMessages {
		op := uint8(m.Opcode)
		if float64(m.Opcode) != float64(op) || op == 0 {
			continue
		}
		data := []byte(m.Data)
		if op == capture.WSBinary {
			if dec, err := base64.StdEncoding.DecodeString(m.Data); err == nil {
				data = dec
			}
		}
		sec := float64(m.Time)
		at := time.Unix(0, int64(sec*1e9))
		wm := capture.WSMessage{Offset: max(0, at.Sub(e.Start)), FromServer: m.Type == "receive", Opcode: op, Data: data, Size: int64(len(data))}
		if cfg.MaxBody > 0 && len(data) > cfg.MaxBody {
			wm.Data = data[:cfg.MaxBody]
		}
		e.WS = append(e.WS, wm)
	}
	sort.SliceStable(e.WS, func(i, j int) bool { return e.WS[i].Offset < e.WS[j].Offset })
	if n := len(e.WS); n > 0 {
		e.Duration = max(e.Duration, e.WS[n-1].Offset)
		// Chrome's "wait" for a WebSocket runs to its last message (each
		// message moves the request's response time), not to the 101,
		// which came before the first message.
		e.TTFB = min(e.TTFB, e.WS[0].Offset)
	}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// headers converts header fields, leaving out HTTP/2 pseudo fields and, when
// the body is stored decoded, Content-Encoding.
func headers(nv []NameValue, decoded bool) capture.Headers {
	h := make(capture.Headers, 0, len(nv))
	for _, f := range nv {
		if f.Name == "" || f.Name[0] == ':' {
			continue
		}
		if decoded && strings.EqualFold(f.Name, "Content-Encoding") && !strings.EqualFold(strings.TrimSpace(f.Value), "identity") {
			continue
		}
		h = append(h, capture.Header{Name: f.Name, Value: f.Value})
	}
	return h
}

// requestBody returns the request body a postData describes.
func requestBody(p *PostData) []byte {
	if p == nil {
		return nil
	}
	if p.Text != "" {
		if strings.EqualFold(p.Encoding, "base64") {
			if dec, err := base64.StdEncoding.DecodeString(p.Text); err == nil {
				return dec
			}
		}
		return []byte(p.Text)
	}
	if len(p.Params) == 0 {
		return nil
	}
	mt, mp, _ := mime.ParseMediaType(p.MimeType)
	switch {
	case mt == "multipart/form-data":
		boundary := mp["boundary"]
		if boundary == "" {
			boundary = "amp-har-boundary"
		}
		var b bytes.Buffer
		for _, f := range p.Params {
			v, _ := f.text()
			fmt.Fprintf(&b, "--%s\r\nContent-Disposition: form-data; name=%q", boundary, f.Name)
			if f.FileName != "" {
				fmt.Fprintf(&b, "; filename=%q", f.FileName)
			}
			b.WriteString("\r\n")
			if f.ContentType != "" {
				fmt.Fprintf(&b, "Content-Type: %s\r\n", f.ContentType)
			}
			fmt.Fprintf(&b, "\r\n%s\r\n", v)
		}
		fmt.Fprintf(&b, "--%s--\r\n", boundary)
		return b.Bytes()
	case (mt == "application/json" || strings.HasSuffix(mt, "+json")) && indexedParams(p.Params):
		// chrome-har records a JSON array body as params "0", "1", ...
		vals := make([]string, len(p.Params))
		for i, f := range p.Params {
			v, ok := f.text()
			if !ok {
				v = "null"
			} else if len(bytes.TrimSpace(f.Value)) > 0 && f.Value[0] == '"' {
				q, _ := json.Marshal(v)
				v = string(q)
			}
			vals[i] = v
		}
		return []byte("[" + strings.Join(vals, ",") + "]")
	}
	// A form: the fields joined as they were recorded (browsers record them
	// as sent, encoded or not).
	parts := make([]string, len(p.Params))
	for i, f := range p.Params {
		parts[i] = f.Name
		if v, ok := f.text(); ok {
			parts[i] += "=" + v
		}
	}
	return []byte(strings.Join(parts, "&"))
}

// indexedParams reports whether params are named "0", "1", ... in order.
func indexedParams(ps []Param) bool {
	for i, p := range ps {
		if p.Name != strconv.Itoa(i) {
			return false
		}
	}
	return true
}

// proto normalises the many spellings of httpVersion; "" when unknown.
func proto(v string) string {
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "HTTP/1.1", "1.1":
		return "HTTP/1.1"
	case "HTTP/1.0", "1.0":
		return "HTTP/1.0"
	case "HTTP/2", "HTTP/2.0", "H2", "2", "2.0":
		return "HTTP/2.0"
	case "HTTP/3", "HTTP/3.0", "H3", "3":
		return "HTTP/3"
	}
	return ""
}

// timeLayouts are the startedDateTime forms seen in the wild.
var timeLayouts = [...]string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
}

// parseTime reads a startedDateTime; the zero time if it cannot.
func parseTime(s string) time.Time {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, strings.TrimSpace(s)); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
