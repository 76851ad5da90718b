package stats

import "time"

// CapacityStep is one step of a capacity search: a number of users held for
// a while, and what the judged part of it measured.
type CapacityStep struct {
	// Users is the step's users (the closed model), ArrivalRate its
	// sessions a second (the arrival-rate model).
	Users       int       `json:"users,omitempty"`
	ArrivalRate float64   `json:"arrival_rate,omitempty"`
	Start       time.Time `json:"start"`
	Requests    int64     `json:"requests"`
	RPS         float64   `json:"rps"`
	P95MS       float64   `json:"p95_ms"`
	FailureRate float64   `json:"failure_rate"`
	Pass        bool      `json:"pass"`
	// Failed lists the thresholds the step failed, with what was measured.
	Failed []string `json:"failed,omitempty"`
}

// Capacity is the answer of a capacity search (amp replay --find-capacity).
type Capacity struct {
	// Users is the most users of a step that met every threshold; 0 when
	// none did. RPS is that step's throughput.
	Users int     `json:"users"`
	RPS   float64 `json:"rps"`
	// FailedAt is the fewest users of a step that failed; 0 when none did.
	FailedAt int `json:"failed_at,omitempty"`
	// ArrivalRate and FailedAtRate are Users and FailedAt of a search that
	// stepped the arrival rate (sessions a second).
	ArrivalRate  float64 `json:"arrival_rate,omitempty"`
	FailedAtRate float64 `json:"failed_at_rate,omitempty"`
	// Ended says why the search ended: "converged", "max load", "duration"
	// or "stopped"; the last two give the best answer known by then.
	Ended string `json:"ended"`
	// Steps are the steps in the order they ran.
	Steps []CapacityStep `json:"steps"`
}
