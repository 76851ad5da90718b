package watch

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestWidenJoinsFinerBuckets: the coarser bucket widen gives holds the
// finer bucket's whole range.
func TestWidenJoinsFinerBuckets(t *testing.T) {
	t.Parallel()
	for i := -300; i <= 300; i++ {
		for d := int32(0); d <= 4; d++ {
			j := widen(i, d)
			fineLo, fineHi := float64(i-1)/64, float64(i)/64 // log2 of bounds at schema 6
			per := float64(int(64) >> d)
			if !(float64(j-1)/per <= fineLo+1e-12 && fineHi <= float64(j)/per+1e-12) {
				t.Fatalf("widen(%d, %d) = %d: (%g, %g] not inside (%g, %g]", i, d, j, fineLo, fineHi, float64(j-1)/per, float64(j)/per)
			}
		}
	}
}

// native builds a schema-s histogram of values.
func native(s int32, values []float64) Histogram {
	h := Histogram{Schema: s, ZeroThreshold: 0x1p-20, Buckets: map[int]float64{}}
	per := float64(int(1) << s)
	for _, x := range values {
		h.Count++
		h.Sum += x
		h.Buckets[int(math.Ceil(math.Log2(x)*per))]++
	}
	return h
}

// TestHistogramMergeAndQuantile: shards' native histograms merge into the
// histogram of all their values (at the coarser schema when they differ),
// whose quantiles are within a bucket's width of the exact ones.
func TestHistogramMergeAndQuantile(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	var all []float64
	var merged Histogram
	for shard, s := range []int32{6, 6, 4} {
		var vals []float64
		for range 5000 {
			vals = append(vals, 0.02*math.Exp(0.5*rng.NormFloat64())*float64(shard+1))
		}
		all = append(all, vals...)
		h := native(s, vals)
		merged.Add(&h)
	}
	if merged.Schema != 4 || merged.Count != float64(len(all)) {
		t.Fatalf("merged schema %d count %g, want 4 and %d", merged.Schema, merged.Count, len(all))
	}
	var n float64
	for _, c := range merged.Buckets {
		n += c
	}
	if n != merged.Count {
		t.Fatalf("buckets hold %g of %g", n, merged.Count)
	}
	slices.Sort(all)
	width := math.Exp2(1.0/16) - 1 // schema 4
	for _, q := range []float64{0.5, 0.9, 0.95, 0.99} {
		exact := all[int(math.Ceil(q*float64(len(all))))-1]
		got := merged.Quantile(q)
		if math.Abs(got-exact)/exact > width {
			t.Errorf("q%g: %g, exact %g: more than a bucket (%.1f %%) off", q, got, exact, width*100)
		}
	}
	if !math.IsNaN((&Histogram{}).Quantile(0.5)) {
		t.Error("an empty histogram has a quantile")
	}
}

// TestClassicQuantile interpolates linearly within the bucket, as
// histogram_quantile does, and answers the highest bound from +Inf.
func TestClassicQuantile(t *testing.T) {
	t.Parallel()
	h := Histogram{Count: 100, Classic: map[float64]float64{0.1: 50, 0.2: 90, 0.4: 98, math.Inf(1): 100}}
	for _, c := range []struct{ q, want float64 }{{0.25, 0.05}, {0.5, 0.1}, {0.7, 0.15}, {0.94, 0.3}, {0.99, 0.4}} {
		if got := h.Quantile(c.q); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("q%g: %g, want %g", c.q, got, c.want)
		}
	}
	var sum Histogram
	sum.Add(&h)
	sum.Add(&h)
	if sum.Count != 200 || sum.Classic[0.2] != 180 || sum.Quantile(0.7) != h.Quantile(0.7) {
		t.Errorf("merged classic %+v", sum)
	}
}
