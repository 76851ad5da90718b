package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/elazarl/goproxy"
)

// Recorder is the recording proxy: a forward proxy for HTTP and HTTPS (MITM)
// or, with Config.Target, a reverse proxy, that writes every exchange it
// passes to a capture.Sink as soon as the exchange completes.
type Recorder struct {
	cfg    Config
	out    capture.Sink          // where Serve writes
	group  *capture.GroupingSink // assigns sessions, then redacts and writes to out
	filter *filter
	log    *slog.Logger
	ca     *CA
	target *url.URL
	allow  []netip.Prefix
	redact []string

	gp      *goproxy.ProxyHttpServer
	tr      *http.Transport
	tr2     *http.Transport // requests that came over HTTP/2, to https upstreams (h2.go)
	tr2c    *http.Transport // gRPC calls that came over HTTP/2, to http upstreams (h2c)
	dialer  *net.Dialer
	handler http.Handler
	addr    atomic.Value // string: the listener's address, once serving

	requests, bytes, failed, skipped, inflight, lost, refused atomic.Int64

	wmu     sync.Mutex // serialises writes with stopping
	stopped bool

	wsMu   sync.Mutex // guards wsOpen
	wsOpen map[*wsTap]struct{}

	failOnce sync.Once
	failc    chan struct{} // closed when writing fails
	nowOnce  sync.Once
	nowc     chan struct{} // closed by StopNow
	failErr  error
}

// Option configures optional collaborators of a Recorder.
type Option func(*Recorder)

// WithLogger makes the Recorder log refused clients and goproxy's warnings to l
// (goproxy's at debug level). The default discards them.
func WithLogger(l *slog.Logger) Option {
	return func(r *Recorder) { r.log = l }
}

// WithCA makes the Recorder intercept HTTPS with ca instead of loading the
// CA named by the Config.
func WithCA(ca *CA) Option {
	return func(r *Recorder) { r.ca = ca }
}

// Stats are a Recorder's counters.
type Stats struct {
	// Requests is the number of exchanges written to the recording.
	Requests int64
	// Sessions is the number of sessions those exchanges form.
	Sessions int
	// Bytes is what the recorded exchanges moved (headers and full bodies).
	Bytes int64
	// Errors counts recorded exchanges that failed upstream (FlagFailed).
	Errors int64
	// Skipped counts exchanges passed through but left out by the filters.
	Skipped int64
	// InFlight is the number of exchanges under way.
	InFlight int64
	// Lost counts exchanges that completed after recording stopped, or could
	// not be written.
	Lost int64
	// Refused counts client connections refused by AllowRemote.
	Refused int64
}

// New returns a Recorder. It validates cfg, reads Config.UpstreamCA and, for a
// forward proxy that intercepts HTTPS, loads the CA or creates it (see
// LoadOrCreateCA) unless WithCA gave one.
func New(cfg Config, opts ...Option) (*Recorder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Recorder{
		cfg:    cfg,
		filter: newFilter(cfg),
		log:    slog.New(slog.DiscardHandler),
		redact: cfg.RedactHeaders,
		failc:  make(chan struct{}),
		nowc:   make(chan struct{}),
	}
	r.group = capture.NewGroupingSink(capture.GroupConfig{SessionCookie: cfg.SessionCookie, Idle: cfg.SessionIdle},
		capture.SinkFunc(r.redactAndWrite))
	for _, o := range opts {
		o(r)
	}
	r.allow, _ = parsePrefixes(cfg.AllowRemote)
	if cfg.Target != "" {
		r.ca = nil
		r.target, _ = parseTarget(cfg.Target)
	} else if cfg.NoMITM {
		r.ca = nil
	} else if r.ca == nil {
		ca, err := loadCA(cfg.CACert, cfg.CAKey)
		if err != nil {
			return nil, err
		}
		r.ca = ca
	}
	tlsConf := &tls.Config{InsecureSkipVerify: cfg.InsecureUpstream} //nolint:gosec // an explicit user choice
	if cfg.UpstreamCA != "" {
		pem, err := os.ReadFile(cfg.UpstreamCA)
		if err != nil {
			return nil, fmt.Errorf("--upstream-ca: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--upstream-ca %s: no PEM certificates in it", cfg.UpstreamCA)
		}
		tlsConf.RootCAs = pool
	}
	r.dialer = &net.Dialer{Timeout: DialTimeout, KeepAlive: 30 * time.Second}
	r.tr = &http.Transport{
		Proxy:       nil, // never chain through HTTP(S)_PROXY from the environment
		DialContext: r.dialUpstream,
		DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return r.dialUpstreamTLS(ctx, network, addr, tlsConf)
		},
		TLSClientConfig:       tlsConf,
		TLSHandshakeTimeout:   DialTimeout,
		ResponseHeaderTimeout: cfg.UpstreamTimeout,
		// The client's body is already on its way (the proxy's server sent it
		// 100 Continue when the body was first read): send it upstream at
		// once rather than wait for the upstream's own 100 Continue. That
		// wait is timing-dependent in net/http (golang/go#67555) and once,
		// under load, cut an echoed 100 kB body short.
		ExpectContinueTimeout: 0,
		MaxIdleConnsPerHost:   1024,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true, // keep Accept-Encoding and Content-Encoding as they were
	}

	r.h2Transports(tlsConf)

	gp := goproxy.NewProxyHttpServer()
	gp.Tr = r.tr
	gp.Logger = goproxyLogger{r}
	gp.KeepAcceptEncoding = true
	gp.CertStore = &certStore{}
	// CONNECT tunnels dial directly (not through the environment's HTTPS_PROXY)
	// and are not sniffed.
	gp.ConnectDial = func(network, addr string) (net.Conn, error) { return r.dial(context.Background(), network, addr) }
	gp.OnRequest().HandleConnectFunc(r.onConnect)
	gp.OnRequest().DoFunc(r.onRequest)
	gp.NonproxyHandler = http.HandlerFunc(r.serveOrigin)
	r.gp = gp
	r.handler = http.HandlerFunc(r.serveProxy)
	if r.target != nil {
		r.handler = http.HandlerFunc(r.serveReverse)
	}
	return r, nil
}

// CA returns the CA used for HTTPS interception, or nil when there is none
// (reverse mode, NoMITM).
func (r *Recorder) CA() *CA { return r.ca }

// Stats returns the current counters.
func (r *Recorder) Stats() Stats {
	return Stats{
		Requests: r.requests.Load(),
		Sessions: r.group.Sessions(),
		Bytes:    r.bytes.Load(),
		Errors:   r.failed.Load(),
		Skipped:  r.skipped.Load(),
		InFlight: r.inflight.Load(),
		Lost:     r.lost.Load(),
		Refused:  r.refused.Load(),
	}
}

// connKey is the context key under which a request's client connection is
// stored.
type connKey struct{}

// sniffer is a client connection whose message heads can be recovered.
type sniffer interface {
	requestHead(*http.Request) (capture.Headers, bool)
	stop()
}

// clientHostKey is the context key of the Host a reverse-mode client sent.
type clientHostKey struct{}

// Serve proxies connections accepted on ln and records their exchanges to
// sink (with their session keys, redacted), flushing it after each one
// (capture.Flush), until ctx ends or writing fails. It then stops accepting, waits up to
// Config.StopTimeout for in-flight exchanges, closes the remaining
// connections and stops writing; exchanges that complete later are counted in
// Stats.Lost. It returns nil after ctx ends, or the error that stopped it. The
// caller closes sink afterwards. A Recorder serves once.
func (r *Recorder) Serve(ctx context.Context, ln net.Listener, sink capture.Sink) error {
	r.out = sink
	l := &listener{Listener: ln, r: r, conns: make(map[*clientConn]struct{})}
	r.addr.Store(ln.Addr().String())
	srv := &http.Server{
		Handler:           r.handler,
		ConnContext:       func(ctx context.Context, c net.Conn) context.Context { return context.WithValue(ctx, connKey{}, c) },
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       5 * time.Minute,
		ErrorLog:          slog.NewLogLogger(r.log.Handler(), slog.LevelDebug),
	}
	if r.target != nil {
		srv.Protocols = serverProtocols() // h2c clients too, gRPC's among them
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()

	var err error
	select {
	case <-ctx.Done():
	case <-r.failc:
		err = r.failErr
	case err = <-errc:
	}

	drain, cancel := context.WithTimeout(context.Background(), r.cfg.StopTimeout)
	defer cancel()
	go func() {
		select {
		case <-r.nowc:
			cancel()
		case <-drain.Done():
		}
	}()
	_ = srv.Shutdown(drain) // stops accepting; waits for requests on plain connections
	r.waitIdle(drain)       // and for exchanges on hijacked (CONNECT) connections
	// WebSocket conversations still open are recorded as far as they went.
	r.finishWS(drain)
	// Stop writing before cutting the connections: exchanges that end
	// because of the cut are lost, not recorded half-way.
	r.wmu.Lock()
	r.stopped = true
	r.wmu.Unlock()
	l.closeAll()
	_ = srv.Close()
	if err != nil && errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// StopNow makes a stopping Serve stop waiting for in-flight exchanges (a
// second Ctrl-C); they are cut and counted in Stats.Lost.
func (r *Recorder) StopNow() {
	r.nowOnce.Do(func() { close(r.nowc) })
}

// waitIdle waits until no exchange is in flight or ctx ends.
func (r *Recorder) waitIdle(ctx context.Context) {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for r.inflight.Load() > 0 {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// fail stops the recorder because the recording cannot be written.
func (r *Recorder) fail(err error) {
	r.failOnce.Do(func() {
		r.failErr = err
		close(r.failc)
	})
}

// allowed reports whether a client may connect: loopback always, others when
// they are inside AllowRemote.
func (r *Recorder) allowed(addr net.Addr) bool {
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return false
	}
	a := ap.Addr().Unmap()
	if a.IsLoopback() {
		return true
	}
	for _, p := range r.allow {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// serveReverse forwards every request to the target.
func (r *Recorder) serveReverse(w http.ResponseWriter, req *http.Request) {
	if req.Method == http.MethodConnect {
		http.Error(w, "amp record: this is a reverse proxy for "+r.cfg.Target+"; CONNECT is not supported", http.StatusMethodNotAllowed)
		return
	}
	t := r.target
	req.URL.Scheme = t.Scheme
	req.URL.Host = t.Host
	if base := strings.TrimSuffix(t.Path, "/"); base != "" {
		if req.URL.RawPath != "" {
			req.URL.RawPath = strings.TrimSuffix(t.EscapedPath(), "/") + req.URL.EscapedPath()
		}
		req.URL.Path = base + req.URL.Path
	}
	req = req.WithContext(context.WithValue(req.Context(), clientHostKey{}, req.Host))
	for _, name := range [...]string{"Origin", "Referer"} {
		if v := req.Header.Get(name); v != "" {
			req.Header.Set(name, r.upstreamOrigin(req.Host, v))
		}
	}
	req.Host = t.Host
	r.serveProxy(w, req)
}

// serveProxy hands a client's request to goproxy in full-duplex mode. The
// upstream transport reads the request body in a goroutine of its own, which
// can still be checking that the body has ended (a read after its
// Content-Length bytes) when the upstream's answer is already being passed on.
// By default net/http's server consumes and closes the request body as the
// handler writes the response head; that read then fails, the transport
// closes the upstream connection as a write error, and the response is cut
// for the client and in the recording. In full-duplex mode the body is left
// to the transport until the handler returns, which is after the response.
func (r *Recorder) serveProxy(w http.ResponseWriter, req *http.Request) {
	_ = http.NewResponseController(w).EnableFullDuplex() // HTTP/1 servers support it
	r.gp.ServeHTTP(w, req)
}

// serveOrigin answers requests made to the forward proxy itself rather than
// through it: the CA certificate at /ca.pem, else a hint on how to use it.
func (r *Recorder) serveOrigin(w http.ResponseWriter, req *http.Request) {
	if r.ca != nil && req.URL.Path == "/ca.pem" {
		w.Header().Set("Content-Type", "application/x-pem-file")
		w.Header().Set("Content-Disposition", `attachment; filename="amp-ca.pem"`)
		_, _ = w.Write(r.ca.CertPEM)
		return
	}
	addr, _ := r.addr.Load().(string)
	msg := "amp record is a forward proxy: set http://" + addr + " as the HTTP and HTTPS proxy of your client"
	if r.ca != nil {
		msg += " and trust its CA (http://" + addr + "/ca.pem, or run 'amp ca')"
	}
	msg += ".\nFor clients without proxy settings, run amp record --target URL (a reverse proxy).\n"
	http.Error(w, msg, http.StatusBadRequest)
}

// onConnect decides what happens to a CONNECT: decrypted and recorded (MITM),
// or tunnelled unrecorded with --no-mitm and for hosts the filters leave out.
func (r *Recorder) onConnect(host string, ctx *goproxy.ProxyCtx) (*goproxy.ConnectAction, string) {
	if c, ok := ctx.Req.Context().Value(connKey{}).(sniffer); ok {
		c.stop() // the connection carries a tunnel from now on
	}
	if r.ca == nil || r.filter.skipHost(host) {
		return &goproxy.ConnectAction{Action: goproxy.ConnectAccept}, host
	}
	return &goproxy.ConnectAction{Action: goproxy.ConnectHijack, Hijack: r.mitm}, host
}

// exchange is the state of one recorded exchange between its request and the
// end of its response.
type exchange struct {
	start     time.Time
	firstByte atomic.Int64 // Unix ns; set by the transport's read loop, which may outlive a failed RoundTrip
	end       time.Time
	client    string
	method    string
	url       string
	proto     string
	reqHeader capture.Headers
	reqBody   *bodyTap
	reqLen    int64 // Content-Length, -1 unknown

	status      int
	respProto   string
	respHeader  capture.Headers
	respBody    *bodyTap
	respTrailer capture.Headers

	ws []capture.WSMessage // a WebSocket conversation's messages

	flags capture.Flags
	err   string
	ctx   context.Context // the client request's: done when the client went away
}

// onRequest starts the exchange of a request about to be sent upstream:
// it notes the request as the client sent it and taps its body.
func (r *Recorder) onRequest(req *http.Request, ctx *goproxy.ProxyCtx) (*http.Request, *http.Response) {
	ctx.RoundTripper = upstream{r}
	ctx.UserData = nil
	fields := r.requestFields(req) // consumes the head from the connection's window
	if r.filter.skipRequest(req.URL.Host, req.URL.Path) {
		r.skipped.Add(1)
		return req, nil
	}
	x := &exchange{
		start:  time.Now(),
		client: req.RemoteAddr,
		method: req.Method,
		url:    req.URL.String(),
		proto:  req.Proto,
		reqLen: req.ContentLength,
		ctx:    req.Context(),
	}
	if r.target == nil && strings.HasPrefix(req.RequestURI, req.URL.Scheme+"://") {
		x.url = req.RequestURI // absolute form: exactly as the client sent it
	}
	x.reqHeader = fields
	if req.Body != nil && req.Body != http.NoBody {
		x.reqBody = newBodyTap(req.Body, r.cfg.MaxBody, req.ContentLength)
		req.Body = x.reqBody
	}
	ctx.UserData = x
	return req, nil
}

// requestFields returns the request's header fields as the client sent them
// (wire order and case where the client connection was sniffed), without the
// fields meant for the proxy itself; in reverse mode Host names the target.
func (r *Recorder) requestFields(req *http.Request) capture.Headers {
	var h capture.Headers
	ok := false
	if c, _ := req.Context().Value(connKey{}).(sniffer); c != nil {
		h, ok = c.requestHead(req)
	}
	if !ok {
		h = mapFields(req.Host, req.Header, req.ContentLength, req.TransferEncoding)
	}
	out := h[:0]
	for _, f := range h {
		switch {
		case strings.EqualFold(f.Name, "Proxy-Connection"), strings.EqualFold(f.Name, "Proxy-Authorization"):
			continue
		case r.target != nil && strings.EqualFold(f.Name, "Host"):
			f.Value = r.target.Host
		case r.target != nil && (strings.EqualFold(f.Name, "Origin") || strings.EqualFold(f.Name, "Referer")):
			if h, ok := req.Context().Value(clientHostKey{}).(string); ok {
				f.Value = r.upstreamOrigin(h, f.Value)
			}
		}
		out = append(out, f)
	}
	return out
}

// upstream is the goproxy.RoundTripper of every request: it sends the request,
// answers upstream failures with 502, and records.
type upstream struct{ r *Recorder }

// RoundTrip sends req upstream and returns the response with its body tapped.
// It never returns an error: failures become a 502 response with the reason.
func (u upstream) RoundTrip(req *http.Request, ctx *goproxy.ProxyCtx) (*http.Response, error) {
	r := u.r
	x, _ := ctx.UserData.(*exchange) // nil when the filters skip the request
	if x != nil {
		r.inflight.Add(1)
	}
	// Unrecorded exchanges are traced too: their response heads must be
	// consumed from the connection's window like any other.
	var conn *wireConn
	trace := &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) { conn, _ = info.Conn.(*wireConn) },
		GotFirstResponseByte: func() {
			if x != nil {
				x.firstByte.Store(time.Now().UnixNano())
			}
		},
	}
	resp, err := r.transport(req).RoundTrip(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
	if err != nil {
		reason := describeError(req, err)
		resp = badGateway(req, reason)
		if x == nil {
			return resp, nil
		}
		x.status, x.respProto = resp.StatusCode, resp.Proto
		x.respHeader = mapFields("", resp.Header, resp.ContentLength, nil)
		x.flags |= capture.FlagNoResponse
		if req.Context().Err() != nil {
			x.flags |= capture.FlagIncomplete
			x.err = "client went away before the response"
		} else {
			x.flags |= capture.FlagFailed
			x.err = reason
		}
		x.end = time.Now()
		r.finish(x)
		return resp, nil
	}

	var fields capture.Headers
	ok := false
	if conn != nil {
		fields, ok = conn.responseHead(resp)
	}
	if x == nil {
		r.rewriteLocation(resp, ctx)
		return resp, nil
	}
	if !ok {
		fields = mapFields("", resp.Header, resp.ContentLength, resp.TransferEncoding)
	}
	x.status, x.respProto, x.respHeader = resp.StatusCode, resp.Proto, fields
	r.rewriteLocation(resp, ctx)
	if r.filter.skipResponse(resp.Header.Get("Content-Type")) {
		r.skipped.Add(1)
		r.inflight.Add(-1)
		return resp, nil
	}
	if resp.StatusCode == http.StatusSwitchingProtocols || resp.Body == nil || resp.Body == http.NoBody {
		if resp.StatusCode == http.StatusSwitchingProtocols {
			if conn != nil {
				conn.stop()
			}
			client, _ := ctx.Req.Context().Value(connKey{}).(net.Conn)
			if c, _ := client.(sniffer); c != nil {
				c.stop()
			}
			if rwc, ok := resp.Body.(io.ReadWriteCloser); ok && isWebSocket(resp.Header) {
				// Recorded when the conversation ends: not in flight meanwhile,
				// so that stopping does not wait for it.
				r.inflight.Add(-1)
				t := r.newWSTap(rwc, x, client)
				r.trackWS(t)
				resp.Body = t
				return resp, nil
			}
		}
		x.end = time.Now()
		r.finish(x)
		return resp, nil
	}
	x.respBody = newBodyTap(resp.Body, r.cfg.MaxBody, resp.ContentLength)
	x.respBody.onClose = func() {
		x.end = time.Now()
		if len(resp.Trailer) > 0 { // known once the body has ended
			x.respTrailer = capture.HeadersFromMap(resp.Trailer)
		}
		r.finish(x)
	}
	resp.Body = x.respBody
	return resp, nil
}

// upstreamOrigin points an Origin or Referer value that names the recorder
// itself (clientHost, as the reverse-mode client addressed it) at the target,
// as a browser talking to the target directly would have sent it: apps that
// check Origin against their own host (Django, Rails) then accept the
// request, and the recording holds the value a replay against the target
// needs. Other values are returned as they are.
func (r *Recorder) upstreamOrigin(clientHost, v string) string {
	for _, scheme := range [...]string{"http://", "https://"} {
		self := scheme + clientHost
		if len(v) >= len(self) && strings.EqualFold(v[:len(self)], self) && (len(v) == len(self) || v[len(self)] == '/') {
			return r.target.Scheme + "://" + r.target.Host + v[len(self):]
		}
	}
	return v
}

// rewriteLocation points redirects to the target back at the proxy in reverse
// mode, so that clients stay on the recorder (nginx's proxy_redirect default).
// The recording keeps the upstream's own value.
func (r *Recorder) rewriteLocation(resp *http.Response, ctx *goproxy.ProxyCtx) {
	if r.target == nil {
		return
	}
	loc := resp.Header.Get("Location")
	origin := r.target.Scheme + "://" + r.target.Host
	if loc == "" || !strings.HasPrefix(loc, origin) || (len(loc) > len(origin) && loc[len(origin)] != '/') {
		return
	}
	// The host the client asked for, so that its cookies keep applying.
	addr, _ := r.addr.Load().(string)
	if ctx != nil && ctx.Req != nil {
		if h, ok := ctx.Req.Context().Value(clientHostKey{}).(string); ok && h != "" {
			addr = h
		}
	}
	resp.Header.Set("Location", "http://"+addr+loc[len(origin):])
}

// finish writes the exchange to the recording, unless recording has stopped.
func (r *Recorder) finish(x *exchange) {
	defer r.inflight.Add(-1)
	e := x.record()
	r.wmu.Lock()
	if r.stopped {
		r.wmu.Unlock()
		r.lost.Add(1)
		return
	}
	err := r.group.Write(e)
	if err == nil {
		err = capture.Flush(r.out)
	}
	r.wmu.Unlock()
	if err != nil {
		r.lost.Add(1)
		r.fail(fmt.Errorf("writing the recording: %w", err))
		return
	}
	r.requests.Add(1)
	r.bytes.Add(e.Bytes())
	if e.Flags&capture.FlagFailed != 0 {
		r.failed.Add(1)
	}
}

// redactAndWrite writes e to the Serve's sink with the redacted header fields
// replaced: after grouping, which may need the cookies.
func (r *Recorder) redactAndWrite(e *capture.Exchange) error {
	r.redactFields(e)
	return r.out.Write(e)
}

// redactFields replaces the values of the redacted header fields.
func (r *Recorder) redactFields(e *capture.Exchange) {
	for _, name := range r.redact {
		for _, h := range []capture.Headers{e.Request.Header, e.Response.Header} {
			for i := range h {
				if strings.EqualFold(h[i].Name, name) {
					h[i].Value = Redacted
				}
			}
		}
	}
}

// record builds the capture.Exchange of a finished exchange.
func (x *exchange) record() *capture.Exchange {
	e := &capture.Exchange{
		Client:   x.client,
		Start:    x.start,
		Duration: x.end.Sub(x.start),
		Flags:    x.flags,
		Error:    x.err,
		Request: capture.Request{
			Method: x.method,
			URL:    x.url,
			Proto:  x.proto,
			Header: x.reqHeader,
		},
		Response: capture.Response{
			Status:  x.status,
			Proto:   x.respProto,
			Header:  x.respHeader,
			Trailer: x.respTrailer,
		},
		WS: x.ws,
	}
	if fb := x.firstByte.Load(); fb != 0 {
		e.TTFB = time.Unix(0, fb).Sub(x.start)
	} else if x.flags&capture.FlagNoResponse == 0 {
		e.TTFB = e.Duration
	}
	if x.reqBody != nil {
		s := x.reqBody.state()
		e.Request.Body, e.Request.BodySize = s.body, s.n
		if s.n > int64(len(s.body)) {
			e.Flags |= capture.FlagRequestTruncated
		}
		if !s.eof && (x.reqLen < 0 || s.n < x.reqLen) {
			// The upstream answered before reading the whole request body.
			e.Flags |= capture.FlagIncomplete
			e.Request.BodySize = x.reqLen
		}
	}
	if x.respBody != nil {
		s := x.respBody.state()
		e.Response.Body, e.Response.BodySize = s.body, s.n
		if s.n > int64(len(s.body)) {
			e.Flags |= capture.FlagResponseTruncated
			if s.eof {
				e.Response.BodyHash = s.hash
			}
		}
		switch {
		case s.err != nil && x.ctx.Err() != nil:
			e.Flags |= capture.FlagIncomplete
			e.Error = "client went away after " + strconv.FormatInt(s.n, 10) + " bytes of the response body"
		case s.err != nil:
			e.Flags |= capture.FlagIncomplete | capture.FlagFailed
			e.Error = "upstream: reading the response body: " + s.err.Error()
		case !s.eof:
			e.Flags |= capture.FlagIncomplete
			e.Error = "client went away after " + strconv.FormatInt(s.n, 10) + " bytes of the response body"
		}
	}
	return e
}

// describeError says why an upstream round trip failed, in a few words.
func describeError(req *http.Request, err error) string {
	var ne net.Error
	var ce *tls.CertificateVerificationError
	var re tls.RecordHeaderError
	switch {
	case errors.As(err, &ce):
		return "TLS certificate of " + req.URL.Host + " not trusted: " + ce.Err.Error() + " (see --upstream-ca, --insecure-upstream)"
	case errors.As(err, &re):
		return "TLS handshake with " + req.URL.Host + " failed: the server does not speak TLS"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout: " + err.Error()
	}
	return err.Error()
}

// badGateway is the response a client gets when the upstream failed.
func badGateway(req *http.Request, reason string) *http.Response {
	body := "amp record: " + req.Method + " " + req.URL.String() + " failed upstream: " + reason + "\n"
	h := http.Header{}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Amp-Error", reason)
	return &http.Response{
		Status:        "502 Bad Gateway",
		StatusCode:    http.StatusBadGateway,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

// goproxyLogger sends goproxy's log lines to the Recorder's logger.
type goproxyLogger struct{ r *Recorder }

// Printf logs one goproxy line at debug level.
func (g goproxyLogger) Printf(format string, v ...any) {
	g.r.log.Debug(strings.TrimSpace(fmt.Sprintf(format, v...)), "from", "goproxy")
}
