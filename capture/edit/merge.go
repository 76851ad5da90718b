package edit

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ampload/amp/capture"
)

// Input is one recording given to Merge.
type Input struct {
	// Name names the input in reports, e.g. its path.
	Name string
	// File is the opened recording.
	File *capture.File
}

// MergeOptions change how Merge treats session keys.
type MergeOptions struct {
	// Join keeps a session key shared by several inputs as one session
	// (its exchanges from every input, ordered by start): the way to put
	// back the parts of a filter by an exchange rule or of a split by host.
	// Without it every input's sessions stay distinct.
	Join bool
}

// MergeReport says what Merge wrote.
type MergeReport struct {
	// Sessions and Exchanges count what was written.
	Sessions, Exchanges int
	// Renamed lists, per input, the session keys changed because an
	// earlier input holds the same key (never with Join).
	Renamed []Renamed
}

// Renamed is the session keys of one input that Merge changed.
type Renamed struct {
	// Input is the input's Name.
	Input string
	// Keys maps each old key to the new one: the old key with a suffix
	// "~N", N the input's 1-based position (more ~N when that is taken).
	Keys map[string]string
}

// Merge writes every exchange of every input to out, input after input,
// each unchanged but for its session key: a key that an earlier input also
// holds gets a suffix (listed in the report), unless opt.Join. When out can
// name sessions (*capture.Writer), the sessions keep their names. It checks
// ctx between sessions.
func Merge(ctx context.Context, ins []Input, opt MergeOptions, out capture.Sink) (*MergeReport, error) {
	all := map[string]bool{} // every key of every input: a new key is none of them
	for _, in := range ins {
		for _, s := range in.File.Sessions() {
			all[s.ID] = true
		}
	}
	rep := &MergeReport{}
	used := map[string]bool{} // the keys written so far
	for n, in := range ins {
		renamed := map[string]string{}
		mine := map[string]bool{}
		for i, info := range in.File.Sessions() {
			if err := ctx.Err(); err != nil {
				return rep, err
			}
			key := info.ID
			if used[key] && !mine[key] && !opt.Join {
				key = fresh(key, n+1, all, used)
				renamed[info.ID] = key
			}
			s, err := in.File.Session(i)
			if err != nil {
				return rep, err
			}
			if err := writeSession(out, key, info.Name, s.Exchanges); err != nil {
				return rep, err
			}
			if !used[key] {
				rep.Sessions++
			}
			used[key], mine[key] = true, true
			rep.Exchanges += len(s.Exchanges)
		}
		if len(renamed) > 0 {
			rep.Renamed = append(rep.Renamed, Renamed{Input: in.Name, Keys: renamed})
		}
	}
	return rep, nil
}

// fresh returns key with a suffix "~n" (repeated) that no input holds and
// nothing written uses.
func fresh(key string, n int, all, used map[string]bool) string {
	k := key
	for {
		k += fmt.Sprintf("~%d", n)
		if !all[k] && !used[k] {
			return k
		}
	}
}

// Header returns the file header of a recording made from the inputs by
// op ("filter", "merge", "split"): the inputs' source (joined with "+" when
// they differ), the earliest of their creation times, tool, and options:
// the given ones (what was asked, e.g. flag values), "edit" (op), and per
// input "input.N" (its name) and "input.N.id" (its capture.File.ID), N
// from 1.
func Header(op, tool string, options map[string]string, ins ...Input) capture.FileHeader {
	h := capture.FileHeader{Tool: tool, Options: maps.Clone(options)}
	if h.Options == nil {
		h.Options = map[string]string{}
	}
	h.Options["edit"] = op
	var sources []string
	var created time.Time
	for i, in := range ins {
		ih := in.File.Header()
		if ih.Source != "" && !slices.Contains(sources, ih.Source) {
			sources = append(sources, ih.Source)
		}
		if !ih.Created.IsZero() && (created.IsZero() || ih.Created.Before(created)) {
			created = ih.Created
		}
		h.Options[fmt.Sprintf("input.%d", i+1)] = in.Name
		h.Options[fmt.Sprintf("input.%d.id", i+1)] = in.File.ID()
	}
	h.Source = strings.Join(sources, "+")
	h.Created = created
	return h
}
