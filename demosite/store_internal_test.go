package demosite

import (
	"fmt"
	"testing"
)

// shardBytes returns the accounted bytes of every shard, checking them against their entries.
func shardBytes[V any](t *testing.T, st *store[V]) []int {
	t.Helper()
	out := make([]int, numShards)
	total := 0
	for i := range st.shards {
		sh := &st.shards[i]
		sum, n := 0, 0
		for e := sh.oldest; e != nil; e = e.newer {
			sum += e.size
			n++
			if sh.m[e.key] != e {
				t.Fatalf("shard %d: list entry %q is not in the map", i, e.key)
			}
		}
		if n != len(sh.m) || sum != sh.bytes {
			t.Fatalf("shard %d: list has %d entries of %d bytes, map %d entries, accounted %d bytes", i, n, sum, len(sh.m), sh.bytes)
		}
		out[i] = sh.bytes
		total += n
	}
	if total != st.len() {
		t.Fatalf("len() = %d, entries %d", st.len(), total)
	}
	return out
}

func TestStoreEvictsOldest(t *testing.T) {
	t.Parallel()
	evicted := 0
	st := newStore(2*numShards, 0, func(int) { evicted++ })
	const n = 1000
	byShard := map[*shard[int]][]string{}
	for i := range n {
		k := fmt.Sprint("key", i)
		st.add(k, i, 1)
		byShard[st.shard(k)] = append(byShard[st.shard(k)], k)
	}
	shardBytes(t, st)
	if st.len() > 2*numShards || st.len()+evicted != n {
		t.Fatalf("len %d, evicted %d; want at most %d kept and the rest evicted", st.len(), evicted, 2*numShards)
	}
	for sh, keys := range byShard {
		for i, k := range keys {
			_, ok := st.get(k)
			if newest := i >= len(keys)-2; ok != newest {
				t.Errorf("shard %p key %s (%d of %d): present %v", sh, k, i, len(keys), ok)
			}
		}
	}
}

func TestStoreByteLimit(t *testing.T) {
	t.Parallel()
	evicted := 0
	st := newStore(1000, 100*numShards, func(int) { evicted++ })
	for i := range 500 {
		st.add(fmt.Sprint("k", i), i, 40) // at most two fit in a shard's 100 bytes
	}
	for i, b := range shardBytes(t, st) {
		if b > 100 {
			t.Errorf("shard %d holds %d bytes, want at most 100", i, b)
		}
	}
	if st.len() > 2*numShards || st.len()+evicted != 500 {
		t.Errorf("len %d, evicted %d", st.len(), evicted)
	}

	// Growing an entry evicts the others of its shard, never itself.
	k := "k499"
	if !st.update(k, func(int) int { return 1000 }) {
		t.Fatal("update of the newest key failed")
	}
	if _, ok := st.get(k); !ok {
		t.Error("update evicted the entry it grew")
	}
	if n := len(st.shard(k).m); n != 1 {
		t.Errorf("grown entry's shard has %d entries, want 1", n)
	}
	shardBytes(t, st)
}

func TestStoreAddRemoveUpdate(t *testing.T) {
	t.Parallel()
	evicted := 0
	st := newStore(100, 0, func(int) { evicted++ })
	st.add("a", 1, 10)
	st.add("a", 2, 20) // replaces
	if v, ok := st.get("a"); !ok || v != 2 || st.len() != 1 {
		t.Fatalf("after replacing: get = %d, %v; len %d", v, ok, st.len())
	}
	if st.update("missing", func(int) int { return 1 }) {
		t.Error("update of a missing key reported success")
	}
	var seen int
	if !st.view("a", func(v int) { seen = v }) || seen != 2 {
		t.Errorf("view saw %d", seen)
	}
	if !st.remove("a") || st.remove("a") || st.len() != 0 || evicted != 0 {
		t.Errorf("remove: len %d, evicted %d", st.len(), evicted)
	}
	shardBytes(t, st)
}
