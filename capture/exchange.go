package capture

import (
	"net/textproto"
	"sort"
	"strings"
	"time"
)

// Header is one HTTP header field as it appeared on the wire.
type Header struct {
	Name  string
	Value string
}

// Headers is an ordered list of header fields. Duplicates are kept, in order, and
// names keep the case they were seen with.
type Headers []Header

// Get returns the first value of the named field (case-insensitive), or "".
func (h Headers) Get(name string) string {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// Values returns every value of the named field (case-insensitive), in order.
func (h Headers) Values(name string) []string {
	var vs []string
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			vs = append(vs, f.Value)
		}
	}
	return vs
}

// Size returns the number of bytes the fields take on the wire ("Name: Value\r\n").
func (h Headers) Size() int {
	n := 0
	for _, f := range h {
		n += len(f.Name) + len(f.Value) + 4
	}
	return n
}

// HeadersFromMap converts a net/http style header map into Headers. Map order is
// lost, so the fields are sorted by name to make the result deterministic; use it
// only where the wire order is unknown.
func HeadersFromMap(m map[string][]string) Headers {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	var h Headers
	for _, k := range names {
		for _, v := range m[k] {
			h = append(h, Header{Name: k, Value: v})
		}
	}
	return h
}

// Map returns the fields as a net/http style header map with canonical keys.
func (h Headers) Map() map[string][]string {
	m := make(map[string][]string, len(h))
	for _, f := range h {
		k := textproto.CanonicalMIMEHeaderKey(f.Name)
		m[k] = append(m[k], f.Value)
	}
	return m
}

// Request is a recorded HTTP request.
type Request struct {
	// Method is the request method, e.g. "GET".
	Method string
	// URL is the absolute URL (scheme, host, path and query) the request was sent
	// to, e.g. "http://shop.example:8080/cart?id=3".
	URL string
	// Proto is the protocol version as sent, e.g. "HTTP/1.1".
	Proto string
	// Header holds the request header fields in wire order.
	Header Headers
	// Body is the request body as sent (de-chunked), at most the recorder's body cap.
	Body []byte
	// BodySize is the full body size in bytes; larger than len(Body) when the body
	// was truncated, -1 when unknown.
	BodySize int64
}

// Response is a recorded HTTP response. A zero Status means no response was
// seen (see FlagNoResponse).
type Response struct {
	// Status is the status code, or 0 when there was no response.
	Status int
	// Proto is the protocol version as received, e.g. "HTTP/1.1".
	Proto string
	// Header holds the response header fields in wire order.
	Header Headers
	// Body is the response body as received (de-chunked, Content-Encoding kept),
	// at most the recorder's body cap.
	Body []byte
	// BodySize is the full body size in bytes; larger than len(Body) when the body
	// was truncated, -1 when unknown.
	BodySize int64
	// BodyHash is the SHA-256 of the whole body when Body was truncated, so that a
	// replay can still compare it; empty otherwise.
	BodyHash []byte
	// Trailer holds the trailer fields that followed the body (HTTP/2, or a
	// chunked HTTP/1.1 body), e.g. a gRPC call's grpc-status; empty when
	// there were none.
	Trailer Headers
}

// Flags mark recorded data that is incomplete or abnormal.
type Flags uint32

// The flags an Exchange may carry.
const (
	// FlagRequestTruncated: the request body was cut at the body cap.
	FlagRequestTruncated Flags = 1 << iota
	// FlagResponseTruncated: the response body was cut at the body cap.
	FlagResponseTruncated
	// FlagNoResponse: the request got no response (connection closed, capture
	// ended, upstream failed); Response.Status is 0 or a proxy's 502.
	FlagNoResponse
	// FlagIncomplete: bytes are missing from the middle or end of a message
	// (a gap in a capture, a body shorter than its Content-Length).
	FlagIncomplete
	// FlagFailed: the exchange failed in transport; Exchange.Error says why.
	FlagFailed
)

// String lists the set flags by name, separated by commas.
func (f Flags) String() string {
	names := []string{"request-truncated", "response-truncated", "no-response", "incomplete", "failed"}
	var out []string
	for i, n := range names {
		if f&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return strings.Join(out, ",")
}

// Exchange is one HTTP request with its response and timings, as recorded.
type Exchange struct {
	// Session is the key of the session (simulated user) this exchange belongs to,
	// assigned by a Grouper.
	Session string
	// Client is the client's address ("ip:port") as the recorder saw it.
	Client string
	// Start is when the first byte of the request was seen.
	Start time.Time
	// TTFB is the time from Start to the first byte of the response.
	TTFB time.Duration
	// Duration is the time from Start to the last byte of the response.
	Duration time.Duration
	// Request is the request as sent.
	Request Request
	// Response is the response as received.
	Response Response
	// Flags mark truncated, incomplete or failed data.
	Flags Flags
	// Error describes a transport failure (FlagFailed), e.g. "connection refused".
	Error string
	// WS holds the messages of a WebSocket conversation, both directions in
	// the order they were seen, when the exchange upgraded to WebSocket
	// (Response.Status 101); Duration then runs to the end of the
	// conversation.
	WS []WSMessage
}

// End returns when the last byte of the response was seen.
func (e *Exchange) End() time.Time { return e.Start.Add(e.Duration) }

// Bytes returns the number of bytes the exchange moved on the wire, as far as it
// is known: request and response header fields and bodies.
func (e *Exchange) Bytes() int64 {
	n := int64(e.Request.Header.Size() + e.Response.Header.Size())
	n += max(e.Request.BodySize, int64(len(e.Request.Body)))
	n += max(e.Response.BodySize, int64(len(e.Response.Body)))
	for i := range e.WS {
		n += max(e.WS[i].Size, int64(len(e.WS[i].Data)))
	}
	return n
}

// Session is the ordered exchanges of one user.
type Session struct {
	// ID is the session key shared by its exchanges.
	ID string
	// Exchanges are the session's exchanges ordered by Start.
	Exchanges []*Exchange
}

// Start returns the start of the first exchange, or the zero time for an empty
// session.
func (s *Session) Start() time.Time {
	if len(s.Exchanges) == 0 {
		return time.Time{}
	}
	return s.Exchanges[0].Start
}

// End returns the latest end of any exchange of the session.
func (s *Session) End() time.Time {
	var end time.Time
	for _, e := range s.Exchanges {
		if t := e.End(); t.After(end) {
			end = t
		}
	}
	return end
}

// Duration returns the time from the session's first request to its last byte.
func (s *Session) Duration() time.Duration {
	if len(s.Exchanges) == 0 {
		return 0
	}
	return s.End().Sub(s.Start())
}

// Client returns the client address of the session's first exchange.
func (s *Session) Client() string {
	if len(s.Exchanges) == 0 {
		return ""
	}
	return s.Exchanges[0].Client
}

// Bytes returns the bytes moved by all the session's exchanges.
func (s *Session) Bytes() int64 {
	var n int64
	for _, e := range s.Exchanges {
		n += e.Bytes()
	}
	return n
}
