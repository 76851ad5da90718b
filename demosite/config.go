package demosite

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Defaults returned by DefaultConfig.
const (
	// DefaultLatency is the fixed delay DefaultConfig adds to every request.
	DefaultLatency = 10 * time.Millisecond
	// DefaultJitter is the upper bound of the random extra delay DefaultConfig adds.
	DefaultJitter = 20 * time.Millisecond
	// DefaultErrorRate is the fraction of requests DefaultConfig answers with 500.
	DefaultErrorRate = 0.0
	// DefaultCapacity is the number of requests DefaultConfig serves at once.
	DefaultCapacity = 200
)

// Config tunes how the site behaves under load; the zero value answers every request at once, without errors.
type Config struct {
	// Latency is the fixed delay added to every request except /healthz, spent while holding a capacity slot.
	Latency time.Duration
	// Jitter is the upper bound of a uniformly random extra delay (0..Jitter) added to Latency.
	Jitter time.Duration
	// ErrorRate is the fraction (0..1) of requests, picked at random, answered 500 instead of being served; static assets and /healthz are never failed.
	ErrorRate float64
	// Capacity is how many requests are served at once (0 = unlimited); further requests queue for a slot, so latency grows with load.
	Capacity int
	// Seed seeds the random source of jitter and errors, reproducible for sequential requests; 0 picks a random seed.
	Seed int64
}

// DefaultConfig returns the configuration used by `amp demo`: a little latency and jitter, no errors and a capacity of DefaultCapacity.
func DefaultConfig() Config {
	return Config{
		Latency:   DefaultLatency,
		Jitter:    DefaultJitter,
		ErrorRate: DefaultErrorRate,
		Capacity:  DefaultCapacity,
	}
}

// Validate reports every problem of c at once, joined with errors.Join, or nil if c is usable.
func (c Config) Validate() error {
	var errs []error
	if c.Latency < 0 {
		errs = append(errs, fmt.Errorf("demosite: latency %v is negative", c.Latency))
	}
	if c.Jitter < 0 {
		errs = append(errs, fmt.Errorf("demosite: jitter %v is negative", c.Jitter))
	}
	if math.IsNaN(c.ErrorRate) || c.ErrorRate < 0 || c.ErrorRate > 1 {
		errs = append(errs, fmt.Errorf("demosite: error rate %v is outside 0..1", c.ErrorRate))
	}
	if c.Capacity < 0 {
		errs = append(errs, fmt.Errorf("demosite: capacity %d is negative", c.Capacity))
	}
	return errors.Join(errs...)
}

// normalized returns c with out-of-range values made harmless, so that New never panics on an unvalidated Config.
func (c Config) normalized() Config {
	c.Latency = max(c.Latency, 0)
	c.Jitter = max(c.Jitter, 0)
	if math.IsNaN(c.ErrorRate) || c.ErrorRate < 0 {
		c.ErrorRate = 0
	}
	c.ErrorRate = min(c.ErrorRate, 1)
	c.Capacity = max(c.Capacity, 0)
	return c
}
