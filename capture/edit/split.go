package edit

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"

	"github.com/ampload/amp/capture"
)

// By is what Split makes one recording of.
type By int

// What Split splits by.
const (
	// BySession writes one recording per session:
	// session-N.amp, N its 1-based number (zero-padded).
	BySession By = iota + 1
	// ByHost writes one recording per host of the requests: HOST.amp
	// (host:port as HOST_PORT.amp), each session keeping its key and the
	// exchanges it sent to that host.
	ByHost
)

// ParseBy reads "session" or "host".
func ParseBy(s string) (By, error) {
	switch s {
	case "session":
		return BySession, nil
	case "host":
		return ByHost, nil
	}
	return 0, fmt.Errorf("want session or host")
}

// Part is one recording Split wrote.
type Part struct {
	// Path is the file written.
	Path string
	// Key is the session key (BySession) or the host (ByHost).
	Key string
	// Sessions and Exchanges count what it holds.
	Sessions, Exchanges int
}

// Split writes the sessions of in to new recordings in dir (created, mode
// 0700, when missing), one per session or per host, each exchange
// unchanged, with header (its Options gain "split.key": the part's
// Key). It never replaces a file: a name that exists (or its .partial)
// fails before anything is written when splitting by session, and when
// splitting by host aborts every part (nothing is left). The parts are
// listed in the order written.
func Split(ctx context.Context, in *capture.File, by By, dir string, header capture.FileHeader) ([]Part, error) {
	if by != BySession && by != ByHost {
		return nil, fmt.Errorf("edit: split by %d", by)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if by == BySession {
		return splitSessions(ctx, in, dir, header)
	}
	return splitHosts(ctx, in, dir, header)
}

func partHeader(h capture.FileHeader, key string) capture.FileHeader {
	h.Options = maps.Clone(h.Options)
	if h.Options == nil {
		h.Options = map[string]string{}
	}
	h.Options["split.key"] = key
	return h
}

// free fails when path or its .partial exists.
func free(path string) error {
	for _, p := range []string{path, capture.PartialPath(path)} {
		if _, err := os.Lstat(p); err == nil {
			return &fs.PathError{Op: "split", Path: p, Err: fs.ErrExist}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

func splitSessions(ctx context.Context, in *capture.File, dir string, header capture.FileHeader) ([]Part, error) {
	infos := in.Sessions()
	width := len(fmt.Sprint(len(infos)))
	paths := make([]string, len(infos))
	for i := range infos {
		paths[i] = filepath.Join(dir, fmt.Sprintf("session-%0*d.amp", width, i+1))
		if err := free(paths[i]); err != nil {
			return nil, err
		}
	}
	var parts []Part
	for i, info := range infos {
		if err := ctx.Err(); err != nil {
			return parts, err
		}
		s, err := in.Session(i)
		if err != nil {
			return parts, err
		}
		w, err := capture.Create(paths[i], partHeader(header, info.ID))
		if err != nil {
			return parts, err
		}
		if err := writeSession(w, info.ID, info.Name, s.Exchanges); err != nil {
			_ = w.Abort()
			return parts, err
		}
		if err := w.Close(); err != nil {
			return parts, err
		}
		parts = append(parts, Part{Path: paths[i], Key: info.ID, Sessions: 1, Exchanges: len(s.Exchanges)})
	}
	return parts, nil
}

// hostFile is the file name of a host's part: characters other than
// letters, digits, '.', '-' and '_' become '_'; "" is "no-host".
func hostFile(host string) string {
	if host == "" {
		return "no-host"
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, host)
}

func splitHosts(ctx context.Context, in *capture.File, dir string, header capture.FileHeader) (parts []Part, err error) {
	type part struct {
		w        *capture.Writer
		n        int // index into parts
		sessions map[string]bool
	}
	byHost := map[string]*part{}
	names := map[string]bool{}
	defer func() {
		if err != nil {
			for _, p := range byHost {
				_ = p.w.Abort()
			}
			parts = nil
		}
	}()
	for i, info := range in.Sessions() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s, err := in.Session(i)
		if err != nil {
			return nil, err
		}
		for _, e := range s.Exchanges {
			host := e.Request.Host()
			p := byHost[host]
			if p == nil {
				name := hostFile(host)
				for k := 2; names[name]; k++ {
					name = fmt.Sprintf("%s-%d", hostFile(host), k)
				}
				names[name] = true
				path := filepath.Join(dir, name+".amp")
				if err := free(path); err != nil {
					return nil, err
				}
				w, err := capture.Create(path, partHeader(header, host))
				if err != nil {
					return nil, err
				}
				p = &part{w: w, n: len(parts), sessions: map[string]bool{}}
				byHost[host] = p
				parts = append(parts, Part{Path: path, Key: host})
			}
			if !p.sessions[info.ID] {
				p.sessions[info.ID] = true
				parts[p.n].Sessions++
			}
			if err := writeSession(p.w, info.ID, info.Name, []*capture.Exchange{e}); err != nil {
				return nil, err
			}
			parts[p.n].Exchanges++
		}
	}
	for _, host := range sortedHosts(byHost, func(p *part) int { return p.n }) {
		if err := byHost[host].w.Close(); err != nil {
			return nil, err
		}
	}
	return parts, nil
}

func sortedHosts[P any](m map[string]P, order func(P) int) []string {
	out := make([]string, len(m))
	for h, p := range m {
		out[order(p)] = h
	}
	return out
}
