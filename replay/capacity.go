package replay

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ampload/amp/stats"
)

// CapacityConfig says how FindCapacity steps the load up.
type CapacityConfig struct {
	// Thresholds are what every step must meet, on the whole run's totals
	// (p(95)<500, rate<0.01, rps>100); they may not name an endpoint or a
	// failure kind, which a step's window does not hold.
	Thresholds []stats.Threshold
	// Start is the users of the first step; 0 means 10.
	Start int
	// Max bounds the users; 0 means 10,000.
	Max int
	// Hold is how long each step runs; 0 means 30 s, and less than
	// MinCapacityHold is refused. Its first third (the users ramping up and
	// settling) is not judged; the rest is, by whole seconds.
	Hold time.Duration
	// Precision ends the search once the last step that held and the first
	// that failed are closer than this fraction of the one that held
	// (at least one user); 0 means 0.1.
	Precision float64
	// OnStep, when set, is called after each step.
	OnStep func(CapacityStep)
}

// MinCapacityHold is the shortest step of a capacity search: its judged
// part must hold whole seconds of the series.
const MinCapacityHold = 3 * time.Second

// CapacityStep is one step of a capacity search: a number of users held for
// a while, and what the judged part of it measured.
type CapacityStep struct {
	Users       int       `json:"users"`
	Start       time.Time `json:"start"`
	Requests    int64     `json:"requests"`
	RPS         float64   `json:"rps"`
	P95MS       float64   `json:"p95_ms"`
	FailureRate float64   `json:"failure_rate"`
	Pass        bool      `json:"pass"`
	// Failed lists the thresholds the step failed, with what was measured.
	Failed []string `json:"failed,omitempty"`
}

// Capacity is the answer of a capacity search.
type Capacity struct {
	// Users is the most users of a step that met every threshold; 0 when
	// none did. RPS is that step's throughput.
	Users int     `json:"users"`
	RPS   float64 `json:"rps"`
	// FailedAt is the fewest users of a step that failed; 0 when none did.
	FailedAt int `json:"failed_at,omitempty"`
	// Ended says why the search ended: "converged", "max users", "duration"
	// or "stopped"; the last two give the best answer known by then.
	Ended string `json:"ended"`
	// Steps are the steps in the order they ran.
	Steps []CapacityStep `json:"steps"`
}

// CheckCapacityThresholds reports the thresholds a capacity search cannot
// judge on a step: none at all, one scoped to an endpoint, or one on a
// failure kind (differs, failed_checks).
func CheckCapacityThresholds(ths []stats.Threshold) error {
	if len(ths) == 0 {
		return &FieldError{Field: "Thresholds", Problem: "a capacity search needs thresholds that say when the target holds, e.g. p(95)<500 and rate<0.01"}
	}
	for _, th := range ths {
		switch {
		case th.Name != "":
			return &FieldError{Field: "Thresholds", Value: th.Expr, Problem: "a capacity search judges each step on the run's totals, not one endpoint's"}
		case th.Agg == "differs" || th.Agg == "failed_checks":
			return &FieldError{Field: "Thresholds", Value: th.Expr, Problem: "a capacity search judges latency, throughput and failures (rate, failures), not failure kinds"}
		}
	}
	return nil
}

// FindCapacity replaces Run for a capacity search of the closed model: it
// runs the replay with cc.Start users, holds each step for cc.Hold, doubles
// the users while every threshold holds, then narrows in between the last
// step that held and the first that failed, until they are within
// cc.Precision, cc.Max is reached, the run's Duration ends or ctx is
// cancelled (the answer is then the best known). It returns the answer and
// the whole run's result.
func (r *Run) FindCapacity(ctx context.Context, cc CapacityConfig) (*Capacity, *stats.Result, error) {
	if err := CheckCapacityThresholds(cc.Thresholds); err != nil {
		return nil, nil, err
	}
	if r.cfg.Timeline || r.cfg.ArrivalRate > 0 || len(r.cfg.Stages) > 0 {
		return nil, nil, errors.New("replay: a capacity search steps the users of the closed model: not with a timeline, an arrival rate or stages")
	}
	start, most, hold, precision := cc.Start, cc.Max, cc.Hold, cc.Precision
	if start <= 0 {
		start = 10
	}
	if most <= 0 {
		most = 10000
	}
	start = min(start, most)
	if hold <= 0 {
		hold = 30 * time.Second
	}
	if hold < MinCapacityHold {
		return nil, nil, fmt.Errorf("replay: a capacity step of %v is too short to judge: at least %v", hold, MinCapacityHold)
	}
	if precision <= 0 {
		precision = 0.1
	}
	r.Player.SetUsers(start)
	done := make(chan struct{})
	var runErr error
	go func() {
		defer close(done)
		_, runErr = r.Run(ctx)
	}()
	capa := &Capacity{}
	lo, hi := 0, 0 // the most users that held, the fewest that failed (0: none yet)
	users := start
	timer := time.NewTimer(hold)
	defer timer.Stop()
	for {
		// Users start fast enough to be up within the first sixth of the
		// step, so the judged part holds them all.
		r.Player.SetRate(max(r.cfg.Rate, float64(users)/(hold.Seconds()/6)))
		r.Player.SetUsers(users)
		begin := time.Now()
		timer.Reset(hold)
		select {
		case <-timer.C:
		case <-done:
			capa.Ended = "duration"
		case <-ctx.Done():
			capa.Ended = "stopped"
		}
		if capa.Ended != "" {
			break
		}
		step := r.judgeStep(users, begin, begin.Add(hold), cc.Thresholds)
		capa.Steps = append(capa.Steps, step)
		if cc.OnStep != nil {
			cc.OnStep(step)
		}
		if step.Pass {
			if users > lo {
				lo, capa.RPS = users, step.RPS
			}
		} else if hi == 0 || users < hi {
			hi = users
		}
		next, ended := nextStep(lo, hi, most, precision)
		if ended != "" {
			capa.Ended = ended
			break
		}
		users = next
	}
	capa.Users, capa.FailedAt = lo, hi
	r.Player.Stop()
	<-done
	return capa, r.Result(), runErr
}

// nextStep is the users of the next step of a capacity search that has
// seen lo users hold and hi fail (0: not yet), or why it ends.
func nextStep(lo, hi, most int, precision float64) (int, string) {
	if hi == 0 {
		if lo >= most {
			return 0, "max users"
		}
		return min(2*lo, most), ""
	}
	if hi-lo <= max(1, int(precision*float64(lo))) {
		return 0, "converged"
	}
	return (lo + hi) / 2, ""
}

// judgeStep judges the step of users that ran from begin to end on the
// seconds after its first third (the ramp and the settling).
func (r *Run) judgeStep(users int, begin, end time.Time, ths []stats.Threshold) CapacityStep {
	from := begin.Add(end.Sub(begin) / 3).Unix()
	to := end.Unix()
	w := r.Collector.Snapshot().Window(from+1, to) // whole seconds only
	step := CapacityStep{Users: users, Start: begin, Requests: w.Requests, RPS: w.RPS, P95MS: w.Latency.P95, FailureRate: w.FailureRate, Pass: true}
	for _, v := range w.CheckThresholds(ths) {
		if !v.Pass {
			step.Pass = false
			step.Failed = append(step.Failed, v.Message)
		}
	}
	if step.Requests == 0 && step.Pass {
		step.Pass, step.Failed = false, append(step.Failed, fmt.Sprintf("no request finished in the judged part of the step (%d users)", users))
	}
	return step
}
