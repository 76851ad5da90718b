package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

// statusEvery is how often a status line is printed when not on a terminal.
const statusEvery = 5 * time.Second

// statusLine is the running count of a long command (record, capture,
// import, index): on a terminal redrawn in place at most once a second,
// else a timestamped line at most every statusEvery, and only when it says
// something new, so that logs stay short. Quiet shows nothing.
type statusLine struct {
	w     io.Writer
	tty   bool
	quiet bool
	now   func() time.Time // tests: a fake clock; nil: time.Now

	mu       sync.Mutex // the writer is shared with stop messages
	drawn    bool
	last     time.Time
	lastLine string
}

func newStatusLine(w io.Writer, quiet bool) *statusLine {
	return &statusLine{w: w, tty: isTerminal(w), quiet: quiet}
}

// show shows line if it is time to.
func (s *statusLine) show(line string) {
	if s.quiet {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.now != nil {
		now = s.now()
	}
	every := statusEvery
	if s.tty {
		every = time.Second
	}
	if !s.last.IsZero() && now.Sub(s.last) < every-time.Millisecond || !s.tty && line == s.lastLine {
		return
	}
	s.last, s.lastLine = now, line
	if s.tty {
		fmt.Fprintf(s.w, "\r\x1b[K%s", line)
		s.drawn = true
	} else {
		fmt.Fprintf(s.w, "%s %s\n", now.Format("15:04:05"), line)
	}
}

// watch shows line() every second until ctx ends.
func (s *statusLine) watch(ctx context.Context, line func() string) {
	if s.quiet {
		<-ctx.Done()
		return
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		s.show(line())
	}
}

// clear removes a status line drawn in place.
func (s *statusLine) clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.drawn {
		fmt.Fprint(s.w, "\r\x1b[K")
		s.drawn = false
	}
}

// println prints a line of its own, below a status line drawn in place.
func (s *statusLine) println(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.drawn {
		fmt.Fprint(s.w, "\r\x1b[K")
		s.drawn = false
	}
	fmt.Fprintln(s.w, line)
}
