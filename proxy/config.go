package proxy

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/ampload/amp/capture"
)

// Defaults used by DefaultConfig.
const (
	// DefaultListen is the address the recorder listens on: loopback only.
	DefaultListen = "127.0.0.1:8080"
	// DefaultMaxBody is the number of bytes of each body kept in the recording.
	DefaultMaxBody = 1 << 20
	// DefaultUpstreamTimeout bounds the wait for an upstream's response header.
	DefaultUpstreamTimeout = 60 * time.Second
	// DefaultStopTimeout bounds the wait for in-flight exchanges when stopping.
	DefaultStopTimeout = 10 * time.Second
	// DialTimeout bounds connecting to an upstream, TLS handshake included.
	DialTimeout = 10 * time.Second
	// DefaultMaxConversation is the number of payload bytes a WebSocket
	// conversation keeps in the recording.
	DefaultMaxConversation = 64 << 20
)

// Config configures a Recorder. The zero value is not usable; start from
// DefaultConfig.
type Config struct {
	// Listen is the address to listen on, "host:port" (Serve takes the
	// listener; Validate checks that a non-loopback address has AllowRemote).
	Listen string
	// AllowRemote lists the networks (CIDR, or single IP addresses) that
	// clients other than loopback may connect from; others are refused.
	AllowRemote []string
	// Target, when set, makes the recorder a reverse proxy that forwards every
	// request to this base URL ("http://localhost:5000"); otherwise it is a
	// forward proxy for HTTP and HTTPS (CONNECT).
	Target string
	// NoMITM tunnels HTTPS (CONNECT) without decrypting or recording it.
	NoMITM bool
	// CACert and CAKey are the CA files for HTTPS interception; both empty
	// means the files in DefaultCADir, created on first use.
	CACert, CAKey string
	// UpstreamCA is a PEM file of extra root certificates to trust upstream,
	// besides the system ones.
	UpstreamCA string
	// InsecureUpstream skips verifying upstream TLS certificates.
	InsecureUpstream bool
	// UpstreamTimeout bounds the wait for an upstream's response header; 0
	// means no limit.
	UpstreamTimeout time.Duration
	// MaxBody is how many bytes of each request and response body are kept;
	// the rest still streams through and the record is marked truncated.
	MaxBody int64
	// MaxConversation bounds the payload bytes a WebSocket conversation
	// keeps (each message also at most MaxBody): one open for hours stops
	// being recorded there, flagged truncated, and is still relayed. 0
	// means DefaultMaxConversation.
	MaxConversation int64
	// SessionCookie names the application's session cookie for grouping.
	SessionCookie string
	// SessionIdle is the gap after which a user's next request starts a new
	// session.
	SessionIdle time.Duration
	// IncludeHosts, when not empty, records only requests to these hosts
	// ("example.com", "example.com:8443", "*.example.com").
	IncludeHosts []string
	// ExcludeHosts are hosts not recorded (same patterns). In forward mode their
	// HTTPS is tunnelled, not decrypted.
	ExcludeHosts []string
	// ExcludePaths are regular expressions; requests whose URL path matches one
	// are not recorded.
	ExcludePaths []string
	// SkipStatic leaves out images, fonts, style sheets and scripts, known by
	// Content-Type or file extension.
	SkipStatic bool
	// RedactHeaders are header names whose values are replaced by Redacted in
	// the recording (after session grouping, which may use them).
	RedactHeaders []string
	// StopTimeout bounds how long stopping waits for in-flight exchanges.
	StopTimeout time.Duration
}

// Redacted replaces the values of redacted header fields.
const Redacted = "[redacted]"

// DefaultConfig returns the settings of `amp record` without flags: a forward
// proxy on DefaultListen with HTTPS interception.
func DefaultConfig() Config {
	return Config{
		Listen:          DefaultListen,
		UpstreamTimeout: DefaultUpstreamTimeout,
		MaxBody:         DefaultMaxBody,
		SessionIdle:     capture.DefaultSessionIdle,
		StopTimeout:     DefaultStopTimeout,
	}
}

// Validate reports every problem of c at once, joined with errors.Join, or nil.
// Messages name the flag of `amp record` that sets the field.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		bad("--listen %q: want host:port (%v)", c.Listen, unwrapAddrError(err))
	} else if !isLoopbackHost(host) && len(c.AllowRemote) == 0 {
		bad("--listen %s is reachable from other machines and needs --allow-remote CIDR (e.g. --allow-remote 10.0.0.0/8)", c.Listen)
	}
	if _, err := parsePrefixes(c.AllowRemote); err != nil {
		bad("%v", err)
	}
	if c.Target != "" {
		if _, err := parseTarget(c.Target); err != nil {
			bad("%v", err)
		}
	}
	if (c.CACert == "") != (c.CAKey == "") {
		bad("--ca-cert and --ca-key go together")
	} else if c.CACert != "" && (c.Target != "" || c.NoMITM) {
		bad("--ca-cert and --ca-key have no effect with --target or --no-mitm: the CA decrypts HTTPS in forward mode")
	}
	if c.InsecureUpstream && c.UpstreamCA != "" {
		bad("--insecure-upstream and --upstream-ca exclude each other")
	}
	if c.UpstreamTimeout < 0 {
		bad("--upstream-timeout %v is negative", c.UpstreamTimeout)
	}
	if c.MaxBody < 0 {
		bad("--max-body %d is negative", c.MaxBody)
	}
	if c.SessionIdle < 0 {
		bad("--session-idle %v is negative", c.SessionIdle)
	}
	if c.StopTimeout <= 0 {
		bad("--stop-timeout %v must be positive", c.StopTimeout)
	}
	for _, h := range append(append([]string(nil), c.IncludeHosts...), c.ExcludeHosts...) {
		if h == "" || strings.ContainsAny(h, "/ ") {
			bad("host pattern %q: want a host name, host:port or *.domain", h)
		}
	}
	for _, p := range c.ExcludePaths {
		if _, err := regexp.Compile(p); err != nil {
			bad("--exclude-path %q: %v", p, err)
		}
	}
	for _, h := range c.RedactHeaders {
		if !validFieldName(h) {
			bad("--redact-header %q is not a header name", h)
		}
	}
	return errors.Join(errs...)
}

// parseTarget checks a reverse-proxy target URL.
func parseTarget(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("--target %q: %v", s, unwrapURLError(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("--target %q: want an http:// or https:// URL", s)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("--target %q has no host", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("--target %q: want scheme://host[:port][/base-path] without user, query or fragment", s)
	}
	return u, nil
}

// parsePrefixes parses --allow-remote values: CIDRs or single addresses.
func parsePrefixes(ss []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range ss {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("--allow-remote %q: want a CIDR such as 192.168.0.0/16 or an IP address", s)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// isLoopbackHost reports whether a listen host is loopback only.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// validFieldName reports whether s is an HTTP field name (an RFC 9110 token).
func validFieldName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
}

func unwrapAddrError(err error) error {
	var ae *net.AddrError
	if errors.As(err, &ae) {
		return errors.New(ae.Err)
	}
	return err
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
