package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"sync"
)

// dialUpstream connects to a plain-HTTP upstream, sniffing response heads.
func (r *Recorder) dialUpstream(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := r.dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &wireConn{Conn: c}, nil
}

// errLoop reports a request that would reach the recorder itself.
var errLoop = errors.New("the upstream is this recorder itself (a request loop)")

// dial connects to an upstream, refusing the recorder's own address.
func (r *Recorder) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := r.dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if r.isSelf(c.RemoteAddr()) {
		_ = c.Close()
		return nil, errLoop
	}
	return c, nil
}

// isSelf reports whether a connection to remote reaches the recorder's own
// listener.
func (r *Recorder) isSelf(remote net.Addr) bool {
	own, _ := r.addr.Load().(string)
	lp, err := netip.ParseAddrPort(own)
	if err != nil {
		return false
	}
	rp, err := netip.ParseAddrPort(remote.String())
	if err != nil || rp.Port() != lp.Port() {
		return false
	}
	la, ra := lp.Addr().Unmap(), rp.Addr().Unmap()
	return la == ra || (la.IsUnspecified() && (ra.IsLoopback() || isLocalAddr(ra)))
}

// isLocalAddr reports whether a is an address of one of this machine's
// interfaces.
func isLocalAddr(a netip.Addr) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, ia := range addrs {
		if p, err := netip.ParsePrefix(ia.String()); err == nil && p.Addr().Unmap() == a {
			return true
		}
	}
	return false
}

// dialUpstreamTLS connects to an HTTPS upstream and sniffs the decrypted
// response heads.
func (r *Recorder) dialUpstreamTLS(ctx context.Context, network, addr string, conf *tls.Config) (net.Conn, error) {
	raw, err := r.dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	conf = conf.Clone()
	if conf.ServerName == "" {
		conf.ServerName = host
	}
	conf.NextProtos = []string{"http/1.1"}
	tc := tls.Client(raw, conf)
	hctx, cancel := context.WithTimeout(ctx, DialTimeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		_ = raw.Close()
		return nil, err
	}
	return &wireConn{Conn: tc}, nil
}

// listener refuses clients outside AllowRemote and keeps track of accepted
// connections, so that stopping can close hijacked (CONNECT) ones too.
type listener struct {
	net.Listener
	r     *Recorder
	mu    sync.Mutex
	conns map[*clientConn]struct{}
	done  bool
}

// Accept returns the next allowed client connection.
func (l *listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if !l.r.allowed(c.RemoteAddr()) {
			l.r.refused.Add(1)
			l.r.log.Warn("refused a client outside --allow-remote", "client", c.RemoteAddr().String())
			_ = c.Close()
			continue
		}
		cc := &clientConn{wireConn: wireConn{Conn: c}, l: l}
		l.mu.Lock()
		if l.done {
			l.mu.Unlock()
			_ = c.Close()
			return nil, net.ErrClosed
		}
		l.conns[cc] = struct{}{}
		l.mu.Unlock()
		return cc, nil
	}
}

// closeAll closes every connection still open.
func (l *listener) closeAll() {
	l.mu.Lock()
	l.done = true
	conns := l.conns
	l.conns = map[*clientConn]struct{}{}
	l.mu.Unlock()
	for c := range conns {
		_ = c.Conn.Close()
	}
}

// clientConn is an accepted client connection.
type clientConn struct {
	wireConn
	l    *listener
	once sync.Once
}

// Close closes the connection and forgets it.
func (c *clientConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}

// CloseWrite half-closes a TCP connection, so that goproxy's tunnels can pass
// on a client's or server's end of stream.
func (c *clientConn) CloseWrite() error {
	if hc, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return hc.CloseWrite()
	}
	return c.Close()
}

// CloseRead half-closes the reading side of a TCP connection.
func (c *clientConn) CloseRead() error {
	if hc, ok := c.Conn.(interface{ CloseRead() error }); ok {
		return hc.CloseRead()
	}
	return nil
}
