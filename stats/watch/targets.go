package watch

import (
	"fmt"
	"net/url"
	"strings"
)

// Targets returns the /metrics URLs that args name: each argument is an
// http:// or https:// URL, or a file listing such URLs (ParseTargets), read
// with readFile. A URL without a path gets /metrics. The same URL twice is
// an error (its shard would count twice).
func Targets(args []string, readFile func(string) ([]byte, error)) ([]string, error) {
	var out []string
	seen := map[string]string{}
	for _, a := range args {
		var urls []string
		if isURL(a) {
			u, err := normURL(a)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", a, err)
			}
			urls = []string{u}
		} else {
			data, err := readFile(a)
			if err != nil {
				return nil, fmt.Errorf("%s: neither a URL nor a readable file: %v", a, err)
			}
			if urls, err = ParseTargets(a, data); err != nil {
				return nil, err
			}
			if len(urls) == 0 {
				return nil, fmt.Errorf("%s: no URL in the file", a)
			}
		}
		for _, u := range urls {
			if from, dup := seen[u]; dup {
				return nil, fmt.Errorf("%s: %s is given twice (also in %s): each shard counts once", a, u, from)
			}
			seen[u] = a
			out = append(out, u)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("want the /metrics URL of each shard (or files listing them), got none")
	}
	return out, nil
}

// ParseTargets reads a file (named name, for messages) listing /metrics
// URLs, one a line; blank lines and lines starting with # are skipped.
func ParseTargets(name string, data []byte) ([]string, error) {
	var out []string
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !isURL(line) {
			return nil, fmt.Errorf("%s:%d: %.80q: want an http:// or https:// URL of a shard's /metrics", name, i+1, line)
		}
		u, err := normURL(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, i+1, err)
		}
		out = append(out, u)
	}
	return out, nil
}

func isURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// normURL checks a URL and gives it the path /metrics when it has none.
func normURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%.80q: %v", s, err)
	}
	if u.Host == "" {
		return "", fmt.Errorf("%.80q: no host", s)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/metrics"
	}
	return u.String(), nil
}
