package demosite

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// numShards is the number of independently locked parts of a store.
const numShards = 16

// store is a concurrency-safe map from random string keys to values, split
// into shards that each hold their own lock. Each shard keeps its entries in
// insertion order and evicts the oldest ones when it exceeds its share of the
// length or byte limits, so a store never grows without bound.
type store[V any] struct {
	seed     maphash.Seed
	maxLen   int     // per shard, at least 1
	maxBytes int     // per shard; 0 means no byte limit
	evicted  func(V) // called, under the shard lock, for every evicted value; may be nil
	n        atomic.Int64
	shards   [numShards]shard[V]
}

// shard is one locked part of a store: a map plus an intrusive list from oldest to newest entry.
type shard[V any] struct {
	mu             sync.RWMutex
	m              map[string]*entry[V]
	oldest, newest *entry[V]
	bytes          int
}

// entry is one key and value of a shard with its accounted size.
type entry[V any] struct {
	key          string
	val          V
	size         int
	older, newer *entry[V]
}

// newStore returns a store holding at most maxLen entries and, when maxBytes
// is positive, about maxBytes accounted bytes; both limits are split evenly
// between the shards.
func newStore[V any](maxLen, maxBytes int, evicted func(V)) *store[V] {
	st := &store[V]{
		seed:     maphash.MakeSeed(),
		maxLen:   max(1, maxLen/numShards),
		maxBytes: max(0, maxBytes/numShards),
		evicted:  evicted,
	}
	for i := range st.shards {
		st.shards[i].m = make(map[string]*entry[V])
	}
	return st
}

func (st *store[V]) shard(key string) *shard[V] {
	return &st.shards[maphash.String(st.seed, key)%numShards]
}

// len returns the number of stored entries.
func (st *store[V]) len() int { return int(st.n.Load()) }

// get returns the value stored under key.
func (st *store[V]) get(key string) (V, bool) {
	sh := st.shard(key)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if e, ok := sh.m[key]; ok {
		return e.val, true
	}
	var zero V
	return zero, false
}

// view calls fn with the value stored under key while holding the shard's
// read lock, and reports whether the key was present. fn must not keep
// references into the value.
func (st *store[V]) view(key string, fn func(V)) bool {
	sh := st.shard(key)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	e, ok := sh.m[key]
	if ok {
		fn(e.val)
	}
	return ok
}

// add stores v under key with an accounted size, replacing any previous value, and evicts the oldest entries beyond the limits.
func (st *store[V]) add(key string, v V, size int) {
	sh := st.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if old, ok := sh.m[key]; ok {
		sh.unlink(old)
		st.n.Add(-1)
	}
	e := &entry[V]{key: key, val: v, size: size}
	sh.m[key] = e
	sh.link(e)
	st.n.Add(1)
	st.trim(sh, e)
}

// update calls fn with the value stored under key while holding the shard's
// write lock; fn returns by how many bytes the value grew (negative if it
// shrank). update reports whether the key was present.
func (st *store[V]) update(key string, fn func(V) int) bool {
	sh := st.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.m[key]
	if !ok {
		return false
	}
	delta := fn(e.val)
	e.size += delta
	sh.bytes += delta
	st.trim(sh, e)
	return true
}

// remove deletes key and reports whether it was present; the evicted callback is not called.
func (st *store[V]) remove(key string) bool {
	sh := st.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.m[key]
	if ok {
		sh.unlink(e)
		st.n.Add(-1)
	}
	return ok
}

// trim evicts the oldest entries of sh, other than keep, while sh is over a limit.
func (st *store[V]) trim(sh *shard[V], keep *entry[V]) {
	for len(sh.m) > st.maxLen || (st.maxBytes > 0 && sh.bytes > st.maxBytes) {
		e := sh.oldest
		if e == keep {
			e = e.newer
		}
		if e == nil {
			return
		}
		sh.unlink(e)
		st.n.Add(-1)
		if st.evicted != nil {
			st.evicted(e.val)
		}
	}
}

// link adds e to the map's order list as the newest entry and accounts its size.
func (sh *shard[V]) link(e *entry[V]) {
	e.older = sh.newest
	if sh.newest != nil {
		sh.newest.newer = e
	} else {
		sh.oldest = e
	}
	sh.newest = e
	sh.bytes += e.size
}

// unlink removes e from the map and the order list and releases its size.
func (sh *shard[V]) unlink(e *entry[V]) {
	delete(sh.m, e.key)
	if e.older != nil {
		e.older.newer = e.newer
	} else {
		sh.oldest = e.newer
	}
	if e.newer != nil {
		e.newer.older = e.older
	} else {
		sh.newest = e.older
	}
	e.older, e.newer = nil, nil
	sh.bytes -= e.size
}
