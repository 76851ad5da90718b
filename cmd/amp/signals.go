package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// interruptSource starts delivering Ctrl-C and SIGTERM on a channel, and
// returns a function that stops it; tests pass their own.
type interruptSource func() (<-chan os.Signal, func())

// systemInterrupts is the process's Ctrl-C and SIGTERM.
func systemInterrupts() (<-chan os.Signal, func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	return ch, func() { signal.Stop(ch) }
}

// onSecondInterrupt handles the second Ctrl-C of a graceful stop: once ctx
// ends (the first Ctrl-C cancels the command's context) it calls first, to
// say that the stop takes a moment, and then now if another interrupt from
// src arrives before done is closed. It returns when done is closed.
func onSecondInterrupt(ctx context.Context, done <-chan struct{}, src interruptSource, first, now func()) {
	select {
	case <-ctx.Done():
	case <-done:
		return
	}
	select {
	case <-done: // ended as the stop began: nothing to cut short
		return
	default:
	}
	sig, stop := src()
	defer stop()
	if first != nil {
		first()
	}
	select {
	case <-sig:
		now()
	case <-done:
	}
}
