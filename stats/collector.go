package stats

import (
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Endpoint is a handle of one (method, name) pair, registered once with
// Collector.Endpoint before recording.
type Endpoint int32

// Sample is one finished task, with the times the caller measured.
type Sample struct {
	Intended time.Time // intended start (timeline plan); equals Sent in the closed model; zero = Sent
	Sent     time.Time // when the request was actually sent
	Done     time.Time // when the response (or the error) was complete
	Status   int       // HTTP status; 0 on a transport error
	Bytes    int64     // response bytes received
	// BytesSent is the request bytes written to the target (0 when the
	// request never went out, e.g. a refused connection).
	BytesSent int64
	Failure   string // "" when the task succeeded, else the reason, e.g. "timeout", "HTTP 500"
	// Detail is an example of what went wrong, kept with the first failure
	// of its reason (e.g. the bytes of a malformed status line); the
	// collector keeps it UTF-8-safe and at most MaxSampleLen bytes.
	Detail string
}

// LateAfter is how long after its intended start a task may be sent before
// it counts as late (Stats.Late): on the timeline, the previous task of its
// session ran long or amp could not keep up; in the closed model, it waited
// for a shared connection.
const LateAfter = 10 * time.Millisecond

// DefaultPercentiles returns the percentiles reported when Config.Percentiles
// is empty: Locust's list (50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99, 100).
func DefaultPercentiles() []float64 {
	return []float64{50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99, 100}
}

// Histogram geometry: microseconds from 1 µs to 1 h.
const (
	lowestUS     = 1
	highestUS    = 3_600_000_000
	sigFigs      = 3 // endpoint histograms: within 0.1 %
	seriesDigits = 2 // per-second histograms: within 1 %, enough for charts
)

// ringSize is the number of samples a Recorder buffers before it folds them
// into its shard (a power of two).
const ringSize = 64

// Config configures a Collector. The zero value is ready to use.
type Config struct {
	// Percentiles to report, in (0, 100]; empty means DefaultPercentiles.
	// Values outside the range are dropped; the list is sorted.
	Percentiles []float64
	// Start is the start of the run, from which elapsed seconds and rates
	// are counted; zero means the earliest intended start recorded.
	Start time.Time
	// Now is the clock read by SetUsers, Reset and, for a run in which
	// nothing has finished yet, Snapshot (the only methods that read one);
	// nil means time.Now. Tests set it to stay deterministic.
	Now func() time.Time
	// Shards is the number of aggregates recorders are spread over; 0
	// means min(GOMAXPROCS, 4).
	Shards int
}

// Collector gathers the statistics of a run. All its methods are safe for
// concurrent use.
type Collector struct {
	pcts   []float64
	now    func() time.Time
	shards []*shard
	next   atomic.Uint32 // round-robin shard of the next recorder
	nEps   atomic.Int32  // endpoints registered

	// Sessions that ran to their end, by outcome (SessionDone).
	sessOK, sessFailed atomic.Int64

	mu       sync.Mutex // guards the fields below
	start    time.Time
	names    map[epKey]Endpoint
	keys     []epKey
	recorded map[Endpoint]*hdr.PackedHistogram
	skipped  map[string]int64
	dropped  int64
	users    int
	peak     int
	usersAt  map[int64]int // Unix second → users set during it (last value)
	config   map[string]any
}

type epKey struct{ journey, method, name string }

// NewCollector returns an empty Collector.
func NewCollector(cfg Config) *Collector {
	n := cfg.Shards
	if n <= 0 {
		n = min(runtime.GOMAXPROCS(0), 4)
	}
	c := &Collector{
		pcts:     normPercentiles(cfg.Percentiles),
		now:      cfg.Now,
		start:    cfg.Start,
		names:    map[epKey]Endpoint{},
		recorded: map[Endpoint]*hdr.PackedHistogram{},
		skipped:  map[string]int64{},
		usersAt:  map[int64]int{},
	}
	if c.now == nil {
		c.now = time.Now
	}
	for range n {
		c.shards = append(c.shards, newShard())
	}
	return c
}

func normPercentiles(in []float64) []float64 {
	var out []float64
	for _, p := range in {
		if p > 0 && p <= 100 && !math.IsNaN(p) {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		out = DefaultPercentiles()
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Endpoint returns the handle of (method, name), registering it on first
// use. It is idempotent and safe for concurrent use; call it before
// recording, not on the hot path.
func (c *Collector) Endpoint(method, name string) Endpoint {
	return c.JourneyEndpoint("", method, name)
}

// JourneyEndpoint is Endpoint for the requests of one journey (a weighted
// group of sessions): the result's endpoints add up every journey's, and
// Result.Journeys breaks the totals down by journey.
func (c *Collector) JourneyEndpoint(journey, method, name string) Endpoint {
	k := epKey{journey, method, name}
	c.mu.Lock()
	defer c.mu.Unlock()
	if ep, ok := c.names[k]; ok {
		return ep
	}
	ep := Endpoint(len(c.keys))
	c.names[k] = ep
	c.keys = append(c.keys, k)
	c.nEps.Store(int32(len(c.keys)))
	return ep
}

// SetRecorded gives the recording's latencies of an endpoint, against which
// the replayed service time is compared (slowdown = replayed ÷ recorded, of
// the medians and of p95). A second call replaces the first.
func (c *Collector) SetRecorded(ep Endpoint, latencies []time.Duration) {
	h := hdr.NewPacked(lowestUS, highestUS, sigFigs)
	for _, d := range latencies {
		_ = h.RecordValue(clampUS(int64(d)))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(latencies) == 0 {
		delete(c.recorded, ep)
		return
	}
	c.recorded[ep] = h
}

// AddRecorded adds recorded latencies of endpoint ep to those it has (see
// SetRecorded): a replay that reads its sessions on demand adds each
// session's as it first replays it.
func (c *Collector) AddRecorded(ep Endpoint, latencies []time.Duration) {
	if len(latencies) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// A snapshot may be reading the one the map holds: replace it.
	var h *hdr.PackedHistogram
	if old := c.recorded[ep]; old != nil {
		h = old.Clone()
	} else {
		h = hdr.NewPacked(lowestUS, highestUS, sigFigs)
	}
	for _, d := range latencies {
		_ = h.RecordValue(clampUS(int64(d)))
	}
	c.recorded[ep] = h
}

// SetUsers sets the current number of simulated users, shown in the time
// series (at the current second of Config.Now) and on /metrics.
func (c *Collector) SetUsers(n int) {
	sec := c.now().Unix()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.users = n
	c.peak = max(c.peak, n)
	c.usersAt[sec] = n
}

// Users returns the current number of simulated users.
func (c *Collector) Users() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.users
}

// AddDropped counts n sessions the arrival-rate model could not start:
// every user it may have was busy (k6's dropped_iterations).
func (c *Collector) AddDropped(n int) {
	c.mu.Lock()
	c.dropped += int64(n)
	c.mu.Unlock()
}

// SessionDone counts one session (a recorded session replayed once) that
// ran to its end: failed when any of its requests failed, else completed.
// It takes no lock and does not allocate; callers count a session cut by the
// end of the run under neither.
func (c *Collector) SessionDone(failed bool) {
	if failed {
		c.sessFailed.Add(1)
	} else {
		c.sessOK.Add(1)
	}
}

// AddSkipped counts n tasks that were not sent, by reason (for example
// "unmapped host api.example.com").
func (c *Collector) AddSkipped(reason string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.skipped[reason] += int64(n)
}

// SetConfig stores the run's configuration, copied into every Snapshot.
func (c *Collector) SetConfig(cfg map[string]any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.config = cfg
}

// NewRecorder returns a Recorder for one goroutine. Recorders never contend
// with each other; Close a recorder whose goroutine ends, so that the
// collector stops visiting it.
func (c *Collector) NewRecorder() *Recorder {
	sh := c.shards[int(c.next.Add(1)-1)%len(c.shards)]
	r := &Recorder{c: c, sh: sh}
	sh.mu.Lock()
	sh.recs = append(sh.recs, r)
	sh.mu.Unlock()
	return r
}

// Reset forgets everything recorded (the web UI's "Reset stats"): counts,
// histograms, failures, skipped tasks and the series. Endpoints, recorded
// latencies, users and the configuration stay; the run's start becomes now.
func (c *Collector) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, sh := range c.shards {
		sh.mu.Lock()
		for _, r := range sh.recs {
			r.head.Store(r.tail.Load()) // discard what is buffered
		}
		sh.reset()
		sh.mu.Unlock()
	}
	c.skipped = map[string]int64{}
	c.dropped = 0
	c.sessOK.Store(0)
	c.sessFailed.Store(0)
	now := c.now()
	c.start = now
	c.usersAt = map[int64]int{now.Unix(): c.users}
	c.peak = c.users
}

// Recorder records samples for one goroutine. Its methods must not be called
// concurrently with each other (use one Recorder per goroutine).
type Recorder struct {
	c    *Collector
	sh   *shard
	ring [ringSize]rec
	t    uint64        // owner's copy of tail
	tail atomic.Uint64 // samples written; stored by the owner only
	head atomic.Uint64 // samples folded; stored under sh.mu only
}

// rec is a sample as buffered in a Recorder's ring.
type rec struct {
	ep       Endpoint
	status   int32
	lat      int64 // ns, Done − Intended
	svc      int64 // ns, Done − Sent
	intended int64 // Unix ns
	done     int64 // Unix ns
	bytes    int64
	sent     int64 // request bytes
	failure  string
	detail   string
}

// Record records one finished task of endpoint ep. It takes no lock, does
// not allocate and reads no clock (except, every ringSize samples, the
// uncontended lock of its shard to fold them in).
func (r *Recorder) Record(ep Endpoint, s *Sample) {
	t := r.t
	if t-r.head.Load() >= ringSize {
		r.Flush()
	}
	x := &r.ring[t&(ringSize-1)]
	intended := s.Intended
	if intended.IsZero() {
		intended = s.Sent
	}
	x.ep = ep
	x.status = int32(s.Status)
	x.lat = int64(s.Done.Sub(intended))
	x.svc = int64(s.Done.Sub(s.Sent))
	x.intended = intended.UnixNano()
	x.done = s.Done.UnixNano()
	x.bytes = s.Bytes
	x.sent = s.BytesSent
	x.failure = s.Failure
	x.detail = s.Detail
	r.t = t + 1
	r.tail.Store(t + 1)
}

// Flush makes everything recorded so far visible to Snapshot now (Snapshot
// also folds in what recorders buffer, so calling it is optional).
func (r *Recorder) Flush() {
	r.sh.mu.Lock()
	r.sh.drain(r)
	r.sh.mu.Unlock()
}

// Close flushes the recorder and detaches it from the collector. Recording
// into a closed Recorder is a mistake; its samples are then folded in only by
// later Flush calls.
func (r *Recorder) Close() {
	sh := r.sh
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.drain(r)
	if i := slices.Index(sh.recs, r); i >= 0 {
		sh.recs = slices.Delete(sh.recs, i, i+1)
	}
}

// shard is one of the collector's aggregates.
type shard struct {
	mu      sync.Mutex
	recs    []*Recorder
	eps     []*epAgg // by Endpoint
	base    int64    // Unix second of secs[0]
	secs    []*secAgg
	maxSec  int64            // latest second with a dense histogram
	live    []int64          // seconds whose histogram is still dense
	pool    []*hdr.Histogram // dense histograms to reuse
	first   int64            // earliest intended start, Unix ns (0 = none yet)
	last    int64            // latest done, Unix ns
	invalid int64            // samples of unregistered endpoints
}

func newShard() *shard { return &shard{} }

// reset drops the aggregates but keeps the recorders; sh.mu must be held.
func (sh *shard) reset() {
	sh.eps, sh.secs, sh.base = nil, nil, 0
	sh.maxSec, sh.live, sh.pool = 0, nil, nil
	sh.first, sh.last, sh.invalid = 0, 0, 0
}

// epAgg aggregates one endpoint in one shard.
type epAgg struct {
	n, fails, bytes int64
	sent            int64          // request bytes
	late            int64          // sent more than LateAfter after the intended start
	lat, svc        *hdr.Histogram // µs
	latSum, svcSum  int64          // ns
	latMin, latMax  int64
	svcMin, svcMax  int64
	statuses        []statusCount
	failures        map[string]*failAgg
	failLat         *hdr.PackedHistogram // µs, of the failed tasks; nil until one fails
}

type statusCount struct {
	status int32
	n      int64
}

type failAgg struct {
	n           int64
	first, last int64  // Unix ns of Done
	sample      string // Sample.Detail of one of them
}

// secAgg aggregates one second in one shard.
type secAgg struct {
	n, fails, bytes int64
	sent            int64 // request bytes
	latSum          int64 // ns
	latMin, latMax  int64
	// The latency histogram (µs, seriesDigits): dense while the second is
	// among the last denseSeconds (fast to record into), then packed.
	dense *hdr.Histogram
	hist  *hdr.PackedHistogram
	eps   []epSec // by Endpoint: each endpoint's tasks done in the second
}

// denseSeconds is how many recent seconds keep a dense histogram per shard.
const denseSeconds = 4

func newEpAgg() *epAgg {
	return &epAgg{
		lat:      hdr.New(lowestUS, highestUS, sigFigs),
		svc:      hdr.New(lowestUS, highestUS, sigFigs),
		latMin:   math.MaxInt64,
		svcMin:   math.MaxInt64,
		failures: map[string]*failAgg{},
	}
}

// drain folds r's buffered samples in; sh.mu must be held.
func (sh *shard) drain(r *Recorder) {
	h, t := r.head.Load(), r.tail.Load()
	if h == t {
		return
	}
	n := Endpoint(r.c.nEps.Load())
	for i := h; i < t; i++ {
		sh.apply(&r.ring[i&(ringSize-1)], n)
	}
	r.head.Store(t)
}

func clampUS(ns int64) int64 {
	us := ns / 1000
	if us < 0 {
		return 0
	}
	return min(us, highestUS)
}

func (sh *shard) apply(x *rec, registered Endpoint) {
	if x.ep < 0 || x.ep >= registered {
		sh.invalid++
		return
	}
	for int(x.ep) >= len(sh.eps) {
		sh.eps = append(sh.eps, nil)
	}
	a := sh.eps[x.ep]
	if a == nil {
		a = newEpAgg()
		sh.eps[x.ep] = a
	}
	lat, svc := max(x.lat, 0), max(x.svc, 0)
	latUS := clampUS(lat)
	a.n++
	if lat-svc > int64(LateAfter) {
		a.late++
	}
	a.bytes += x.bytes
	a.sent += x.sent
	_ = a.lat.RecordValue(latUS)
	_ = a.svc.RecordValue(clampUS(svc))
	a.latSum += lat
	a.svcSum += svc
	a.latMin, a.latMax = min(a.latMin, lat), max(a.latMax, lat)
	a.svcMin, a.svcMax = min(a.svcMin, svc), max(a.svcMax, svc)
	found := false
	for i := range a.statuses {
		if a.statuses[i].status == x.status {
			a.statuses[i].n++
			found = true
			break
		}
	}
	if !found {
		a.statuses = append(a.statuses, statusCount{x.status, 1})
	}
	if x.failure != "" {
		a.fails++
		addFailure(a.failures, x.failure, x.detail, 1, x.done, x.done)
		if a.failLat == nil {
			a.failLat = hdr.NewPacked(lowestUS, highestUS, sigFigs)
		}
		_ = a.failLat.RecordValue(latUS)
	}
	if sh.first == 0 || x.intended < sh.first {
		sh.first = x.intended
	}
	sh.last = max(sh.last, x.done)

	s := sh.sec(floorDiv(x.done, 1e9))
	s.n++
	s.bytes += x.bytes
	s.sent += x.sent
	s.latSum += lat
	s.latMin, s.latMax = min(s.latMin, lat), max(s.latMax, lat)
	if x.failure != "" {
		s.fails++
	}
	if s.dense != nil {
		_ = s.dense.RecordValue(latUS)
	} else {
		_ = s.hist.RecordValue(latUS)
	}
	for int(x.ep) >= len(s.eps) {
		s.eps = append(s.eps, epSec{})
	}
	e := &s.eps[x.ep]
	e.n++
	e.latSum += lat
	e.latMax = max(e.latMax, lat)
	if x.failure != "" {
		e.fails++
	}
}

// sec returns the aggregate of Unix second t, creating it.
func (sh *shard) sec(t int64) *secAgg {
	if len(sh.secs) == 0 {
		sh.base = t
	}
	if t < sh.base {
		grow := int(sh.base - t)
		sh.secs = append(make([]*secAgg, grow, grow+len(sh.secs)), sh.secs...)
		sh.base = t
	}
	i := int(t - sh.base)
	for i >= len(sh.secs) {
		sh.secs = append(sh.secs, nil)
	}
	s := sh.secs[i]
	if s == nil {
		s = &secAgg{hist: hdr.NewPacked(lowestUS, highestUS, seriesDigits), latMin: math.MaxInt64}
		sh.secs[i] = s
		if len(sh.live) == 0 || t > sh.maxSec-denseSeconds {
			sh.maxSec = max(sh.maxSec, t)
			sh.compact()
			if n := len(sh.pool); n > 0 {
				s.dense, sh.pool = sh.pool[n-1], sh.pool[:n-1]
			} else {
				s.dense = hdr.New(lowestUS, highestUS, seriesDigits)
			}
			sh.live = append(sh.live, t)
		}
	}
	return s
}

// compact packs the dense histograms of seconds that fell out of the recent
// window and keeps them for reuse.
func (sh *shard) compact() {
	keep := sh.live[:0]
	for _, t := range sh.live {
		if t > sh.maxSec-denseSeconds {
			keep = append(keep, t)
			continue
		}
		s := sh.secs[t-sh.base]
		s.hist.MergeFrom(s.dense)
		s.dense.Reset()
		sh.pool = append(sh.pool, s.dense)
		s.dense = nil
	}
	sh.live = keep
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
