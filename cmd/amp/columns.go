package main

import (
	"io"
	"os"
	"strconv"
	"strings"
)

// termColumns is the width the console's tables should fit: $COLUMNS, else
// the width of w when it is a terminal, else 0 (unknown: the wide layout).
func termColumns(w io.Writer) int {
	if n, err := strconv.Atoi(strings.TrimSpace(os.Getenv("COLUMNS"))); err == nil && n > 0 {
		return n
	}
	if f, ok := w.(*os.File); ok && isTerminal(w) {
		return terminalWidth(f)
	}
	return 0
}
