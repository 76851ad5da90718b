package testenv

import (
	"strings"
	"sync"

	"github.com/chromedp/cdproto/network"
	cdpruntime "github.com/chromedp/cdproto/runtime"
)

// PageProblems collects what a page under test did wrong: console errors
// and warnings and uncaught exceptions and, with FileOnly, any request that
// is not for a file:// URL (a self-contained page must need no network) and
// failed loads. Pass Listen to chromedp.WithListener.
type PageProblems struct {
	// FileOnly reports network requests other than file:// ones.
	FileOnly bool

	mu   sync.Mutex
	list []string
}

// Listen records the problem an event reports, if any.
func (p *PageProblems) Listen(ev any) {
	var problem string
	switch e := ev.(type) {
	case *cdpruntime.EventConsoleAPICalled:
		if e.Type == cdpruntime.ConsoleAPICalledTypeError || e.Type == cdpruntime.ConsoleAPICalledTypeWarning {
			problem = "console " + string(e.Type)
		}
	case *cdpruntime.EventExceptionThrown:
		problem = "exception: " + e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil {
			problem += " " + e.ExceptionDetails.Exception.Description
		}
	case *network.EventRequestWillBeSent:
		if p.FileOnly && !strings.HasPrefix(e.Request.URL, "file://") {
			problem = "network request to " + e.Request.URL
		}
	case *network.EventLoadingFailed:
		if p.FileOnly {
			problem = "loading failed: " + e.ErrorText
		}
	}
	if problem != "" {
		p.mu.Lock()
		p.list = append(p.list, problem)
		p.mu.Unlock()
	}
}

// List returns the problems recorded so far.
func (p *PageProblems) List() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.list...)
}
