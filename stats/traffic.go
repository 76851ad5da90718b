package stats

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// StatusOther is the column under which StatusColumns gathers the codes
// that do not fit.
const StatusOther = "other"

// StatusColumns returns the status codes of the run (Stats.Statuses keys),
// the most frequent up to limit columns (limit ≤ 0: all), then sorted by code
// with "0" (no response: a transport error) last. When codes had to be left
// out, the last column is StatusOther, which adds them up (StatusCount).
func (r *Result) StatusColumns(limit int) []string {
	codes := sortedKeys(r.Statuses)
	if limit > 0 && len(codes) > limit {
		slices.SortStableFunc(codes, func(a, b string) int { return cmp.Compare(r.Statuses[b], r.Statuses[a]) })
		codes = append(codes[:limit-1], StatusOther)
	}
	slices.SortFunc(codes, func(a, b string) int {
		return cmp.Compare(statusRank(a), statusRank(b))
	})
	return codes
}

// statusRank orders codes numerically, then "0", then StatusOther.
func statusRank(code string) int {
	n, err := strconv.Atoi(code)
	switch {
	case code == StatusOther:
		return 1 << 30
	case err != nil || n == 0:
		return 1<<30 - 1
	}
	return n
}

// StatusCount is the count of code in s, where code is one of the columns
// cols returned by StatusColumns: StatusOther counts every code not among
// cols.
func (s *Stats) StatusCount(code string, cols []string) int64 {
	if code != StatusOther {
		return s.Statuses[code]
	}
	var n int64
	for k, v := range s.Statuses {
		if !slices.Contains(cols, k) {
			n += v
		}
	}
	return n
}

// StatusLabel names a status column: the code, or "no resp" for 0.
func StatusLabel(code string) string {
	if code == "0" {
		return "no resp"
	}
	return code
}

// FormatBytes formats a byte count in SI units: 512 B, 25.2 kB, 3.40 MB.
func FormatBytes(n int64) string {
	f := float64(n)
	units := []string{"B", "kB", "MB", "GB", "TB"}
	i := 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	switch {
	case i == 0:
		return strconv.FormatInt(n, 10) + " B"
	case f < 10:
		return strconv.FormatFloat(f, 'f', 2, 64) + " " + units[i]
	case f < 100:
		return strconv.FormatFloat(f, 'f', 1, 64) + " " + units[i]
	}
	return strconv.FormatFloat(f, 'f', 0, 64) + " " + units[i]
}

// SessionsLine sums the sessions up in one line, or "" when none ran to its
// end.
func (r *Result) SessionsLine() string {
	n := r.Sessions.Total()
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("Sessions: %d ran to their end: %d completed, %d failed (%s; a session fails when one of its requests does)",
		n, r.Sessions.Completed, r.Sessions.Failed, pct(float64(r.Sessions.Failed)/float64(n)))
}

// TrafficLine sums up the bytes sent and received in one line.
func (r *Result) TrafficLine() string {
	return fmt.Sprintf("Traffic: %s sent, %s received", FormatBytes(r.BytesSent), FormatBytes(r.Bytes))
}

// statuses writes the table of status codes and bytes by endpoint, fitted
// to the narrow layout's width by gathering rare codes under "other".
func (l layout) statuses(b *strings.Builder, r *Result) {
	if len(r.Statuses) == 0 && r.BytesSent == 0 && r.Bytes == 0 {
		return
	}
	const cw, bw = 7, 9
	maxCols := 0
	if l.narrow {
		maxCols = max((l.width-l.tw-l.nw-2-2*(bw+1)-2)/(cw+1), 1)
	}
	cols := r.StatusColumns(maxCols)
	b.WriteString("\nStatus codes and bytes\n")
	fmt.Fprintf(b, "%-*s %-*s", l.tw, "Type", l.nw, "Name")
	for _, c := range cols {
		fmt.Fprintf(b, " %*s", cw, StatusLabel(c))
	}
	fmt.Fprintf(b, " | %*s %*s\n", bw, "sent", bw, "received")
	sep := fmt.Sprintf("%s|%s|%s|%s\n", dashes(l.tw), dashes(l.nw+1), dashes((cw+1)*len(cols)), dashes(2*bw+2))
	b.WriteString(sep)
	row := func(typ, name string, s *Stats) {
		fmt.Fprintf(b, "%-*s %-*s", l.tw, typ, l.nw, fit(name, l.nw))
		for _, c := range cols {
			v := "-"
			if n := s.StatusCount(c, cols); n > 0 {
				v = strconv.FormatInt(n, 10)
			}
			fmt.Fprintf(b, " %*s", cw, v)
		}
		fmt.Fprintf(b, " | %*s %*s\n", bw, FormatBytes(s.BytesSent), bw, FormatBytes(s.Bytes))
	}
	for i := range r.Endpoints {
		row(r.Endpoints[i].Method, r.Endpoints[i].Name, &r.Endpoints[i].Stats)
	}
	b.WriteString(sep)
	row("", "Aggregated", &r.Stats)
	if line := r.SessionsLine(); line != "" {
		b.WriteString("\n")
		l.prose(b, "", line+".", 2)
	}
}
