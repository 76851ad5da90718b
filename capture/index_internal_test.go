package capture

import (
	"math"
	"math/rand"
	"reflect"
	"testing"
	"time"
)

// FuzzIndexDecode feeds the session index decoder arbitrary bodies: it must
// not panic, and what it accepts must hold together: offsets in range,
// counts that add up, sessions in order, and the same index encoded again.
func FuzzIndexDecode(f *testing.F) {
	for seed := int64(0); seed < 4; seed++ {
		f.Add(randomIndex(seed, int(seed)*7), int64(20), int64(1<<20))
	}
	f.Add([]byte{1, 0, 0, 0}, int64(0), int64(1))
	f.Add([]byte{1, 1, 1, 1, 'a', 0, 2, 1, 1, 40, 0}, int64(20), int64(100))
	f.Fuzz(func(t *testing.T, body []byte, lo, hi int64) {
		x, err := decodeIndex(body, lo, hi)
		if err != nil {
			return
		}
		n := 0
		var b indexBuilder
		for i, s := range x.sessions {
			if i > 0 {
				p := x.sessions[i-1]
				if sortKey(s.Start) < sortKey(p.Start) || sortKey(s.Start) == sortKey(p.Start) && s.ID <= p.ID {
					t.Fatalf("session %d out of order", i)
				}
			}
			offs := x.offsets(i)
			if len(offs) != s.Exchanges || s.Exchanges == 0 {
				t.Fatalf("session %d: %d offsets, %d exchanges", i, len(offs), s.Exchanges)
			}
			for _, off := range offs {
				if off < lo || off >= hi {
					t.Fatalf("offset %d outside %d..%d", off, lo, hi)
				}
				// The same start for all: the builder keeps the order given.
				b.add(s.ID, sortKey(s.Start), off)
			}
			b.session(s.ID).name = s.Name
			n += len(offs)
		}
		if n != x.exchanges {
			t.Fatalf("sessions hold %d exchanges, the index says %d", n, x.exchanges)
		}
		y, err := decodeIndex(b.encode(x.extras), lo, hi)
		if err != nil {
			t.Fatalf("encoded again: %v", err)
		}
		if !reflect.DeepEqual(x.sessions, y.sessions) || x.sum != y.sum || len(x.extras) != len(y.extras) {
			t.Fatalf("encoded again: %+v, want %+v", y.sessions, x.sessions)
		}
		z, err := decodeIndex(x.encode(nil, x.extras), lo, hi)
		if err != nil || !reflect.DeepEqual(x.sessions, z.sessions) || x.sum != z.sum || !reflect.DeepEqual(x.extras, z.extras) {
			t.Fatalf("re-encoded: %v", err)
		}
	})
}

// randomIndex builds the index of n exchanges in a few sessions.
func randomIndex(seed int64, n int) []byte {
	rng := rand.New(rand.NewSource(seed))
	var b indexBuilder
	off := int64(20)
	for i := 0; i < n; i++ {
		start := int64(rng.Intn(1000)) * 1e6
		if i == 3 {
			start = math.MinInt64
		}
		b.add(string(rune('a'+rng.Intn(3))), start, off)
		off += int64(rng.Intn(5000) + 9)
	}
	return b.encode(map[string][]byte{"x": {1, 2}})
}

// TestIndexBuilderOrder checks the builder against GroupSessions' order on
// random starts, equal starts included.
func TestIndexBuilderOrder(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewSource(5))
	var b indexBuilder
	var exs []*Exchange
	for i := 0; i < 500; i++ {
		e := &Exchange{Session: string(rune('a' + rng.Intn(20)))}
		if rng.Intn(50) > 0 {
			e.Start = timeAt(int64(rng.Intn(200)))
		}
		exs = append(exs, e)
		b.add(e.Session, sortKey(e.Start), int64(100+i))
	}
	x, err := decodeIndex(b.encode(nil), 100, 600)
	if err != nil {
		t.Fatal(err)
	}
	want := GroupSessions(exs)
	if len(want) != len(x.sessions) {
		t.Fatalf("%d sessions, want %d", len(x.sessions), len(want))
	}
	pos := map[*Exchange]int64{}
	for i, e := range exs {
		pos[e] = int64(100 + i)
	}
	for i, s := range want {
		offs := x.offsets(i)
		if x.sessions[i].ID != s.ID || !x.sessions[i].Start.Equal(s.Start()) || len(offs) != len(s.Exchanges) {
			t.Fatalf("session %d: %+v, want %q", i, x.sessions[i], s.ID)
		}
		for k, e := range s.Exchanges {
			if offs[k] != pos[e] {
				t.Fatalf("session %d exchange %d at %d, want %d", i, k, offs[k], pos[e])
			}
		}
	}
}

func timeAt(ms int64) time.Time { return time.Unix(0, ms*1e6).UTC() }
