package replay

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ampload/amp/stats"
)

// State is the phase a Player is in.
type State string

// The states of a Player, as the web UI and Locust's API name them.
const (
	StateReady    State = "ready"
	StateSpawning State = "spawning"
	StateRunning  State = "running"
	StateStopping State = "stopping"
	StateStopped  State = "stopped"
)

// Player replays a Plan as simulated users and records what happened in a
// stats.Collector.
//
// Stopping has two phases, like k6's: at the end of the run (Duration,
// iterations, the timeline's end, Stop or the Run context) no new task
// starts, and tasks in flight may finish for Config.StopTimeout; then (or on
// Kill) they are cancelled and counted as skipped, not as failures.
type Player struct {
	plan *Plan
	cfg  Config
	col  *stats.Collector

	shards []recShard
	pools  map[*Target]*connPool // with Config.MaxConns: connections shared by all users

	mu        sync.Mutex
	users     map[int]*user // live users by id
	order     []int         // closed-model user ids in start order
	wantUsers int
	rate      float64
	nextID    int
	state     State
	started   time.Time

	active   atomic.Int64
	iters    atomic.Int64
	ctrl     chan struct{} // wakes the spawner after SetUsers/SetRate
	stopping chan struct{} // closed: start no new task
	stopOnce sync.Once
	killCh   chan struct{}
	killOnce sync.Once
	hard     context.Context // cancelled at the hard stop
	cancel   context.CancelFunc
	userWG   sync.WaitGroup

	reasons sync.Map // failure strings by status pair, so judging allocates once
	diffs   sync.Map // differences' reasons and samples by reasonKey (check.go)

	eps   [][]stats.Endpoint // per script and task: its endpoint in col
	hits  [][]ruleHits       // per script and rule: how often live responses had the value
	rules [][]Rule           // per script: its rules, once registered

	registered []sync.Once // a plan read on demand: each script registered once it compiles

	journeys *journeyPicker // Config.Journeys, or nil

	feed    *Feed // the --data rows, or nil
	errMu   sync.Mutex
	stopErr error // why the run stopped early (the data ran out), or nil
}

// Err returns why the run stopped before its end — a --data-mode unique
// file whose rows ran out — or nil.
func (p *Player) Err() error {
	p.errMu.Lock()
	defer p.errMu.Unlock()
	return p.stopErr
}

// fail stops the run because of err, keeping the first such error.
func (p *Player) fail(err error) {
	p.errMu.Lock()
	if p.stopErr == nil {
		p.stopErr = err
	}
	p.errMu.Unlock()
	p.Stop()
}

// ruleHits counts, for one rule, the live responses of its source task that
// carried the value and those that did not.
type ruleHits struct{ found, missed atomic.Int64 }

// recShard is a stats.Recorder shared by a slice of the users.
type recShard struct {
	mu  sync.Mutex
	rec *stats.Recorder
	_   [40]byte // keep shards on separate cache lines
}

// NewPlayer prepares a replay of plan into col. It registers every task's
// endpoint and recorded latencies with col.
func NewPlayer(plan *Plan, cfg Config, col *stats.Collector) (*Player, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if plan.Sendable == 0 {
		return nil, fmt.Errorf("replay: no request of the recording goes to a mapped host (main host %s; map others with --map)", plan.MainHost)
	}
	whole := cfg
	cfg = cfg.sharded()
	if cfg.ArrivalRate > 0 {
		// Arrivals are dealt out by number (launchArrivals), not divided;
		// no user count is asked for, and the rate shown is the arrivals'.
		cfg.Iterations = whole.Iterations
		cfg.Users, cfg.Rate = cfg.MaxUsers, cfg.ArrivalRate
		if cfg.Duration == 0 && len(cfg.Stages) > 0 {
			cfg.Duration = StagesLength(cfg.Stages)
		}
	} else if len(cfg.Stages) > 0 {
		// The stages set the user count over time; users start as soon as
		// they are asked for.
		cfg.Users, cfg.Rate = 0, math.MaxFloat64
		if cfg.Duration == 0 {
			cfg.Duration = StagesLength(cfg.Stages)
		}
	}
	p := &Player{
		plan: plan, cfg: cfg, col: col,
		users:     map[int]*user{},
		wantUsers: cfg.Users,
		rate:      cfg.Rate,
		// Users are numbered as in one unsharded run, so that the shards
		// together start each recorded session as often as it would.
		nextID:   shardOffset(whole.Users, whole.Shard, whole.Shards),
		state:    StateReady,
		ctrl:     make(chan struct{}, 1),
		stopping: make(chan struct{}),
		killCh:   make(chan struct{}),
	}
	p.hard, p.cancel = context.WithCancel(context.Background())
	p.journeys = newJourneyPicker(plan)
	if cfg.Data != nil {
		p.feed = NewFeed(cfg.Data, cfg.DataMode, whole.Shard, whole.Shards, uint64(time.Now().UnixNano()))
	}
	p.shards = make([]recShard, 4*runtime.GOMAXPROCS(0))
	for i := range p.shards {
		p.shards[i].rec = col.NewRecorder()
	}
	if cfg.MaxConns > 0 {
		p.pools = map[*Target]*connPool{}
	}
	if p.pools != nil {
		for _, t := range plan.targetList() {
			p.pools[t] = newConnPool(t, cfg.MaxConns)
		}
	}
	p.eps = make([][]stats.Endpoint, len(plan.Scripts))
	p.hits = make([][]ruleHits, len(plan.Scripts))
	p.rules = make([][]Rule, len(plan.Scripts))
	if plan.OnDemand() {
		p.registered = make([]sync.Once, len(plan.Scripts))
		return p, nil
	}
	recorded := map[stats.Endpoint][]time.Duration{}
	for _, sc := range plan.Scripts {
		p.register(sc, recorded)
	}
	eps := make([]stats.Endpoint, 0, len(recorded))
	for ep := range recorded {
		eps = append(eps, ep)
	}
	sort.Slice(eps, func(i, j int) bool { return eps[i] < eps[j] })
	for _, ep := range eps {
		col.SetRecorded(ep, recorded[ep])
	}
	return p, nil
}

// register gives the tasks of sc their endpoints in the collector and
// their rules their hit counters, and adds their recorded latencies to
// recorded by endpoint.
func (p *Player) register(sc *Script, recorded map[stats.Endpoint][]time.Duration) {
	eps := make([]stats.Endpoint, len(sc.Tasks))
	for i := range sc.Tasks {
		t := &sc.Tasks[i]
		if t.Target == nil {
			continue
		}
		ep := p.col.JourneyEndpoint(sc.Journey, t.Method, t.Name)
		eps[i] = ep
		if t.RecordedStatus != 0 && t.RecordedLatency > 0 {
			recorded[ep] = append(recorded[ep], t.RecordedLatency)
		}
	}
	hits := make([]ruleHits, len(sc.Rules))
	p.mu.Lock()
	p.eps[sc.index], p.hits[sc.index], p.rules[sc.index] = eps, hits, sc.Rules
	p.mu.Unlock()
}

// script returns script i of the plan compiled and registered (register),
// or nil when its session cannot be read, which stops the run with that
// error (a damaged record is only left out).
func (p *Player) script(i int) *Script {
	sc, err := p.plan.script(i)
	if err != nil {
		p.fail(err)
		return nil
	}
	if p.registered != nil {
		p.registered[i].Do(func() {
			recorded := map[stats.Endpoint][]time.Duration{}
			p.register(sc, recorded)
			for ep, lat := range recorded {
				p.col.AddRecorded(ep, lat)
			}
		})
	}
	return sc
}

// record adds a sample through the user's shard.
func (p *Player) record(userID int, ep stats.Endpoint, s *stats.Sample) {
	sh := &p.shards[userID%len(p.shards)]
	sh.mu.Lock()
	sh.rec.Record(ep, s)
	sh.mu.Unlock()
}

// judge returns the failure reason of a response, or "" when it succeeded: a
// 5xx, or a 4xx where the recording had 2xx or 3xx.
func (p *Player) judge(status, recorded int) string {
	fail := status >= 500 || (status >= 400 && recorded >= 200 && recorded < 400)
	if !fail {
		return ""
	}
	key := status<<16 | recorded
	if r, ok := p.reasons.Load(key); ok {
		return r.(string)
	}
	r := fmt.Sprintf("HTTP %d", status)
	if status < 500 {
		r = fmt.Sprintf("HTTP %d (recorded %d)", status, recorded)
	}
	p.reasons.Store(key, r)
	return r
}

// Run replays until the run ends (see Player) or ctx is cancelled, which
// starts the graceful stop. It returns once every user has finished.
func (p *Player) Run(ctx context.Context) error {
	p.mu.Lock()
	if p.state != StateReady {
		p.mu.Unlock()
		return fmt.Errorf("replay: a Player runs once")
	}
	p.mu.Unlock()
	defer p.cancel()
	if !p.cfg.StartAt.IsZero() {
		if d := time.Until(p.cfg.StartAt); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				p.finish()
				return nil
			}
		}
	}
	p.mu.Lock()
	p.started = time.Now()
	if !p.cfg.StartAt.IsZero() {
		p.started = p.cfg.StartAt // ramps and timelines count from the shared start
	}
	p.state = StateSpawning
	p.mu.Unlock()

	if len(p.cfg.Stages) > 0 && p.cfg.ArrivalRate == 0 {
		go p.driveStages()
	}
	launched := make(chan struct{})
	go func() {
		defer close(launched)
		switch {
		case p.cfg.ArrivalRate > 0:
			p.launchArrivals()
		case p.cfg.Timeline:
			p.launchTimeline()
		default:
			p.spawnClosed()
		}
	}()
	allDone := make(chan struct{})
	go func() {
		<-launched
		p.userWG.Wait()
		close(allDone)
	}()

	var end <-chan time.Time
	if p.cfg.Duration > 0 {
		t := time.NewTimer(time.Until(p.started.Add(p.cfg.Duration)))
		defer t.Stop()
		end = t.C
	}
	select {
	case <-ctx.Done():
	case <-end:
	case <-allDone:
	case <-p.stopping:
	case <-p.killCh:
	}
	p.Stop()

	grace := time.NewTimer(p.cfg.StopTimeout)
	defer grace.Stop()
	select {
	case <-allDone:
	case <-grace.C:
		p.Kill()
	case <-p.killCh:
	}
	p.cancel()
	p.abortAll()
	<-allDone
	for _, pool := range p.pools {
		pool.closeAll()
	}
	p.finish()
	return nil
}

// finish marks the run stopped.
func (p *Player) finish() {
	p.mu.Lock()
	p.state = StateStopped
	p.mu.Unlock()
	p.col.SetUsers(0)
}

// Stop starts the graceful stop: no new task starts, tasks in flight finish
// within Config.StopTimeout.
func (p *Player) Stop() {
	p.stopOnce.Do(func() {
		p.mu.Lock()
		if p.state != StateStopped {
			p.state = StateStopping
		}
		p.mu.Unlock()
		close(p.stopping)
	})
}

// Kill cancels the tasks in flight at once (a second Ctrl-C).
func (p *Player) Kill() {
	p.Stop()
	p.killOnce.Do(func() {
		close(p.killCh)
		p.cancel()
		p.abortAll()
	})
}

func (p *Player) abortAll() {
	p.mu.Lock()
	us := make([]*user, 0, len(p.users))
	for _, u := range p.users {
		us = append(us, u)
	}
	p.mu.Unlock()
	for _, u := range us {
		u.abort()
	}
	for _, pool := range p.pools {
		pool.abort()
	}
}

// SetUsers changes the number of simulated users of the closed model while it
// runs; extra users stop after their current task. The timeline and the
// arrival-rate model start users by their own schedule and ignore it.
func (p *Player) SetUsers(n int) {
	if p.cfg.Timeline || p.cfg.ArrivalRate > 0 {
		return
	}
	p.mu.Lock()
	p.wantUsers = max(0, n)
	if p.state == StateRunning && p.wantUsers > len(p.order) {
		p.state = StateSpawning
	}
	p.mu.Unlock()
	p.wake()
}

// SetArrivalRate changes the sessions started per second of the
// arrival-rate model while it runs, from the next arrival on; a run with
// stages follows them and ignores it, as does every other model.
func (p *Player) SetArrivalRate(r float64) {
	if !(r > 0) || math.IsInf(r, 0) || p.cfg.ArrivalRate == 0 || len(p.cfg.Stages) > 0 {
		return
	}
	p.mu.Lock()
	p.rate = r
	p.mu.Unlock()
}

// SetRate changes how many users of the closed model start per second; the
// timeline and the arrival-rate model ignore it.
func (p *Player) SetRate(r float64) {
	if !(r > 0) || p.cfg.Timeline || p.cfg.ArrivalRate > 0 {
		return
	}
	p.mu.Lock()
	p.rate = r
	p.mu.Unlock()
	p.wake()
}

func (p *Player) wake() {
	select {
	case p.ctrl <- struct{}{}:
	default:
	}
}

// Status is a Player's state at one moment.
type Status struct {
	State State
	// Users is the number of users running now; Target the number asked for.
	Users, Target int
	// Rate is the spawn rate in users per second.
	Rate float64
	// Elapsed is the time since Run started.
	Elapsed time.Duration
}

// Status returns what the Player is doing now.
func (p *Player) Status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := Status{State: p.state, Users: int(p.active.Load()), Target: p.wantUsers, Rate: p.rate}
	if !p.started.IsZero() {
		st.Elapsed = time.Since(p.started)
	}
	return st
}

// startUser registers and starts a user goroutine running fn.
func (p *Player) startUser(closed bool, fn func(u *user)) *user {
	p.mu.Lock()
	u := newUser(p, p.nextID)
	p.nextID++
	p.users[u.id] = u
	if closed {
		p.order = append(p.order, u.id)
	}
	p.mu.Unlock()
	p.userWG.Add(1)
	p.col.SetUsers(int(p.active.Add(1)))
	go func() {
		defer p.userWG.Done()
		defer func() {
			u.closeConns()
			p.mu.Lock()
			delete(p.users, u.id)
			p.removeOrder(u.id)
			p.mu.Unlock()
			p.col.SetUsers(int(p.active.Add(-1)))
			p.wake()
		}()
		fn(u)
	}()
	return u
}

func (p *Player) removeOrder(id int) {
	for i, x := range p.order {
		if x == id {
			p.order = append(p.order[:i], p.order[i+1:]...)
			return
		}
	}
}

// driveStages follows Config.Stages: every 50 ms it sets the wanted user
// count (this shard's share of it) from StageUsers, until the run stops.
func (p *Player) driveStages() {
	p.mu.Lock()
	start := p.started
	p.mu.Unlock()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		n := ShareOf(StageUsers(p.cfg.Stages, time.Since(start)), p.cfg.Shard, p.cfg.Shards)
		p.mu.Lock()
		changed := p.wantUsers != n
		p.wantUsers = n
		p.mu.Unlock()
		if changed {
			p.wake()
		}
		select {
		case <-tick.C:
		case <-p.stopping:
			return
		}
	}
}

// itersLeft reports whether the closed model may start another session.
func (p *Player) itersLeft() bool {
	return p.cfg.Iterations == 0 || p.iters.Load() < int64(p.cfg.Iterations)
}

// spawnClosed runs the closed model: it starts users at the spawn rate up to
// the wanted count, stops the newest ones when the count drops, and returns
// when the run stops or the iterations are used up.
func (p *Player) spawnClosed() {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	p.mu.Lock()
	next := p.started
	p.mu.Unlock()
	for {
		if !p.itersLeft() {
			return
		}
		p.mu.Lock()
		want, rate, have := p.wantUsers, p.rate, len(p.order)
		for have > want { // scale down: the newest users stop after their task
			id := p.order[have-1]
			p.order = p.order[:have-1]
			close(p.users[id].stop)
			have--
		}
		if have == want && p.state == StateSpawning {
			p.state = StateRunning
		}
		p.mu.Unlock()

		var wait <-chan time.Time
		if have < want {
			now := time.Now()
			if !now.Before(next) {
				p.startUser(true, p.closedUser)
				// Keep an absolute schedule, catching up when the loop ran
				// late, but after a stall of over a second start afresh
				// rather than in one burst.
				if now.Sub(next) > time.Second {
					next = now
				}
				next = next.Add(SpawnInterval(rate))
				continue
			}
			timer.Reset(next.Sub(now))
			wait = timer.C
		}
		select {
		case <-wait:
		case <-p.ctrl:
			timer.Stop()
		case <-p.stopping:
			return
		}
	}
}

// closedUser is the loop of one closed-model user: session after session,
// starting at a different session for each user so all are replayed.
func (p *Player) closedUser(u *user) {
	n := len(p.plan.Scripts)
	for j := 0; ; j++ {
		if u.stopped() {
			return
		}
		if p.cfg.Iterations > 0 && p.iters.Add(1) > int64(p.cfg.Iterations) {
			p.wake()
			return
		}
		i := (u.id + j) % n
		if p.journeys != nil {
			i = p.journeys.pick()
		}
		sc := p.script(i)
		if sc == nil || !u.runScript(sc, time.Time{}) {
			return
		}
	}
}

// launchTimeline runs the open model: each session copy starts as a new user
// at its planned time, looping when asked, until the run stops.
func (p *Player) launchTimeline() {
	starts := shardStarts(Timeline(p.plan, p.cfg.Multiple, p.cfg.Speed), p.cfg.Shard, p.cfg.Shards)
	period := TimelinePeriod(p.plan, p.cfg.Speed)
	p.mu.Lock()
	p.state = StateRunning
	begin := p.started
	p.mu.Unlock()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for loop := 0; ; loop++ {
		for _, st := range starts {
			at := begin.Add(time.Duration(loop)*period + st.At)
			if !p.waitUntil(timer, at) {
				return
			}
			i := st.Script
			p.startUser(false, func(u *user) {
				if sc := p.script(i); sc != nil {
					u.runScript(sc, at)
				}
			})
		}
		if !p.cfg.Loop {
			return
		}
	}
}

// waitUntil waits with timer until at, and reports false when the run
// stops first (at once when at has passed and the run is stopping).
func (p *Player) waitUntil(timer *time.Timer, at time.Time) bool {
	if d := time.Until(at); d > 0 {
		timer.Reset(d)
		select {
		case <-timer.C:
			return true
		case <-p.stopping:
			return false
		}
	}
	select {
	case <-p.stopping:
		return false
	default:
		return true
	}
}

// launchArrivals runs the arrival-rate model: arrival k is due at
// ArrivalTime(k) and starts a new user replaying session k (in turn, so
// sessions come in their recorded proportion), whatever the latency of the
// users before it. With MaxUsers, an arrival that finds that many users
// running is dropped and counted. A shard takes the arrivals whose number it
// is dealt (k mod Shards), so the shards together keep the whole rate.
func (p *Player) launchArrivals() {
	p.mu.Lock()
	p.state = StateRunning
	begin := p.started
	p.mu.Unlock()
	shard, shards := p.cfg.Shard, max(p.cfg.Shards, 1)
	n := len(p.plan.Scripts)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	// Without stages the rate may change while running (SetArrivalRate):
	// each arrival comes one interval at the rate of the moment after the
	// one before.
	next := time.Duration(float64(shard) / p.cfg.ArrivalRate * float64(time.Second))
	for k := shard; p.cfg.Iterations == 0 || k < p.cfg.Iterations; k += shards {
		due := next
		if len(p.cfg.Stages) > 0 {
			var ok bool
			if due, ok = ArrivalTime(p.cfg.ArrivalRate, p.cfg.Stages, k); !ok {
				return
			}
		} else {
			p.mu.Lock()
			rate := p.rate
			p.mu.Unlock()
			next += time.Duration(float64(shards) / rate * float64(time.Second))
		}
		at := begin.Add(due)
		if !p.waitUntil(timer, at) {
			return
		}
		if p.cfg.MaxUsers > 0 && int(p.active.Load()) >= p.cfg.MaxUsers {
			p.col.AddDropped(1)
			continue
		}
		i := k % n
		if p.journeys != nil {
			i = p.journeys.pick()
		}
		p.startUser(false, func(u *user) {
			if sc := p.script(i); sc != nil {
				u.runScript(sc, at)
			}
		})
	}
}
