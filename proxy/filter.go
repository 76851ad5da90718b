package proxy

import (
	"net"
	"regexp"
	"strings"

	"github.com/ampload/amp/capture"
)

// filter decides which exchanges are recorded. Exchanges it skips still pass
// through the proxy.
type filter struct {
	include    []string // host patterns; empty means every host
	exclude    []string
	paths      []*regexp.Regexp
	skipStatic bool
}

// newFilter compiles the filter settings of a validated Config.
func newFilter(c Config) *filter {
	f := &filter{skipStatic: c.SkipStatic}
	for _, h := range c.IncludeHosts {
		f.include = append(f.include, strings.ToLower(h))
	}
	for _, h := range c.ExcludeHosts {
		f.exclude = append(f.exclude, strings.ToLower(h))
	}
	for _, p := range c.ExcludePaths {
		f.paths = append(f.paths, regexp.MustCompile(p))
	}
	return f
}

// skipRequest reports whether a request to host (with or without port) for
// urlPath is left out of the recording, judged before it is sent.
func (f *filter) skipRequest(host, urlPath string) bool {
	if f.skipHost(host) {
		return true
	}
	for _, re := range f.paths {
		if re.MatchString(urlPath) {
			return true
		}
	}
	return f.skipStatic && staticExtension(urlPath)
}

// skipResponse reports whether a response with this Content-Type is left out.
func (f *filter) skipResponse(contentType string) bool {
	return f.skipStatic && staticType(contentType)
}

// matchAnyHost reports whether host matches one of the patterns. A pattern
// matches the host name case-insensitively, or host:port exactly when it has a
// port; "*.example.com" matches every subdomain of example.com (not
// example.com itself).
func matchAnyHost(patterns []string, host string) bool {
	host = strings.ToLower(host)
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.Trim(name, "[]")
	for _, p := range patterns {
		switch {
		case strings.HasPrefix(p, "*."):
			if strings.HasSuffix(name, p[1:]) {
				return true
			}
		case p == host || strings.Trim(p, "[]") == name:
			return true
		}
	}
	return false
}

// staticExtension reports whether the URL path names a static asset
// (capture.StaticPath, shared with amp filter --skip-static).
func staticExtension(urlPath string) bool { return capture.StaticPath(urlPath) }

// staticType reports whether a Content-Type is that of a static asset
// (capture.StaticType).
func staticType(contentType string) bool { return capture.StaticType(contentType) }

// skipHost reports whether the host filters leave out every request to host.
func (f *filter) skipHost(host string) bool {
	if len(f.include) > 0 && !matchAnyHost(f.include, host) {
		return true
	}
	return matchAnyHost(f.exclude, host)
}
