package demosite_test

import (
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/demosite"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  demosite.Config
		want []string // one substring per expected problem, in order
	}{
		{name: "default", cfg: demosite.DefaultConfig()},
		{name: "zero", cfg: demosite.Config{}},
		{name: "edges", cfg: demosite.Config{ErrorRate: 1, Seed: -5}},
		{name: "negative latency", cfg: demosite.Config{Latency: -time.Second}, want: []string{"demosite: latency -1s is negative"}},
		{name: "negative jitter", cfg: demosite.Config{Jitter: -time.Millisecond}, want: []string{"demosite: jitter -1ms is negative"}},
		{name: "error rate too high", cfg: demosite.Config{ErrorRate: 1.5}, want: []string{"demosite: error rate 1.5 is outside 0..1"}},
		{name: "error rate negative", cfg: demosite.Config{ErrorRate: -0.1}, want: []string{"error rate -0.1 is outside 0..1"}},
		{name: "error rate NaN", cfg: demosite.Config{ErrorRate: math.NaN()}, want: []string{"error rate NaN is outside 0..1"}},
		{name: "negative capacity", cfg: demosite.Config{Capacity: -1}, want: []string{"demosite: capacity -1 is negative"}},
		{
			name: "everything wrong at once",
			cfg:  demosite.Config{Latency: -1, Jitter: -1, ErrorRate: 2, Capacity: -3},
			want: []string{"latency", "jitter", "error rate 2", "capacity -3"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want %q", tc.want)
			}
			joined, ok := err.(interface{ Unwrap() []error })
			if !ok {
				t.Fatalf("Validate() = %T, want errors joined with errors.Join", err)
			}
			errs := joined.Unwrap()
			if len(errs) != len(tc.want) {
				t.Fatalf("Validate() reported %d problems, want %d: %v", len(errs), len(tc.want), err)
			}
			for i, want := range tc.want {
				if !strings.Contains(errs[i].Error(), want) {
					t.Errorf("problem %d = %q, want it to contain %q", i, errs[i], want)
				}
			}
		})
	}
}

// TestNewUnvalidated checks that New copes with a Config that fails Validate instead of panicking.
func TestNewUnvalidated(t *testing.T) {
	t.Parallel()
	site := demosite.New(demosite.Config{Latency: -time.Hour, Jitter: -time.Hour, ErrorRate: math.NaN(), Capacity: -1})
	if rec := serve(site, t.Context(), http.MethodGet, "/"); rec.Code != http.StatusOK {
		t.Errorf("GET / = %d, want 200", rec.Code)
	}
	site = demosite.New(demosite.Config{ErrorRate: 7})
	if rec := serve(site, t.Context(), http.MethodGet, "/"); rec.Code != http.StatusInternalServerError {
		t.Errorf("GET / = %d with error rate 7, want 500", rec.Code)
	}
}
