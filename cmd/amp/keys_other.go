//go:build !linux

package main

// watchKeys is not supported here: the users can be changed in the web UI.
func watchKeys(func(byte)) (restore func()) { return func() {} }
