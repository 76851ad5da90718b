package replay

import (
	"errors"
	"fmt"
	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/internal/fielderr"
	"math"
	"strconv"
	"strings"
	"time"
)

// Defaults of Config.
const (
	// DefaultUsers is the number of simulated users of the closed model.
	DefaultUsers = 10
	// DefaultRate is how many users start per second.
	DefaultRate = 10.0
	// DefaultTimeout bounds one request, from dial to the last response byte.
	DefaultTimeout = 30 * time.Second
	// DefaultStopTimeout is how long in-flight tasks may finish after the end.
	DefaultStopTimeout = 10 * time.Second
	// MaxMultiple bounds Config.Multiple, the copies of each recorded session.
	MaxMultiple = 10000
)

// ThinkMode says how long users pause between tasks.
type ThinkMode int

// Think says how users pause between the tasks of a session.
type Think struct {
	// Mode picks the pause: recorded (the zero value), none or fixed.
	Mode ThinkMode
	// Fixed is the pause of ThinkFixed.
	Fixed time.Duration
	// Max caps recorded pauses (a user who left the tab open for ten
	// minutes); 0 keeps them as recorded.
	Max time.Duration
}

// HostMap sends the requests of one recorded host to a target.
type HostMap struct {
	// From is the recorded host, host[:port] ("cdn.shop.example").
	From string
	// To is the target URL ("http://127.0.0.1:9000").
	To string
}

// ParseHostMap parses the OLDHOST=URL form of a host mapping (--map).
func ParseHostMap(s string) (HostMap, error) {
	old, nu, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(old) == "" || strings.TrimSpace(nu) == "" {
		return HostMap{}, &FieldError{Field: "Map", Value: strconv.Quote(s), Problem: "want OLDHOST=URL, e.g. cdn.shop.example=http://127.0.0.1:9000"}
	}
	return HostMap{From: strings.TrimSpace(old), To: strings.TrimSpace(nu)}, nil
}

// String returns the mapping as OLDHOST=URL.
func (m HostMap) String() string { return m.From + "=" + m.To }

// FieldError is a problem with one field of a Config: Config.Validate, the
// parsers and NewPlan return them (joined, when there are several), naming
// the Config field, so that each front end words them its own way.
type FieldError = fielderr.Error

// The think modes of --think.
const (
	// ThinkRecorded waits the recorded pause divided by the speed.
	ThinkRecorded ThinkMode = iota
	// ThinkNone sends the next task as soon as the previous one is done.
	ThinkNone
	// ThinkFixed waits Config.ThinkTime between tasks.
	ThinkFixed
)

// Config is what a replay is asked to do.
type Config struct {
	// Host is the URL the recording's main host is mapped to ("http://127.0.0.1:5000").
	Host string
	// Map maps other recorded hosts to targets. Requests to hosts mapped
	// neither by Host nor by Map are skipped and counted.
	Map []HostMap
	// Insecure skips TLS certificate verification of https targets.
	Insecure bool
	// HTTP1 forces HTTP/1.1 to https targets (--http1); by default they are
	// offered h2 and http/1.1 by ALPN and the server picks.
	HTTP1 bool
	// H2C speaks HTTP/2 with prior knowledge to http targets (--h2c), as a
	// gRPC client does to a cleartext server.
	H2C bool

	// Users is the number of concurrent simulated users (closed model).
	Users int
	// Rate is how many users start per second (closed model).
	Rate float64
	// Duration ends the run; 0 runs until Stop, the iterations or the timeline end.
	Duration time.Duration
	// Iterations ends the closed model after this many sessions in all
	// (the arrival-rate model: after this many arrivals); 0: no limit.
	Iterations int
	// Stages, when set, drive the closed model's user count instead of
	// Users and Rate: from 0, each stage ramps linearly to its Users over
	// its Duration (k6's ramping VUs); the run ends after the last stage
	// unless Duration says otherwise. In the arrival-rate model they ramp
	// the rate instead, from ArrivalRate, each stage's Users being
	// sessions a second (k6's ramping arrival rate).
	Stages []Stage

	// ArrivalRate selects the arrival-rate model (k6's constant arrival
	// rate, Gatling's constantUsersPerSec): this many sessions start a
	// second, each as a new user, whatever the latency, so concurrency
	// grows when the target slows. Latency counts from each intended start.
	// 0: the closed model or the timeline.
	ArrivalRate float64
	// MaxUsers caps the users running at once in the arrival-rate model; an
	// arrival that finds MaxUsers running is dropped and counted (k6's
	// dropped_iterations). 0: no cap.
	MaxUsers int

	// Think says how users pause between tasks.
	Think Think
	// Speed divides recorded think times and timeline offsets (2 = twice as fast).
	Speed float64

	// Timeline selects the open model: sessions start at their recorded offsets.
	Timeline bool
	// Multiple is how many copies of each recorded session the timeline starts (2.5 allowed).
	Multiple float64
	// Loop repeats the timeline until Duration.
	Loop bool

	// Timeout bounds one request.
	Timeout time.Duration
	// StopTimeout is how long in-flight tasks may finish after the end before
	// they are cancelled.
	StopTimeout time.Duration
	// NoCorrelate turns off automatic correlation.
	NoCorrelate bool
	// Headers are fields set on every request, replacing recorded fields of
	// the same name (a Cookie pair replaces the recorded cookie of that
	// name); e.g. an X-Load-Test marker or a staging token.
	Headers capture.Headers
	// Shard and Shards make this run the Shard-th (from 0) of Shards equal
	// parts of the test: users, spawn rate and iterations are divided, and
	// timeline copies dealt out, so the shards together produce the load of
	// one unsharded run. Shards 0 or 1 is an unsharded run.
	Shard, Shards int
	// StartAt, when set, is the shared start time of all shards: the run
	// waits for it, and ramps and timelines count from it.
	StartAt time.Time

	// CheckMode says how responses are judged: CheckAuto (the default)
	// compares each with its recording, CheckStatus by status class only.
	CheckMode CheckMode
	// Checks are explicit assertions on the responses (--check), applied in
	// either mode.
	Checks []Check

	// MaxConns caps the connections to each target, shared by all users; 0
	// gives every user its own keep-alive connection, like a browser. Set it
	// when there are more users than the process may open files.
	MaxConns int

	// DataFile is a CSV file with a header row, or JSON lines, of per-user
	// values (--data): a column named like a recorded form field, JSON
	// member, query parameter or header replaces the value the recording sent
	// under that name, so each user logs in as its own account. See LoadData
	// and BindData.
	DataFile string
	// DataMode says which row each session takes (--data-mode); the zero
	// value is DataNext.
	DataMode DataMode
	// Data is DataFile already loaded (PrepareData loads it when nil), so a
	// file checked before the run is not read again.
	Data *DataSet
	// KeepClientValues sends the values the client generated (UUIDs, random
	// nonces, timestamps; see ClientValues) as recorded instead of fresh ones
	// per user and iteration (--keep-client-values).
	KeepClientValues bool
	// Journeys, when set, replay only their sessions, each journey getting
	// its weight's share of the sessions started (the closed model and the
	// arrival rate); without them every session is replayed in turn, in its
	// recorded proportion.
	Journeys []Journey
	// Rules are rule sources by session shape that a validation pass
	// learned (Verification.Rules, or LoadRules of a --save-rules file);
	// NewPlan adds them to every session of their shape.
	Rules RuleSet
}

// DefaultConfig returns a Config with the defaults of the amp replay flags.
func DefaultConfig() Config {
	return Config{
		Users:       DefaultUsers,
		Rate:        DefaultRate,
		Speed:       1,
		Multiple:    1,
		Timeout:     DefaultTimeout,
		StopTimeout: DefaultStopTimeout,
	}
}

// ParseThink parses a pause between tasks (--think): "recorded", "none" or
// a duration (a bare number is seconds). Max is left 0.
func ParseThink(s string) (Think, error) {
	switch strings.ToLower(s) {
	case "", "recorded":
		return Think{Mode: ThinkRecorded}, nil
	case "none", "0":
		return Think{Mode: ThinkNone}, nil
	}
	d, err := time.ParseDuration(s)
	if f, ferr := strconv.ParseFloat(s, 64); ferr == nil && !math.IsNaN(f) && f < 1e9 {
		d, err = time.Duration(f*float64(time.Second)), nil // a bare number is seconds
	}
	if err != nil || d < 0 {
		return Think{}, &FieldError{Field: "Think", Value: strconv.Quote(s), Problem: "want recorded, none or a duration like 1s (a bare number is seconds)"}
	}
	return Think{Mode: ThinkFixed, Fixed: d}, nil
}

// ParseHeader parses a "Name: value" field (--header).
func ParseHeader(s string) (capture.Header, error) {
	name, value, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" || strings.ContainsAny(name, " \t\r\n") || strings.ContainsAny(s, "\r\n") {
		return capture.Header{}, &FieldError{Field: "Headers", Value: strconv.Quote(s), Problem: `want "Name: value"`}
	}
	return capture.Header{Name: name, Value: strings.TrimSpace(value)}, nil
}

// Validate reports every problem of c at once, each a *FieldError.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, value, problem string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Value: value, Problem: fmt.Sprintf(problem, args...)})
	}
	num := func(v any) string { return fmt.Sprint(v) }
	if c.Host == "" {
		bad("Host", "", "is required: the URL to send the recording's main host to, e.g. http://127.0.0.1:5000")
	} else if _, err := newTarget(c.Host, false); err != nil {
		bad("Host", c.Host, "%v", err)
	}
	for _, m := range c.Map {
		if m.From == "" || m.To == "" {
			bad("Map", strconv.Quote(m.String()), "want OLDHOST=URL, e.g. cdn.shop.example=http://127.0.0.1:9000")
		} else if _, err := newTarget(m.To, false); err != nil {
			bad("Map", strconv.Quote(m.String()), "%v", err)
		}
	}
	for i, st := range c.Stages {
		if st.Duration < 0 || st.Users < 0 {
			bad("Stages", fmt.Sprintf("stage %d (%v:%d)", i+1, st.Duration, st.Users), "needs a duration >= 0 and users >= 0")
		}
	}
	if len(c.Stages) > 0 && StagesLength(c.Stages) <= 0 && c.Duration == 0 {
		bad("Stages", "", "last 0s in all; give one a duration, or set {Duration}")
	}
	if len(c.Stages) > 0 && c.Timeline {
		bad("Stages", "", "ramps the closed model's users; {Timeline} follows the recording")
	}
	if c.ArrivalRate < 0 || math.IsNaN(c.ArrivalRate) || math.IsInf(c.ArrivalRate, 0) {
		bad("ArrivalRate", num(c.ArrivalRate), "want sessions per second > 0")
	}
	if c.ArrivalRate > 0 && c.Timeline {
		bad("ArrivalRate", "", "starts sessions at a rate, {Timeline} at their recorded offsets: give one")
	}
	if c.MaxUsers < 0 {
		bad("MaxUsers", num(c.MaxUsers), "is negative")
	}
	if c.MaxUsers > 0 && c.ArrivalRate == 0 {
		bad("MaxUsers", "", "caps the users of the arrival-rate model: add {ArrivalRate}")
	}
	if c.Users < 1 && !c.Timeline && len(c.Stages) == 0 && c.ArrivalRate == 0 {
		bad("Users", num(c.Users), "want at least 1")
	}
	if !(c.Rate > 0) || math.IsInf(c.Rate, 0) {
		bad("Rate", num(c.Rate), "want users per second > 0")
	}
	if c.Duration < 0 {
		bad("Duration", num(c.Duration), "is negative")
	}
	if c.Iterations < 0 {
		bad("Iterations", num(c.Iterations), "is negative")
	}
	if !(c.Speed > 0) || math.IsInf(c.Speed, 0) {
		bad("Speed", num(c.Speed), "want a factor > 0")
	}
	if !(c.Multiple > 0) || c.Multiple > MaxMultiple {
		bad("Multiple", num(c.Multiple), "want a factor > 0 and at most %d (2.5 = 250 %%)", MaxMultiple)
	}
	if c.Loop && !c.Timeline {
		bad("Loop", "", "needs {Timeline}")
	}
	if c.Timeline && c.Iterations > 0 {
		bad("Iterations", "", "applies to the closed model, not {Timeline} (use {Duration} or {Loop})")
	}
	if c.Timeout <= 0 {
		bad("Timeout", num(c.Timeout), "want a positive duration")
	}
	if c.StopTimeout < 0 {
		bad("StopTimeout", num(c.StopTimeout), "is negative")
	}
	if c.Shards < 0 || (c.Shards > 0 && (c.Shard < 0 || c.Shard >= c.Shards)) || (c.Shards == 0 && c.Shard != 0) {
		bad("Shard", fmt.Sprintf("%d/%d", c.Shard, c.Shards), "want I/N with 0 <= I < N")
	}
	for _, h := range c.Headers {
		name := h.Name
		switch {
		case name == "" || strings.ContainsAny(name, " \t\r\n:") || strings.ContainsAny(h.Value, "\r\n"):
			bad("Headers", strconv.Quote(name+": "+h.Value), `want "Name: value"`)
		case isHopHeader(strings.ToLower(name)) && !strings.EqualFold(name, "Cookie"):
			bad("Headers", strconv.Quote(name+": "+h.Value), "amp sets %s itself", name)
		}
	}
	if c.Think.Max < 0 {
		bad("MaxThink", num(c.Think.Max), "is negative")
	}
	if c.HTTP1 && c.H2C {
		bad("H2C", "", "speaks HTTP/2 and {HTTP1} forbids it: give one of them")
	}
	if c.MaxConns < 0 {
		bad("MaxConns", num(c.MaxConns), "is negative")
	}
	if c.Think.Mode == ThinkFixed && c.Think.Fixed < 0 {
		bad("Think", num(c.Think.Fixed), "is negative")
	}
	for _, j := range c.Journeys {
		if j.Name == "" || !(j.Weight > 0) || math.IsInf(j.Weight, 0) {
			bad("Journeys", strconv.Quote(j.Name), "want a name and a weight > 0")
		}
	}
	if len(c.Journeys) > 0 && c.Timeline {
		bad("Journeys", "", "weight the sessions users start; {Timeline} replays each at its recorded offset")
	}
	if c.DataMode < DataNext || c.DataMode > DataLoop {
		bad("DataMode", num(c.DataMode), "want next, random, unique or loop")
	}
	return errors.Join(errs...)
}

// ShareOf returns shard i's part of total when it is dealt out over n
// shards as evenly as whole numbers allow; the parts add up to total.
func ShareOf(total, i, n int) int {
	if n <= 1 {
		return total
	}
	return total*(i+1)/n - total*i/n
}

// shardOffset is the number of units the shards before shard i take.
func shardOffset(total, i, n int) int {
	if n <= 1 {
		return 0
	}
	return total * i / n
}

// sharded returns the part of c that shard c.Shard of c.Shards runs.
func (c Config) sharded() Config {
	if c.Shards <= 1 {
		return c
	}
	c.Users = ShareOf(c.Users, c.Shard, c.Shards)
	c.Rate /= float64(c.Shards)
	c.Iterations = ShareOf(c.Iterations, c.Shard, c.Shards)
	if c.MaxUsers > 0 { // the cap on the arrival-rate model's users is the whole run's
		c.MaxUsers = max(1, ShareOf(c.MaxUsers, c.Shard, c.Shards))
	}
	return c
}

// Stage is one step of a ramp: reach Users users, linearly, over Duration.
type Stage struct {
	Duration time.Duration
	Users    int
}

// ParseStages parses --stages: "30s:100,1m:100,30s:0" (k6's shortcut). A
// stage of 0s is a step ("0s:100,5m:100" starts 100 users at once); a bare
// number is seconds.
func ParseStages(s string) ([]Stage, error) {
	var out []Stage
	for _, part := range strings.Split(s, ",") {
		d, n, ok := strings.Cut(strings.TrimSpace(part), ":")
		dur, err := time.ParseDuration(d)
		if f, ferr := strconv.ParseFloat(d, 64); ferr == nil && f >= 0 && f < 1e9 {
			dur, err = time.Duration(f*float64(time.Second)), nil
		}
		users, err2 := strconv.Atoi(n)
		if !ok || err != nil || err2 != nil || dur < 0 || users < 0 {
			return nil, &FieldError{Field: "Stages", Value: strconv.Quote(s), Problem: fmt.Sprintf("want DURATION:USERS,... such as 30s:100,1m:100,30s:0 (0s:N is a step; at %q)", part)}
		}
		out = append(out, Stage{Duration: dur, Users: users})
	}
	return out, nil
}

// StagesLength is the time all stages take.
func StagesLength(stages []Stage) time.Duration {
	var d time.Duration
	for _, st := range stages {
		d += st.Duration
	}
	return d
}

// StageUsers is the number of users the stages ask for at elapsed time
// since the start: a linear ramp from the previous stage's users (0 before
// the first) to each stage's, rounded down; after the last stage, its users.
// It is a pure function, so ramps are tested without a clock.
func StageUsers(stages []Stage, elapsed time.Duration) int {
	from := 0
	for _, st := range stages {
		if elapsed < st.Duration {
			frac := float64(elapsed) / float64(st.Duration)
			return from + int(math.Floor(frac*float64(st.Users-from)+1e-9))
		}
		elapsed -= st.Duration
		from = st.Users
	}
	return from
}
