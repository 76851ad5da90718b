package replay

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/stats"
)

// RunOptions say how a Run is prepared and policed, beyond what its Config
// asks of the replay itself.
type RunOptions struct {
	// Name names each request's endpoint in the statistics (a
	// stats.Namer's Name); nil names none, and the checks then group
	// requests by their path's template.
	Name func(method, rawURL string) string
	// Validate runs the validation pass (Verify) before the run, unless
	// correlation is off or Config.Rules already holds rules (saved ones);
	// the run's plan gets the rules it learned.
	Validate bool
	// Thresholds are the run's pass/fail criteria. With AbortOnFail they
	// are checked on the live statistics every AbortEvery, and the run
	// stops gracefully at the first that fails (k6's abortOnFail).
	Thresholds  []stats.Threshold
	AbortOnFail bool
	// AbortEvery is how often AbortOnFail looks; 0 means every second.
	AbortEvery time.Duration
	// FileLimit is the process's open-file limit. With Config.MaxConns 0,
	// every user has its own connection to each target; when that would
	// need more files than FileLimit allows (keeping 1000 for the rest),
	// the users share connections instead (Run.ConnCap). 0: no limit.
	FileLimit int
	// RunID identifies the run in its result; "" takes one derived from
	// the shared start of a sharded run (equal in all its shards), or a
	// random one.
	RunID string
	// Recording names the recording in the result's configuration, e.g.
	// its path.
	Recording string
}

// ConnCap says that the users of a run share connections because one each
// would pass the open-file limit.
type ConnCap struct {
	// Users is how many users the run may have at once, Limit the
	// open-file limit, PerTarget the connections they share to each target.
	Users, Limit, PerTarget int
}

// Run is one replay ready to start: its plan, which does not change once
// built, its statistics and its player, and the policy around them
// (validation pass, abort-on-fail, connection cap). The command line, the
// web UI and tests all start replays through it. A Run runs once.
type Run struct {
	// Plan is the recording prepared for replay, with the validation
	// pass's rules.
	Plan *Plan
	// Collector holds the run's statistics.
	Collector *stats.Collector
	// Player runs the simulated users; Stop, Kill, SetUsers and Status
	// steer and watch it while Run runs.
	Player *Player
	// Verification is what the validation pass found; nil when none ran.
	Verification *Verification
	// ConnCap is set when the users share connections because of
	// RunOptions.FileLimit.
	ConnCap *ConnCap

	cfg  Config
	opts RunOptions

	mu      sync.Mutex
	aborted []string // the thresholds whose failure stopped the run
}

// NewRun prepares a replay of rec with cfg: it builds the plan, runs the
// validation pass if asked (which sends requests: one session of each shape,
// once), and readies the statistics and the player. ctx bounds the pass.
func NewRun(ctx context.Context, rec *capture.Recording, cfg Config, opts RunOptions) (*Run, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	plan, err := NewPlan(rec, cfg, opts.Name)
	if err != nil {
		return nil, err
	}
	return newRun(ctx, plan, rec.ID, cfg, opts)
}

// NewRunFile is NewRun for a recording read on demand (OpenPlan) with its
// facts: the first request leaves once the first session has compiled,
// however big the file. f must stay open until the run has ended.
func NewRunFile(ctx context.Context, f *capture.File, facts *Facts, cfg Config, opts RunOptions) (*Run, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	plan, err := OpenPlan(f, facts, cfg, opts.Name)
	if err != nil {
		return nil, err
	}
	return newRun(ctx, plan, f.ID(), cfg, opts)
}

// newRun is NewRun once the plan is built; recID is the recording's id.
func newRun(ctx context.Context, plan *Plan, recID string, cfg Config, opts RunOptions) (*Run, error) {
	var err error
	r := &Run{Plan: plan, opts: opts}
	if opts.Validate && !cfg.NoCorrelate && len(cfg.Rules) == 0 {
		if r.Verification, err = Verify(ctx, plan, cfg); err != nil {
			return nil, fmt.Errorf("validation pass: %w", err)
		}
		cfg.Rules = r.Verification.Rules
		// The plan is not handed out yet: it is still being built.
		plan.addRules(cfg.Rules)
	}
	if cfg.MaxConns == 0 && opts.FileLimit > 0 {
		users := cfg.Users
		if cfg.ArrivalRate > 0 {
			users = cfg.MaxUsers // 0: no cap, so no estimate
		}
		if cfg.Timeline {
			users = int(float64(len(plan.Scripts))*cfg.Multiple) + 1
		}
		for _, st := range cfg.Stages {
			users = max(users, st.Users)
		}
		if users > opts.FileLimit-1000 {
			cfg.MaxConns = max(1, (opts.FileLimit-1000)/max(1, len(plan.Hosts)))
			r.ConnCap = &ConnCap{Users: users, Limit: opts.FileLimit, PerTarget: cfg.MaxConns}
		}
	}
	r.cfg = cfg
	r.Collector = stats.NewCollector(stats.Config{})
	m := resultConfig(opts.Recording, cfg, plan)
	m[stats.ConfigRunID] = runID(opts.RunID, cfg, recID)
	if recID != "" {
		m[stats.ConfigRecordingID] = recID
	}
	r.Collector.SetConfig(m)
	if r.Player, err = NewPlayer(plan, cfg, r.Collector); err != nil {
		return nil, err
	}
	return r, nil
}

// Config returns the configuration the run replays with: the one given,
// with the validation pass's rules and the connection cap.
func (r *Run) Config() Config { return r.cfg }

// Run replays until the run ends, is stopped, a threshold fails under
// AbortOnFail, or ctx is cancelled (which starts the graceful stop), and
// returns the final result with the thresholds judged.
func (r *Run) Run(ctx context.Context) (*stats.Result, error) {
	done := make(chan struct{})
	var watch sync.WaitGroup
	if r.opts.AbortOnFail && len(r.opts.Thresholds) > 0 {
		watch.Add(1)
		go func() {
			defer watch.Done()
			r.watchThresholds(done)
		}()
	}
	err := r.Player.Run(ctx)
	close(done)
	watch.Wait()
	return r.Result(), err
}

// watchThresholds stops the player at the first failed threshold.
func (r *Run) watchThresholds(done <-chan struct{}) {
	every := r.opts.AbortEvery
	if every <= 0 {
		every = time.Second
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
		}
		var failed []string
		for _, t := range r.Collector.Snapshot().CheckThresholds(r.opts.Thresholds) {
			if !t.Pass {
				failed = append(failed, t.Expr)
			}
		}
		if len(failed) > 0 {
			r.mu.Lock()
			r.aborted = failed
			r.mu.Unlock()
			r.Player.Stop()
			return
		}
	}
}

// Aborted returns the thresholds whose failure stopped the run under
// AbortOnFail, or nil.
func (r *Run) Aborted() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.aborted
}

// Result returns the statistics so far with the thresholds judged on them.
func (r *Run) Result() *stats.Result {
	res := r.Collector.Snapshot()
	res.Thresholds = res.CheckThresholds(r.opts.Thresholds)
	return res
}

// runID is the id of a run: the one given, or one derived from the shared
// start of a sharded run (equal in all its shards), or a random one.
func runID(given string, cfg Config, recordingID string) string {
	switch {
	case given != "":
		return given
	case cfg.Shards > 1 && !cfg.StartAt.IsZero():
		return stats.SharedRunID(cfg.StartAt.UTC().Format(time.RFC3339Nano), strconv.Itoa(cfg.Shards), recordingID)
	}
	return stats.NewRunID()
}

// resultConfig is the run's configuration as stored in its result.
func resultConfig(recording string, cfg Config, plan *Plan) map[string]any {
	m := map[string]any{
		"recording": recording, "host": cfg.Host, "main_host": plan.MainHost,
		"users": cfg.Users, "rate": cfg.Rate, "duration": cfg.Duration.String(),
		"iterations": cfg.Iterations, "speed": cfg.Speed, "correlate": !cfg.NoCorrelate,
		"checks": map[CheckMode]string{CheckAuto: "auto", CheckStatus: "status"}[cfg.CheckMode],
	}
	if cfg.Shards > 1 {
		m["shard"] = fmt.Sprintf("%d/%d", cfg.Shard, cfg.Shards)
	}
	if !cfg.StartAt.IsZero() {
		m["start_at"] = cfg.StartAt.UTC().Format(time.RFC3339)
	}
	switch {
	case cfg.ArrivalRate > 0:
		m["model"] = "arrival-rate"
		m["arrival_rate"] = cfg.ArrivalRate
		if cfg.MaxUsers > 0 {
			m["max_users"] = cfg.MaxUsers
		}
	case cfg.Timeline:
		m["model"] = "timeline"
		m["multiple"] = cfg.Multiple
		m["loop"] = cfg.Loop
	default:
		m["model"] = "closed"
	}
	if len(cfg.Map) > 0 {
		m["map"] = cfg.Map
	}
	if js := plan.JourneyWeights(); len(js) > 0 {
		weights := map[string]float64{}
		for _, j := range js {
			weights[j.Name] = j.Weight
		}
		m["journeys"] = weights
	}
	return m
}
