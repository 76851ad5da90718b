//go:build linux

package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// watchKeys, when stdin is a terminal, puts it in cbreak mode (keys arrive
// one by one, without echo; Ctrl-C still interrupts) and calls onKey for each
// key pressed. The returned function restores the terminal.
func watchKeys(onKey func(byte)) (restore func()) {
	fd := int(os.Stdin.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return func() {} // not a terminal
	}
	raw := *old
	raw.Lflag &^= unix.ICANON | unix.ECHO
	raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &raw); err != nil {
		return func() {}
	}
	go func() {
		buf := make([]byte, 16)
		for {
			n, err := os.Stdin.Read(buf)
			if err != nil {
				return
			}
			for _, b := range buf[:n] {
				onKey(b)
			}
		}
	}()
	return func() { _ = unix.IoctlSetTermios(fd, unix.TCSETS, old) }
}
