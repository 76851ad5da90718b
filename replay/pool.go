package replay

import (
	"context"
	"sync"
)

// connPool shares at most max keep-alive connections to one target among all
// users, for runs with more users than the process may open connections
// (Config.MaxConns). Cookies and correlated values stay per user; only the
// TCP connections are shared, the way a load balancer in front of many
// browsers would see them.
type connPool struct {
	target *Target
	idle   chan *conn
	slots  chan struct{} // one token per open connection

	mu  sync.Mutex // guards every pooled conn's net.Conn for abort
	all []*conn
}

func newConnPool(t *Target, max int) *connPool {
	return &connPool{target: t, idle: make(chan *conn, max), slots: make(chan struct{}, max)}
}

// get returns an idle connection, opens a new one while under the cap, or
// waits for one to be returned. It fails when stop or ctx ends first.
func (p *connPool) get(ctx context.Context, stop <-chan struct{}) (*conn, bool) {
	select {
	case c := <-p.idle:
		return c, true
	default:
	}
	select {
	case c := <-p.idle:
		return c, true
	case p.slots <- struct{}{}:
		c := &conn{target: p.target, guard: &p.mu}
		p.mu.Lock()
		p.all = append(p.all, c)
		p.mu.Unlock()
		return c, true
	case <-stop:
	case <-ctx.Done():
	}
	return nil, false
}

// put returns a connection after use; a closed one gives its slot back.
func (p *connPool) put(c *conn) {
	if c.nc == nil {
		p.mu.Lock()
		for i, x := range p.all {
			if x == c {
				p.all = append(p.all[:i], p.all[i+1:]...)
				break
			}
		}
		p.mu.Unlock()
		<-p.slots
		return
	}
	p.idle <- c
}

// abort makes every blocked read or write on the pool's connections fail.
func (p *connPool) abort() {
	p.mu.Lock()
	defer p.mu.Unlock()
	abortConns(p.all)
}

// closeAll closes the idle connections at the end of a run.
func (p *connPool) closeAll() {
	for {
		select {
		case c := <-p.idle:
			c.close()
		default:
			return
		}
	}
}
