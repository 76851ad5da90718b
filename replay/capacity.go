package replay

import (
	"context"
	"errors"
	"fmt"
	"math"
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
	// MaxRate bounds the arrival rate when the run has one (the search
	// then steps the rate, from Config.ArrivalRate); 0 means 10,000.
	MaxRate float64
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

// CapacityStep is one step of a capacity search (stats.CapacityStep).
type CapacityStep = stats.CapacityStep

// Capacity is the answer of a capacity search (stats.Capacity); the result
// of the run carries it too.
type Capacity = stats.Capacity

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
	arrivals := r.cfg.ArrivalRate > 0
	if r.cfg.Timeline || len(r.cfg.Stages) > 0 {
		return nil, nil, errors.New("replay: a capacity search steps the users of the closed model or the arrival rate: not with a timeline or stages")
	}
	start, most, hold, precision := float64(cc.Start), float64(cc.Max), cc.Hold, cc.Precision
	if arrivals {
		start, most = r.cfg.ArrivalRate, cc.MaxRate
	}
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
	minGap := 1.0 // a user
	if arrivals {
		minGap = 0.01 // a hundredth of a session a second
	}
	set := func(load float64) {
		if arrivals {
			r.Player.SetArrivalRate(load)
			return
		}
		// Users start fast enough to be up within the first sixth of the
		// step, so the judged part holds them all.
		r.Player.SetRate(max(r.cfg.Rate, load/(hold.Seconds()/6)))
		r.Player.SetUsers(int(load))
	}
	set(start)
	done := make(chan struct{})
	var runErr error
	go func() {
		defer close(done)
		_, runErr = r.Run(ctx)
	}()
	capa := &Capacity{}
	lo, hi := 0.0, 0.0 // the most load that held, the least that failed (0: none yet)
	load := start
	timer := time.NewTimer(hold)
	defer timer.Stop()
	for {
		set(load)
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
		step := r.judgeStep(begin, begin.Add(hold), cc.Thresholds)
		if arrivals {
			step.ArrivalRate = load
		} else {
			step.Users = int(load)
		}
		capa.Steps = append(capa.Steps, step)
		if cc.OnStep != nil {
			cc.OnStep(step)
		}
		if step.Pass {
			if load > lo {
				lo, capa.RPS = load, step.RPS
			}
		} else if hi == 0 || load < hi {
			hi = load
		}
		next, ended := nextStep(lo, hi, most, precision, minGap)
		if ended != "" {
			capa.Ended = ended
			break
		}
		load = next
	}
	if arrivals {
		capa.ArrivalRate, capa.FailedAtRate = lo, hi
	} else {
		capa.Users, capa.FailedAt = int(lo), int(hi)
	}
	r.Player.Stop()
	<-done
	res := r.Result()
	res.Capacity = capa
	return capa, res, runErr
}

// nextStep is the load (users, or sessions a second) of the next step of a
// capacity search that has seen lo hold and hi fail (0: not yet), or why it
// ends: once they are within precision of lo and at least minGap apart, or
// lo is most. Users are whole (minGap 1).
func nextStep(lo, hi, most, precision, minGap float64) (float64, string) {
	if hi == 0 {
		if lo >= most {
			return 0, "max load"
		}
		return min(2*lo, most), ""
	}
	if hi-lo <= max(minGap, precision*lo) {
		return 0, "converged"
	}
	mid := (lo + hi) / 2
	if minGap >= 1 {
		mid = math.Floor(mid)
	}
	return mid, ""
}

// judgeStep judges the step of users that ran from begin to end on the
// seconds after its first third (the ramp and the settling).
func (r *Run) judgeStep(begin, end time.Time, ths []stats.Threshold) CapacityStep {
	from := begin.Add(end.Sub(begin) / 3).Unix()
	to := end.Unix()
	w := r.Collector.Snapshot().Window(from+1, to) // whole seconds only
	step := CapacityStep{Start: begin, Requests: w.Requests, RPS: w.RPS, P95MS: w.Latency.P95, FailureRate: w.FailureRate, Pass: true}
	for _, v := range w.CheckThresholds(ths) {
		if !v.Pass {
			step.Pass = false
			step.Failed = append(step.Failed, v.Message)
		}
	}
	if step.Requests == 0 && step.Pass {
		step.Pass, step.Failed = false, append(step.Failed, "no request finished in the judged part of the step")
	}
	return step
}
