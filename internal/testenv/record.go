package testenv

import (
	"bytes"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/ampload/amp/capture"
)

// RecordingTransport is an http.RoundTripper that records every exchange a
// net/http client makes, the way amp's recording proxy would, as
// capture.Exchanges: absolute URL, header fields (Host first, the rest in
// name order, since net/http keeps no wire order), bodies, status and
// timings. Tests use it to make recordings of real flows without a proxy.
type RecordingTransport struct {
	// Next sends the requests; nil means http.DefaultTransport.
	Next http.RoundTripper
	// Session is the session key given to every exchange ("1" when empty).
	Session string
	// Client is the client address recorded ("127.0.0.1:50000" when empty).
	Client string
	// RecordedHost, when set, replaces the host of the recorded URLs and
	// Host field, as if the traffic had gone to that host.
	RecordedHost string

	mu  sync.Mutex
	exs []*capture.Exchange
}

// RoundTrip sends req with Next and records the exchange.
func (rt *RecordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	e := &capture.Exchange{Session: rt.Session, Client: rt.Client, Start: time.Now()}
	if e.Session == "" {
		e.Session = "1"
	}
	if e.Client == "" {
		e.Client = "127.0.0.1:50000"
	}
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	u := *req.URL
	if rt.RecordedHost != "" {
		u.Host = rt.RecordedHost
	}
	h := capture.Headers{{Name: "Host", Value: u.Host}}
	h = append(h, capture.HeadersFromMap(req.Header)...)
	e.Request = capture.Request{Method: req.Method, URL: u.String(), Proto: "HTTP/1.1", Header: h, Body: body, BodySize: int64(len(body))}
	next := rt.Next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	e.TTFB = time.Since(e.Start)
	rbody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(rbody))
	e.Duration = time.Since(e.Start)
	e.Response = capture.Response{Status: resp.StatusCode, Proto: resp.Proto, Header: capture.HeadersFromMap(resp.Header), Body: rbody, BodySize: int64(len(rbody))}
	rt.mu.Lock()
	rt.exs = append(rt.exs, e)
	rt.mu.Unlock()
	return resp, nil
}

// Exchanges returns the exchanges recorded so far, in the order they ended.
func (rt *RecordingTransport) Exchanges() []*capture.Exchange {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]*capture.Exchange(nil), rt.exs...)
}

// Recording returns the exchanges as a recording, grouped by session.
func (rt *RecordingTransport) Recording() *capture.Recording {
	return &capture.Recording{Header: capture.FileHeader{Source: "test"}, Sessions: capture.GroupSessions(rt.Exchanges())}
}
