package replay

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/stats"
)

// Journey is a group of recorded sessions replayed with a weight, as
// Locust's user classes are: several recordings in one run (browse.amp:80
// checkout.amp:20), or named groups of one recording's sessions (--mix).
type Journey struct {
	// Name names the journey in reports.
	Name string
	// Weight is the journey's share of the sessions started, against the
	// other journeys' (80 and 20: four in five).
	Weight float64
	// Sessions are the IDs of the recorded sessions the journey replays,
	// in turn.
	Sessions []string
}

// maxNameSteps bounds the steps a session name shows.
const maxNameSteps = 6

// SessionName is a readable, stable name of a recorded session: the
// endpoints it visits in order, consecutive repeats and static assets left
// out, joined by "→" ("login→articles/new→articles/{id}"); a long one keeps
// its first and last steps around "…". name names the endpoints (a
// stats.Namer's Name); nil takes the path's template. Sessions of the same
// journey get the same name, which --mix and --session pick them by.
func SessionName(s *capture.Session, name func(method, rawURL string) string) string {
	var steps []string
	for _, e := range s.Exchanges {
		target := requestTarget(e.Request.URL)
		path, _, _ := strings.Cut(target, "?")
		if capture.StaticPath(path) {
			continue
		}
		step := ""
		if name != nil {
			step = name(e.Request.Method, e.Request.URL)
		}
		if step == "" {
			step = stats.Template(path)
		}
		step = strings.Trim(step, "/")
		if step == "" {
			step = "home"
		}
		if len(steps) == 0 || steps[len(steps)-1] != step {
			steps = append(steps, step)
		}
	}
	if len(steps) == 0 {
		return "static"
	}
	if len(steps) > maxNameSteps {
		steps = append(append(steps[:maxNameSteps-2:maxNameSteps-2], "…"), steps[len(steps)-2:]...)
	}
	return strings.Join(steps, "→")
}

// ParseMix parses --mix: "NAME=W,NAME=W" where each NAME is a session name
// or a glob over names (login*), and W a weight > 0.
func ParseMix(s string) ([]Journey, error) {
	var out []Journey
	for _, part := range strings.Split(s, ",") {
		name, w, ok := strings.Cut(strings.TrimSpace(part), "=")
		weight, err := strconv.ParseFloat(strings.TrimSpace(w), 64)
		if !ok || strings.TrimSpace(name) == "" || err != nil || !(weight > 0) || weight > 1e9 {
			return nil, &FieldError{Field: "Journeys", Value: strconv.Quote(s), Problem: fmt.Sprintf("want NAME=WEIGHT,... with weights > 0, e.g. 'login*=80,browse*=20' (at %q)", part)}
		}
		out = append(out, Journey{Name: strings.TrimSpace(name), Weight: weight})
	}
	return out, nil
}

// journeyPicker deals sessions out over weighted journeys: smooth weighted
// round robin (nginx's), so that every window of starts holds the journeys
// in proportion, not only the whole run; within a journey its sessions in
// turn.
type journeyPicker struct {
	mu      sync.Mutex
	weights []float64
	current []float64
	total   float64
	scripts [][]int // per journey, script indexes
	next    []int   // per journey, its next script
}

func newJourneyPicker(plan *Plan) *journeyPicker {
	if len(plan.journeys) == 0 {
		return nil
	}
	jp := &journeyPicker{}
	for _, j := range plan.journeys {
		jp.weights = append(jp.weights, j.weight)
		jp.total += j.weight
		jp.scripts = append(jp.scripts, j.scripts)
	}
	jp.current = make([]float64, len(jp.weights))
	jp.next = make([]int, len(jp.weights))
	return jp
}

// pick returns the script index of the next session to start.
func (jp *journeyPicker) pick() int {
	jp.mu.Lock()
	defer jp.mu.Unlock()
	best := 0
	for i, w := range jp.weights {
		jp.current[i] += w
		if jp.current[i] > jp.current[best] {
			best = i
		}
	}
	jp.current[best] -= jp.total
	sc := jp.scripts[best][jp.next[best]%len(jp.scripts[best])]
	jp.next[best]++
	return sc
}

// planJourney is a journey of a Plan: its weight and its scripts.
type planJourney struct {
	name    string
	weight  float64
	scripts []int
}

// setJourneys gives p the journeys of cfg, by session ID.
func (p *Plan) setJourneys(journeys []Journey) error {
	byID := map[string]int{}
	for i, sc := range p.Scripts {
		byID[sc.ID] = i
	}
	for _, j := range journeys {
		pj := planJourney{name: j.Name, weight: j.Weight}
		for _, id := range j.Sessions {
			if i, ok := byID[id]; ok {
				pj.scripts = append(pj.scripts, i)
				p.Scripts[i].Journey = j.Name
			}
		}
		if len(pj.scripts) == 0 {
			return &FieldError{Field: "Journeys", Value: strconv.Quote(j.Name), Problem: "holds no session of the recording (amp sessions lists their names)"}
		}
		p.journeys = append(p.journeys, pj)
	}
	return nil
}

// JourneyWeights returns each journey of the plan with its weight and its
// number of sessions, for printing; nil without journeys.
func (p *Plan) JourneyWeights() []Journey {
	var out []Journey
	for _, j := range p.journeys {
		ids := make([]string, len(j.scripts))
		for i, s := range j.scripts {
			ids[i] = p.Scripts[s].ID
		}
		out = append(out, Journey{Name: j.name, Weight: j.weight, Sessions: ids})
	}
	return out
}
