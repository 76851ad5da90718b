package replay

import (
	"math"
	"sort"
	"time"
)

// Start is one session copy of the timeline (open model): which script, which
// copy of it, and when it starts relative to the start of the run.
type Start struct {
	Script int
	Copy   int
	At     time.Duration
}

// Timeline plans the open model: every script starts at its recorded offset
// divided by speed, multiple times. A fractional multiple gives the extra copy
// to an evenly spread share of the scripts (2.5: every script twice, every
// other script a third time). Copies of one script are spread over a window
// (the mean gap between recorded session starts, at most a second, divided by
// speed) so they do not arrive in lock-step. The result is sorted by At.
//
// It is a pure function of the plan, so the schedule can be tested without a
// clock.
func Timeline(p *Plan, multiple, speed float64) []Start {
	if len(p.Scripts) == 0 || multiple <= 0 || speed <= 0 {
		return nil
	}
	first := p.Scripts[0].Start
	for _, sc := range p.Scripts {
		if sc.Start.Before(first) {
			first = sc.Start
		}
	}
	whole, frac := math.Modf(multiple)
	window := time.Second
	if n := len(p.Scripts); n > 0 && p.Span/time.Duration(n) < window {
		window = p.Span / time.Duration(n)
	}
	window = time.Duration(float64(window) / speed)

	var out []Start
	for i, sc := range p.Scripts {
		copies := int(whole)
		// Evenly spread extra copies: script i gets one when the running
		// total of frac crosses an integer.
		if math.Floor(float64(i+1)*frac+1e-9) > math.Floor(float64(i)*frac+1e-9) {
			copies++
		}
		base := time.Duration(float64(sc.Start.Sub(first)) / speed)
		for c := 0; c < copies; c++ {
			spread := time.Duration(0)
			if copies > 1 {
				spread = window * time.Duration(c) / time.Duration(copies)
			}
			out = append(out, Start{Script: i, Copy: c, At: base + spread})
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].At < out[b].At })
	return out
}

// TimelinePeriod is how long one pass of the timeline takes at speed: the
// recorded span divided by speed, at least a millisecond so a loop advances.
func TimelinePeriod(p *Plan, speed float64) time.Duration {
	return max(time.Millisecond, time.Duration(float64(p.Span)/speed))
}

// ThinkTime returns how long a user pauses before task t: none, the fixed
// pause, or the recorded one divided by speed and capped at think.Max (when
// not 0).
func ThinkTime(t *Task, think Think, speed float64) time.Duration {
	switch think.Mode {
	case ThinkNone:
		return 0
	case ThinkFixed:
		return think.Fixed
	}
	d := time.Duration(float64(t.Think) / speed)
	if think.Max > 0 {
		d = min(d, think.Max)
	}
	return d
}

// SpawnInterval is the pause between two user starts at rate users/s.
func SpawnInterval(rate float64) time.Duration {
	if rate <= 0 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(float64(time.Second) / rate)
}

// shardStarts deals the timeline's session copies out over n shards: copy k
// (in start order) goes to shard k mod n, so every copy runs exactly once
// across the shards and each shard's arrivals spread over the whole span.
func shardStarts(starts []Start, i, n int) []Start {
	if n <= 1 {
		return starts
	}
	var out []Start
	for k := i; k < len(starts); k += n {
		out = append(out, starts[k])
	}
	return out
}

// ArrivalTime returns when arrival k (from 0) of the arrival-rate model is
// due, counted from the start: arrivals come at rate a second, or, with
// stages, at a rate ramping linearly from rate through each stage's Users
// (sessions a second) over its Duration and holding the last one after.
// It reports false when arrival k never comes (the rate falls to 0 first).
// It is a pure function, so schedules are tested without a clock.
func ArrivalTime(rate float64, stages []Stage, k int) (time.Duration, bool) {
	need := float64(k) // arrivals that must have come before arrival k
	var at float64     // seconds
	from := rate
	for _, st := range stages {
		to, d := float64(st.Users), st.Duration.Seconds()
		if d <= 0 {
			from = to // a step
			continue
		}
		if n := (from + to) / 2 * d; n < need || n == need && to == 0 {
			need -= n
			at += d
			from = to
			continue
		}
		slope := (to - from) / d
		var tau float64
		if math.Abs(slope) < 1e-12 {
			tau = need / from
		} else {
			// from·τ + slope·τ²/2 = need
			tau = (-from + math.Sqrt(max(0, from*from+2*slope*need))) / slope
		}
		return time.Duration((at + tau) * float64(time.Second)), true
	}
	if from <= 0 {
		return 0, false
	}
	return time.Duration((at + need/from) * float64(time.Second)), true
}
