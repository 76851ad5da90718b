package main

import (
	"context"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
)

func TestOnSecondInterrupt(t *testing.T) {
	sig := make(chan os.Signal, 1)
	var listening, stopped atomic.Int32
	src := func() (<-chan os.Signal, func()) {
		listening.Add(1)
		return sig, func() { stopped.Add(1) }
	}

	// A run that ends by itself never listens.
	done := make(chan struct{})
	close(done)
	onSecondInterrupt(context.Background(), done, src, func() { t.Error("first called") }, func() { t.Error("now called") })
	if listening.Load() != 0 {
		t.Fatal("listened for a second interrupt without a first")
	}

	// The first interrupt says so; the second stops at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done = make(chan struct{})
	var first, now atomic.Int32
	sig <- os.Interrupt
	onSecondInterrupt(ctx, done, src, func() { first.Add(1) }, func() { now.Add(1) })
	if first.Load() != 1 || now.Load() != 1 || stopped.Load() != 1 {
		t.Fatalf("first %d, now %d, stopped listening %d; want 1 each", first.Load(), now.Load(), stopped.Load())
	}

	// A graceful stop that finishes before a second interrupt does not kill.
	finished := make(chan struct{})
	go func() {
		for listening.Load() < 2 {
			runtime.Gosched()
		}
		close(finished)
	}()
	onSecondInterrupt(ctx, finished, src, nil, func() { t.Error("now called after the run finished") })
	if stopped.Load() != 2 {
		t.Fatalf("stopped listening %d times, want 2", stopped.Load())
	}
}
