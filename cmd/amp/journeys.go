package main

import (
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/replay"
	"github.com/urfave/cli/v2"
)

// journeyArg is one recording argument of amp replay: FILE or FILE:WEIGHT.
type journeyArg struct {
	path   string
	weight float64 // 0: the recorded proportion
}

// parseJourneyArgs reads amp replay's recording arguments. A trailing
// ":NUMBER" is a weight when what is before it is a file or a URL (a file
// whose own name ends so is taken whole).
func parseJourneyArgs(args []string) ([]journeyArg, error) {
	var out []journeyArg
	for _, a := range args {
		ja := journeyArg{path: a}
		if i := strings.LastIndexByte(a, ':'); i > 0 {
			if w, err := strconv.ParseFloat(a[i+1:], 64); err == nil {
				if _, statErr := os.Stat(a); statErr != nil {
					if !(w > 0) || w > 1e9 {
						return nil, usageError("replay: %s: the weight after ':' must be > 0", a)
					}
					ja = journeyArg{path: a[:i], weight: w}
				}
			}
		}
		out = append(out, ja)
	}
	return out, nil
}

// loadJourneys reads the recordings of args. One recording is itself; several
// become one, each a journey named after its file, weighted as given or by
// its number of sessions, and their session keys made distinct.
func loadJourneys(c *cli.Context, args []journeyArg) (*capture.Recording, []replay.Journey, error) {
	if len(args) == 1 {
		rec, err := loadReplayRecording(c, args[0].path)
		if err != nil || args[0].weight == 0 {
			return rec, nil, err
		}
		return rec, nil, usageError("replay: %s: a weight needs another recording to weigh against (or --mix, within one)", args[0].path+":"+strconv.FormatFloat(args[0].weight, 'g', -1, 64))
	}
	all := &capture.Recording{}
	var journeys []replay.Journey
	seen := map[string]bool{}
	for _, a := range args {
		rec, err := loadReplayRecording(c, a.path)
		if err != nil {
			return nil, nil, err
		}
		name := strings.TrimSuffix(path.Base(filepath.ToSlash(shownName(a.path))), ".amp")
		for seen[name] {
			name += "'"
		}
		seen[name] = true
		j := replay.Journey{Name: name, Weight: a.weight}
		for _, s := range rec.Sessions {
			s.ID = name + "/" + s.ID
			for _, e := range s.Exchanges {
				e.Session = s.ID
			}
			j.Sessions = append(j.Sessions, s.ID)
			all.Sessions = append(all.Sessions, s)
		}
		if j.Weight == 0 {
			j.Weight = float64(len(j.Sessions))
		}
		if all.Header.Source == "" {
			all.Header = rec.Header
		}
		all.Damaged = append(all.Damaged, rec.Damaged...)
		journeys = append(journeys, j)
	}
	all.Sessions = capture.GroupSessions(exchangesOf(all.Sessions)) // one start order for all
	return all, journeys, nil
}

func exchangesOf(sessions []*capture.Session) []*capture.Exchange {
	var out []*capture.Exchange
	for _, s := range sessions {
		out = append(out, s.Exchanges...)
	}
	return out
}

// mixJourneys turns --mix patterns into journeys of rec's sessions by name:
// a session goes to the first pattern its name matches.
func mixJourneys(rec *capture.Recording, mix []replay.Journey, name func(method, rawURL string) string) ([]replay.Journey, error) {
	taken := map[string]bool{}
	for i := range mix {
		for _, s := range rec.Sessions {
			sn := replay.SessionName(s, name)
			if ok, _ := path.Match(mix[i].Name, sn); (ok || mix[i].Name == sn) && !taken[s.ID] {
				mix[i].Sessions = append(mix[i].Sessions, s.ID)
				taken[s.ID] = true
			}
		}
		if len(mix[i].Sessions) == 0 {
			return nil, usageError("replay: --mix %s: no session's name matches it (amp sessions lists the names)", mix[i].Name)
		}
	}
	return mix, nil
}

// pickSessions keeps the sessions --session names: by number, as amp
// sessions lists them (from 1), by key, or by name (or a glob over names).
func pickSessions(rec *capture.Recording, picks []string, name func(method, rawURL string) string) error {
	keep := make([]bool, len(rec.Sessions))
	for _, p := range picks {
		found := false
		if n, err := strconv.Atoi(p); err == nil {
			if n < 1 || n > len(rec.Sessions) {
				return usageError("replay: --session %d: the recording has sessions 1 to %d", n, len(rec.Sessions))
			}
			keep[n-1], found = true, true
		}
		for i, s := range rec.Sessions {
			sn := replay.SessionName(s, name)
			if ok, _ := path.Match(p, sn); ok || s.ID == p || sn == p {
				keep[i], found = true, true
			}
		}
		if !found {
			return usageError("replay: --session %q: no session has that number, key or name (amp sessions lists them)", p)
		}
	}
	var out []*capture.Session
	for i, s := range rec.Sessions {
		if keep[i] {
			out = append(out, s)
		}
	}
	rec.Sessions = out
	return nil
}

// printJourneys says how the sessions are weighted.
func printJourneys(w io.Writer, plan *replay.Plan) {
	js := plan.JourneyWeights()
	if len(js) == 0 {
		return
	}
	var total float64
	for _, j := range js {
		total += j.Weight
	}
	var parts []string
	for _, j := range js {
		parts = append(parts, fmt.Sprintf("%s %.0f%% (%s)", j.Name, 100*j.Weight/total, plural(len(j.Sessions), "session")))
	}
	fmt.Fprintf(w, "journeys: %s\n", strings.Join(parts, ", "))
}
