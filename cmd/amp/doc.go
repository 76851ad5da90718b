// Command amp records real user sessions (a recording proxy, packet captures,
// HAR files) into .amp recordings and replays them as many concurrent simulated
// users against a target, measuring failures and slowdowns.
//
// Run "amp --help" for the commands and "amp COMMAND --help" for each one's
// flags. Flags may come before or after a command's arguments. Exit codes: 0
// success, 1 bad usage or input, 99 a threshold failed (for amp replay
// without --fail-if, the default thresholds count>0 and rate<0.05).
package main
