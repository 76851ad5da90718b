// Package edit changes recordings without losing data: Apply keeps the
// sessions and exchanges a Filter lets through, Merge puts several
// recordings into one, and Split writes one recording per session or per
// host. They read through capture.File (sessions on demand, so memory stays
// bounded by the largest session) and write every kept exchange with all its
// fields; only Merge may change a session key, when two inputs share one.
package edit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/internal/fielderr"
)

// Filter says which sessions and exchanges of a recording to keep. The
// session rules (Sessions, MaxSessions) keep or drop whole sessions; the
// exchange rules drop exchanges, and a session left without any is dropped.
// The zero Filter keeps everything.
type Filter struct {
	// Sessions picks whole sessions, each by its 1-based number in the
	// order amp sessions lists them, by its key, or by its name (the one the
	// index holds, or Name's) or a path.Match glob over names. Empty: every
	// session.
	Sessions []string
	// Name, when set, names a session for Sessions (replay.SessionName);
	// Apply then reads each session once more to name it.
	Name func(*capture.Session) string
	// Hosts keeps only exchanges to one of these hosts (case-insensitive;
	// "shop.example" matches any port, "shop.example:8080" only that one).
	Hosts []string
	// Methods keeps only exchanges with one of these methods
	// (case-insensitive).
	Methods []string
	// IncludePaths keeps only exchanges whose URL path matches one of these
	// path.Match patterns ("/api/*", "/static/*/*.js": "*" stays within one
	// segment). A pattern without '/' matches the path's last segment
	// ("*.js").
	IncludePaths []string
	// ExcludePaths drops exchanges whose URL path matches one of these
	// path.Match patterns.
	ExcludePaths []string
	// SkipStatic drops static assets: the test of amp record --skip-static
	// (capture.StaticPath on the path, capture.StaticType on the response's
	// Content-Type).
	SkipStatic bool
	// From and To keep only exchanges that start in [From, To); an unset
	// Bound is open.
	From, To Bound
	// MaxSessions keeps at most this many sessions, the first in order
	// among those the other rules leave; 0 means no limit.
	MaxSessions int
}

// Bound is one end of a time window: an absolute time, or an offset from the
// start of the recording (its first exchange). The zero Bound is unset.
type Bound struct {
	// At is the absolute time, when not zero.
	At time.Time
	// Offset is the time from the recording's start, used when At is zero
	// and Set is true.
	Offset time.Duration
	// Set says the bound was given.
	Set bool
}

// ParseBound reads a bound as an RFC 3339 time ("2026-12-01T10:00:00Z") or
// a non-negative offset from the recording's start ("5m", "90s").
func ParseBound(s string) (Bound, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return Bound{At: t, Set: true}, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return Bound{}, fmt.Errorf("want an RFC 3339 time (2026-12-01T10:00:00Z) or an offset from the recording's start (5m)")
	}
	return Bound{Offset: d, Set: true}, nil
}

// String gives the bound as ParseBound reads it, or "" when unset.
func (b Bound) String() string {
	switch {
	case !b.Set:
		return ""
	case !b.At.IsZero():
		return b.At.Format(time.RFC3339Nano)
	}
	return b.Offset.String()
}

// time resolves the bound against the recording's start.
func (b Bound) time(start time.Time) time.Time {
	if !b.At.IsZero() {
		return b.At
	}
	return start.Add(b.Offset)
}

// Validate checks the filter on its own: patterns, methods, hosts, the limit
// and a window whose ends are of one kind. Errors are *fielderr.Error naming
// Filter fields, joined.
func (f *Filter) Validate() error {
	var errs []error
	bad := func(field, value, problem string) {
		errs = append(errs, &fielderr.Error{Field: field, Value: strconv.Quote(value), Problem: problem})
	}
	for _, lists := range []struct {
		field    string
		patterns []string
	}{{"IncludePaths", f.IncludePaths}, {"ExcludePaths", f.ExcludePaths}} {
		for _, p := range lists.patterns {
			if _, err := path.Match(p, ""); err != nil || p == "" {
				bad(lists.field, p, "not a glob pattern (path.Match: '*' within a segment, '?', '[a-z]', '\\' to quote)")
			} else if !strings.HasPrefix(p, "/") && strings.Contains(p, "/") {
				bad(lists.field, p, "a URL path starts with '/' (/api/*; a pattern without '/' matches the last segment: *.js)")
			}
		}
	}
	for _, m := range f.Methods {
		if m == "" || strings.ContainsAny(m, " \t/:") {
			bad("Methods", m, "not an HTTP method (GET, POST, ...)")
		}
	}
	for _, h := range f.Hosts {
		if h == "" || strings.ContainsAny(h, "/ \t") {
			bad("Hosts", h, "want a host or host:port, without scheme or path (shop.example:8080)")
		}
	}
	for _, s := range f.Sessions {
		if s == "" {
			bad("Sessions", s, "want a session number (amp sessions lists them) or key")
		}
	}
	if f.MaxSessions < 0 {
		errs = append(errs, &fielderr.Error{Field: "MaxSessions", Value: strconv.Itoa(f.MaxSessions), Problem: "want 0 (no limit) or more"})
	}
	if f.From.Set && f.To.Set && f.From.At.IsZero() == f.To.At.IsZero() && !f.From.time(time.Time{}).Before(f.To.time(time.Time{})) {
		errs = append(errs, &fielderr.Error{Field: "To", Value: f.To.String(), Problem: "the window is empty: want {To} after {From} " + f.From.String()})
	}
	return errors.Join(errs...)
}

// Rules of a Filter, as Report.Dropped names them: the Filter field that
// dropped something, and Empty for sessions the exchange rules emptied.
const (
	RuleSessions     = "Sessions"
	RuleHosts        = "Hosts"
	RuleMethods      = "Methods"
	RuleIncludePaths = "IncludePaths"
	RuleExcludePaths = "ExcludePaths"
	RuleSkipStatic   = "SkipStatic"
	RuleWindow       = "Window"
	RuleEmpty        = "Empty"
	RuleMaxSessions  = "MaxSessions"
)

// Report says what Apply kept and what each rule dropped.
type Report struct {
	// SessionsIn and ExchangesIn count the input.
	SessionsIn, ExchangesIn int
	// Sessions and Exchanges count what was written.
	Sessions, Exchanges int
	// Dropped lists, in the order the rules are applied (Sessions, Hosts,
	// Methods, IncludePaths, ExcludePaths, SkipStatic, Window, Empty,
	// MaxSessions), the rules that dropped something. An exchange is
	// counted under the first rule that drops it.
	Dropped []Drop
}

// Drop is what one rule dropped.
type Drop struct {
	// Rule is one of the Rule constants.
	Rule string
	// Sessions is the number of whole sessions the rule dropped.
	Sessions int
	// Exchanges is the number of exchanges it dropped, those of the
	// sessions included (0 for Empty: they were counted by their rules).
	Exchanges int
}

func (r *Report) drop(rule string, sessions, exchanges int) {
	if sessions == 0 && exchanges == 0 {
		return
	}
	for i := range r.Dropped {
		if r.Dropped[i].Rule == rule {
			r.Dropped[i].Sessions += sessions
			r.Dropped[i].Exchanges += exchanges
			return
		}
	}
	r.Dropped = append(r.Dropped, Drop{Rule: rule, Sessions: sessions, Exchanges: exchanges})
	order := []string{RuleSessions, RuleHosts, RuleMethods, RuleIncludePaths, RuleExcludePaths, RuleSkipStatic, RuleWindow, RuleEmpty, RuleMaxSessions}
	slices.SortStableFunc(r.Dropped, func(a, b Drop) int { return slices.Index(order, a.Rule) - slices.Index(order, b.Rule) })
}

// Apply writes to out the sessions and exchanges of in that f keeps, in
// order, each exchange unchanged. When out can name sessions
// (*capture.Writer), the sessions keep the names the index holds. It checks
// ctx between sessions. A Filter that fails Validate, or a Sessions entry
// that names no session of in, is a *fielderr.Error before anything is
// written.
func Apply(ctx context.Context, in *capture.File, f Filter, out capture.Sink) (*Report, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	infos := in.Sessions()
	rep := &Report{SessionsIn: len(infos), ExchangesIn: in.Exchanges()}
	picked, err := pickSessions(in, infos, f.Sessions, f.Name)
	if err != nil {
		return nil, err
	}
	start := recordingStart(infos)
	var from, to time.Time
	if f.From.Set {
		from = f.From.time(start)
	}
	if f.To.Set {
		to = f.To.time(start)
		if f.From.Set && !from.Before(to) {
			return nil, &fielderr.Error{Field: "To", Value: f.To.String(), Problem: fmt.Sprintf("the window is empty: {To} is at %s, not after {From} %s at %s", to.Format(time.RFC3339Nano), f.From.String(), from.Format(time.RFC3339Nano))}
		}
	}
	rule := exchangeRule(f, from, to)
	for i, info := range infos {
		if picked != nil && !picked[i] {
			rep.drop(RuleSessions, 1, info.Exchanges)
			continue
		}
		if f.MaxSessions > 0 && rep.Sessions == f.MaxSessions {
			rep.drop(RuleMaxSessions, 1, info.Exchanges)
			continue
		}
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		s, err := in.Session(i)
		if err != nil {
			return rep, err
		}
		kept := s.Exchanges[:0]
		for _, e := range s.Exchanges {
			if r := rule(e); r != "" {
				rep.drop(r, 0, 1)
				continue
			}
			kept = append(kept, e)
		}
		if len(kept) == 0 {
			rep.drop(RuleEmpty, 1, 0)
			continue
		}
		if err := writeSession(out, s.ID, info.Name, kept); err != nil {
			return rep, err
		}
		rep.Sessions++
		rep.Exchanges += len(kept)
	}
	return rep, nil
}

// writeSession writes exchanges under key, naming the session when out can.
func writeSession(out capture.Sink, key, name string, exs []*capture.Exchange) error {
	if n, ok := out.(interface{ NameSession(key, name string) }); ok && name != "" {
		n.NameSession(key, name)
	}
	for _, e := range exs {
		e.Session = key
		if err := out.Write(e); err != nil {
			return err
		}
	}
	return nil
}

// recordingStart is the start of the earliest session.
func recordingStart(infos []capture.SessionInfo) time.Time {
	var start time.Time
	for _, s := range infos {
		if !s.Start.IsZero() && (start.IsZero() || s.Start.Before(start)) {
			start = s.Start
		}
	}
	return start
}

// pickSessions resolves Filter.Sessions: nil when every session is kept.
func pickSessions(in *capture.File, infos []capture.SessionInfo, refs []string, nameOf func(*capture.Session) string) ([]bool, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	names := make([]string, len(infos))
	for i, s := range infos {
		names[i] = s.Name
		if nameOf != nil && s.Name == "" {
			sess, err := in.Session(i)
			if err != nil {
				return nil, err
			}
			names[i] = nameOf(sess)
		}
	}
	picked := make([]bool, len(infos))
	for _, ref := range refs {
		if n, err := strconv.Atoi(ref); err == nil && n >= 1 && n <= len(infos) {
			picked[n-1] = true
			continue
		}
		found := false
		for i, s := range infos {
			glob, _ := path.Match(ref, names[i])
			if s.ID == ref || names[i] != "" && (names[i] == ref || glob) {
				picked[i], found = true, true
			}
		}
		if found {
			continue
		}
		problem := fmt.Sprintf("no session has this key (amp sessions lists the %d sessions)", len(infos))
		if _, err := strconv.Atoi(ref); err == nil {
			problem = fmt.Sprintf("want a number from 1 to %d (the recording has %d sessions)", len(infos), len(infos))
		}
		return nil, &fielderr.Error{Field: "Sessions", Value: strconv.Quote(ref), Problem: problem}
	}
	return picked, nil
}

// exchangeRule returns a function that names the first exchange rule that
// drops an exchange, or "".
func exchangeRule(f Filter, from, to time.Time) func(*capture.Exchange) string {
	hosts := make([]string, len(f.Hosts))
	for i, h := range f.Hosts {
		hosts[i] = strings.ToLower(h)
	}
	return func(e *capture.Exchange) string {
		if len(hosts) > 0 && !matchHost(hosts, e.Request.Host()) {
			return RuleHosts
		}
		if len(f.Methods) > 0 && !slices.ContainsFunc(f.Methods, func(m string) bool { return strings.EqualFold(m, e.Request.Method) }) {
			return RuleMethods
		}
		p := urlPath(e.Request.URL)
		if len(f.IncludePaths) > 0 && !matchPath(f.IncludePaths, p) {
			return RuleIncludePaths
		}
		if matchPath(f.ExcludePaths, p) {
			return RuleExcludePaths
		}
		if f.SkipStatic && (capture.StaticPath(p) || capture.StaticType(e.Response.Header.Get("Content-Type"))) {
			return RuleSkipStatic
		}
		if !from.IsZero() && e.Start.Before(from) || !to.IsZero() && !e.Start.Before(to) {
			return RuleWindow
		}
		return ""
	}
}

// urlPath is the path of a recorded URL, without its query.
func urlPath(raw string) string {
	t := capture.URLTarget(raw)
	if i := strings.IndexByte(t, '?'); i >= 0 {
		t = t[:i]
	}
	return t
}

// matchPath matches the URL path p against patterns: one that starts
// with '/' matches the whole path, one without '/' its last segment.
func matchPath(patterns []string, p string) bool {
	last := p[strings.LastIndexByte(p, '/')+1:]
	for _, pat := range patterns {
		target := p
		if !strings.HasPrefix(pat, "/") {
			target = last
		}
		if ok, _ := path.Match(pat, target); ok {
			return true
		}
	}
	return false
}

// matchHost matches host (lower case, host[:port]) against patterns: one
// with a port matches exactly, one without matches the host name.
func matchHost(patterns []string, host string) bool {
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	for _, p := range patterns {
		if p == host || strings.Trim(p, "[]") == name {
			return true
		}
	}
	return false
}
