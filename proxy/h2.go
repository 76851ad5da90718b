package proxy

import (
	"crypto/tls"
	"net/http"
	"strings"
	"time"
)

// HTTP/2 in the recorder. Clients that want it get it: the MITM tunnel's
// TLS offers h2 beside http/1.1 by ALPN, and the reverse proxy (and a
// tunnel) also accepts HTTP/2 with prior knowledge (h2c, as gRPC clients
// speak to a cleartext server). Go's server detects the HTTP/2 preface on
// the connection; the requests then take the same path as HTTP/1.1 ones
// through goproxy and are recorded the same way, with Proto "HTTP/2.0", the
// request fields in the client's order and case (h2wire.go decodes its
// header blocks) and the response's trailers. Upstream, a request that came
// over HTTP/2 goes over HTTP/2 where the upstream offers it (ALPN for https,
// falling back to HTTP/1.1); over cleartext only a gRPC call is sent with
// prior knowledge (a gRPC server speaks nothing else), other requests over
// HTTP/1.1, which every server speaks.

// serverProtocols are the protocols the recorder's servers accept on a
// connection that is not TLS to them (the listener, a decrypted tunnel):
// HTTP/1.1 and HTTP/2 with prior knowledge.
func serverProtocols() *http.Protocols {
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	return p
}

// h2Transports makes the upstream transports of requests that came over
// HTTP/2: over TLS by ALPN (h2, else http/1.1), and h2c.
func (r *Recorder) h2Transports(tlsConf *tls.Config) {
	conf := tlsConf.Clone()
	conf.NextProtos = nil // the transport offers h2 and http/1.1
	tls2 := new(http.Protocols)
	tls2.SetHTTP1(true)
	tls2.SetHTTP2(true)
	r.tr2 = &http.Transport{
		Proxy:                 nil,
		DialContext:           r.dial,
		TLSClientConfig:       conf,
		TLSHandshakeTimeout:   DialTimeout,
		ResponseHeaderTimeout: r.cfg.UpstreamTimeout,
		MaxIdleConnsPerHost:   1024,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true,
		Protocols:             tls2,
	}
	h2c := new(http.Protocols)
	h2c.SetUnencryptedHTTP2(true)
	r.tr2c = &http.Transport{
		Proxy:                 nil,
		DialContext:           r.dial,
		ResponseHeaderTimeout: r.cfg.UpstreamTimeout,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true,
		Protocols:             h2c,
	}
}

// transport returns the upstream transport of req (see above).
func (r *Recorder) transport(req *http.Request) http.RoundTripper {
	if req.ProtoMajor != 2 {
		return r.tr
	}
	if req.URL.Scheme == "https" {
		return r.tr2
	}
	if isGRPC(req.Header.Get("Content-Type")) {
		return r.tr2c
	}
	return r.tr
}

// isGRPC reports whether a Content-Type is gRPC's (application/grpc,
// application/grpc+proto, …).
func isGRPC(ct string) bool {
	ct = strings.ToLower(ct)
	return ct == "application/grpc" || strings.HasPrefix(ct, "application/grpc+") || strings.HasPrefix(ct, "application/grpc;")
}
