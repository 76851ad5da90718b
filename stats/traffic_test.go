package stats_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/stats"
)

func TestFormatBytes(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 1000: "1.00 kB", 25200: "25.2 kB",
		999_499: "999 kB", 3_400_000: "3.40 MB", 7_000_000_000_000_000: "7000 TB"} {
		if got := stats.FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// manyStatuses records one endpoint answering with 12 status codes, the
// code c answered c/100 + i times, and a transport error.
func manyStatuses() *stats.Result {
	c := stats.NewCollector(stats.Config{})
	ep := c.Endpoint("GET", "/a")
	r := c.NewRecorder()
	codes := []int{200, 201, 204, 301, 302, 304, 400, 401, 403, 404, 500, 503, 0}
	for i, code := range codes {
		for range i + 1 {
			s := sample(time.Duration(i)*time.Millisecond, 0, time.Millisecond, code, "")
			r.Record(ep, &s)
		}
	}
	r.Close()
	return c.Snapshot()
}

// TestStatusColumns: all codes by number with "0" last; with a limit, the
// most frequent codes and "other" adding up the rest.
func TestStatusColumns(t *testing.T) {
	t.Parallel()
	res := manyStatuses()
	all := res.StatusColumns(0)
	if want := []string{"200", "201", "204", "301", "302", "304", "400", "401", "403", "404", "500", "503", "0"}; !slices.Equal(all, want) {
		t.Fatalf("StatusColumns(0) = %v, want %v", all, want)
	}
	cols := res.StatusColumns(4) // the most frequent: 0 (13), 503 (12), 500 (11)
	if want := []string{"500", "503", "0", stats.StatusOther}; !slices.Equal(cols, want) {
		t.Fatalf("StatusColumns(4) = %v, want %v", cols, want)
	}
	var sum int64
	for _, c := range cols {
		sum += res.StatusCount(c, cols)
	}
	if other := res.StatusCount(stats.StatusOther, cols); other != 1+2+3+4+5+6+7+8+9+10 || sum != res.Requests {
		t.Fatalf("other %d, columns add up to %d of %d requests", other, sum, res.Requests)
	}
}

// TestConsoleStatusesFitNarrow: many status codes in a narrow terminal
// gather under "other" rather than widen the table.
func TestConsoleStatusesFitNarrow(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	con := stats.NewConsole(&buf, false)
	con.SetWidth(100)
	if err := con.Final(manyStatuses()); err != nil {
		t.Fatal(err)
	}
	checkWidth(t, buf.String(), 100)
	if !strings.Contains(buf.String(), "other") || !strings.Contains(buf.String(), "no resp") {
		t.Errorf("no \"other\" or \"no resp\" column in:\n%s", buf.String())
	}
	buf.Reset()
	if err := stats.NewConsole(&buf, false).Final(manyStatuses()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "other") || !strings.Contains(buf.String(), " 401 ") {
		t.Errorf("the wide layout should show every code:\n%s", buf.String())
	}
}
