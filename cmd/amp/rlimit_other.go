//go:build !unix

package main

// openFileLimit returns 0: unknown on this system.
func openFileLimit() int { return 0 }
