//go:build !unix

package main

import "os"

// terminalWidth is 0 where amp does not ask the terminal: $COLUMNS decides.
func terminalWidth(*os.File) int { return 0 }
