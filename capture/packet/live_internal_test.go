package packet

import (
	"testing"
	"time"
)

// TestDedup checks that the loopback copy of a packet is dropped and a
// later retransmission is kept.
func TestDedup(t *testing.T) {
	d := newDedup()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	a, b := []byte("packet a"), []byte("packet b")
	steps := []struct {
		data []byte
		at   time.Duration
		dup  bool
	}{
		{a, 0, false},
		{a, 7 * time.Microsecond, true},     // the loopback copy
		{b, 10 * time.Microsecond, false},   // another packet
		{a, 20 * time.Microsecond, false},   // a third copy is not the second
		{a, 300 * time.Millisecond, false},  // a retransmission
		{a, 300*time.Millisecond + 5, true}, // its loopback copy
		{b, 900 * time.Millisecond, false},  // long after
	}
	for i, s := range steps {
		if got := d.seen(s.data, t0.Add(s.at)); got != s.dup {
			t.Errorf("step %d: duplicate %v, want %v", i, got, s.dup)
		}
	}
}
