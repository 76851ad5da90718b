package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/elazarl/goproxy"
)

// mitm decrypts the tunnel of an accepted CONNECT and serves the requests in
// it with net/http, handing each to goproxy as an absolute https:// request,
// so that they take the same path as plain HTTP: same recording, same timings,
// and header fields recovered in wire order and case from the decrypted
// stream (goproxy's own MITM loop parses into maps). A tunnel that carries
// plain HTTP instead of TLS is served the same way as http://.
func (r *Recorder) mitm(connect *http.Request, raw net.Conn, ctx *goproxy.ProxyCtx) {
	host := connect.URL.Host
	if _, err := io.WriteString(raw, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		_ = raw.Close()
		return
	}
	br := bufio.NewReader(raw)
	_ = raw.SetReadDeadline(time.Now().Add(30 * time.Second))
	first, err := br.Peek(1)
	_ = raw.SetReadDeadline(time.Time{})
	if err != nil {
		_ = raw.Close()
		return
	}
	scheme := "http"
	var conn net.Conn = &bufferedConn{Conn: raw, r: br}
	if first[0] == 0x16 { // a TLS handshake record
		conf, err := goproxy.TLSConfigFromCA(&r.ca.Cert)(host, ctx)
		if err != nil {
			r.log.Warn("cannot sign a certificate", "host", host, "err", err)
			_ = raw.Close()
			return
		}
		conf.NextProtos = []string{"h2", "http/1.1"} // the server below detects h2's preface
		tc := tls.Server(conn, conf)
		hctx, cancel := context.WithTimeout(context.Background(), DialTimeout)
		err = tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			r.log.Debug("TLS handshake with a client failed (does it trust the CA?)", "host", host, "err", err)
			_ = raw.Close()
			return
		}
		conn, scheme = tc, "https"
	}
	inner := &tunnelConn{clientConn: clientConn{wireConn: wireConn{Conn: conn}}, done: make(chan struct{})}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if req.Method == http.MethodConnect {
				http.Error(w, "amp record: CONNECT inside a tunnel is not supported", http.StatusMethodNotAllowed)
				return
			}
			req.URL.Scheme = scheme
			if req.URL.Host == "" {
				req.URL.Host = req.Host
			}
			if req.URL.Host == "" {
				req.URL.Host = host
			}
			r.serveProxy(w, req)
		}),
		ConnContext:       func(ctx context.Context, c net.Conn) context.Context { return context.WithValue(ctx, connKey{}, c) },
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       5 * time.Minute,
		ErrorLog:          slog.NewLogLogger(r.log.Handler(), slog.LevelDebug),
		Protocols:         serverProtocols(),
	}
	_ = srv.Serve(&oneConnListener{c: inner})
}

// bufferedConn reads through a bufio.Reader that has already peeked at the
// connection.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

// Read reads the peeked bytes first.
func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// tunnelConn is the decrypted connection of a tunnel; closing it ends the
// http.Server that serves it.
type tunnelConn struct {
	clientConn
	done chan struct{}
	once sync.Once
}

// Close closes the connection.
func (c *tunnelConn) Close() error {
	c.once.Do(func() { close(c.done) })
	return c.Conn.Close()
}

// oneConnListener hands out one connection, then blocks until it is closed.
type oneConnListener struct {
	c    *tunnelConn
	used bool
}

// Accept returns the connection once, then waits for it to close.
func (l *oneConnListener) Accept() (net.Conn, error) {
	if !l.used {
		l.used = true
		return l.c, nil
	}
	<-l.c.done
	return nil, net.ErrClosed
}

// Close closes the connection.
func (l *oneConnListener) Close() error { return l.c.Close() }

// Addr is the connection's local address.
func (l *oneConnListener) Addr() net.Addr { return l.c.LocalAddr() }
