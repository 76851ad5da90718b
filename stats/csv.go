package stats

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// CSV headers, byte for byte Locust's (2.44 and later) with the default
// percentiles; the percentile columns follow Result.Percentiles.
var (
	csvStatsHead = []string{"Type", "Name", "Request Count", "Failure Count", "Median Response Time",
		"Average Response Time", "Min Response Time", "Max Response Time", "Average Content Size", "Requests/s", "Failures/s"}
	csvHistoryHead = []string{"Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s"}
	csvHistoryTail = []string{"Total Request Count", "Total Failure Count", "Total Median Response Time",
		"Total Average Response Time", "Total Min Response Time", "Total Max Response Time", "Total Average Content Size"}
	csvFailuresHead   = []string{"Method", "Name", "Error", "Occurrences", "First Seen", "Last Seen"}
	csvExceptionsHead = []string{"Count", "Message", "Traceback", "Nodes"}
)

// CSVSuffixes are the endings of Locust's four CSV files, after the prefix
// the user gives: the files WriteCSV writes.
func CSVSuffixes() []string {
	return []string{"_stats.csv", "_stats_history.csv", "_failures.csv", "_exceptions.csv"}
}

// WriteCSV writes to w one of Locust's four CSV files, named by its suffix
// (CSVSuffixes), so that tools that read Locust's output read amp's:
// _stats.csv (one row per endpoint and the "Aggregated" row),
// _stats_history.csv (the Aggregated row of each second, cumulative like
// Locust's), _failures.csv and _exceptions.csv (amp has no exceptions:
// header only). Like Locust's, lines end in CRLF and response times are
// milliseconds (the latency from the intended start). Files.Write writes
// all four next to each other.
func WriteCSV(w io.Writer, r *Result, suffix string) error {
	var write func(*csv.Writer) error
	switch suffix {
	case "_stats.csv":
		write = func(w *csv.Writer) error { return csvStats(w, r) }
	case "_stats_history.csv":
		write = func(w *csv.Writer) error { return csvHistory(w, r) }
	case "_failures.csv":
		write = func(w *csv.Writer) error { return csvFailures(w, r) }
	case "_exceptions.csv":
		write = func(w *csv.Writer) error { return w.Write(csvExceptionsHead) }
	case JourneysCSV:
		write = func(w *csv.Writer) error { return csvJourneys(w, r) }
	case TrafficCSV:
		write = func(w *csv.Writer) error { return csvTraffic(w, r) }
	default:
		return fmt.Errorf("stats: no CSV file ends in %q (want one of %s)", suffix, strings.Join(CSVSuffixes(), ", "))
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := write(cw); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// JourneysCSV is the suffix of the CSV file of a run with journeys: the
// columns of _stats.csv, a row per journey (Type "journey") and the
// Aggregated row. Locust's format has no place for journeys, so they go in
// a file of their own beside its four.
const JourneysCSV = "_journeys.csv"

// TrafficCSV is the suffix of the CSV file of what Locust's files have no
// columns for: per endpoint and in the Aggregated row, the bytes sent and
// received and a column per status code ("Status 200", "Status 0" for no
// response); the Aggregated row adds the sessions completed and failed.
const TrafficCSV = "_traffic.csv"

func csvTraffic(w *csv.Writer, r *Result) error {
	codes := r.StatusColumns(0)
	head := []string{"Type", "Name", "Request Count", "Failure Count", "Bytes Sent", "Bytes Received"}
	for _, c := range codes {
		head = append(head, "Status "+c)
	}
	head = append(head, "Sessions Completed", "Sessions Failed")
	if err := w.Write(head); err != nil {
		return err
	}
	row := func(typ, name string, s *Stats, sessions []string) error {
		rec := []string{typ, name, itoa(s.Requests), itoa(s.Failures), itoa(s.BytesSent), itoa(s.Bytes)}
		for _, c := range codes {
			rec = append(rec, itoa(s.Statuses[c]))
		}
		return w.Write(append(rec, sessions...))
	}
	for i := range r.Endpoints {
		e := &r.Endpoints[i]
		if err := row(e.Method, e.Name, &e.Stats, []string{"", ""}); err != nil {
			return err
		}
	}
	return row("", "Aggregated", &r.Stats, []string{itoa(r.Sessions.Completed), itoa(r.Sessions.Failed)})
}

// PercentileColumns are the CSV column names of percentiles, as Locust
// writes them: "50%", "99.9%", "100%".
func PercentileColumns(pcts []float64) []string {
	out := make([]string, len(pcts))
	for i, p := range pcts {
		out[i] = pctName(p) + "%"
	}
	return out
}

func csvStats(w *csv.Writer, r *Result) error {
	row, err := csvStatsRows(w, r)
	if err != nil {
		return err
	}
	for i := range r.Endpoints {
		e := &r.Endpoints[i]
		if err := row(e.Method, e.Name, &e.Stats); err != nil {
			return err
		}
	}
	return row("", "Aggregated", &r.Stats)
}

func csvJourneys(w *csv.Writer, r *Result) error {
	row, err := csvStatsRows(w, r)
	if err != nil {
		return err
	}
	for i := range r.Journeys {
		j := &r.Journeys[i]
		if err := row("journey", j.Name, &j.Stats); err != nil {
			return err
		}
	}
	return row("", "Aggregated", &r.Stats)
}

// csvStatsRows writes the head of _stats.csv and returns the writer of its
// rows.
func csvStatsRows(w *csv.Writer, r *Result) (func(typ, name string, s *Stats) error, error) {
	if err := w.Write(append(append([]string{}, csvStatsHead...), PercentileColumns(r.Percentiles)...)); err != nil {
		return nil, err
	}
	return func(typ, name string, s *Stats) error {
		rec := []string{typ, name, itoa(s.Requests), itoa(s.Failures), medianMS(s), pyFloat(s.Latency.Avg),
			pyFloat(s.Latency.Min), pyFloat(s.Latency.Max), pyFloat(avgSize(s.Bytes, s.Requests)), pyFloat(s.RPS), pyFloat(s.FailuresPerSec)}
		for _, p := range r.Percentiles {
			rec = append(rec, intPct(s, p))
		}
		return w.Write(rec)
	}, nil
}

func csvHistory(w *csv.Writer, r *Result) error {
	head := append(append(append([]string{}, csvHistoryHead...), PercentileColumns(r.Percentiles)...), csvHistoryTail...)
	if err := w.Write(head); err != nil {
		return err
	}
	// cumulative totals, second by second
	cum := hdr.NewPacked(lowestUS, highestUS, seriesDigits)
	var n, fails, bytes int64
	var sum, lo, hi float64
	for _, p := range r.Series {
		if p.Requests > 0 {
			if n == 0 {
				lo = p.MinMS
			}
			lo, hi = math.Min(lo, p.MinMS), math.Max(hi, p.MaxMS)
			sum += p.AvgMS * float64(p.Requests)
			n += p.Requests
			fails += p.Failures
			bytes += p.Bytes
			if p.hist != nil {
				cum.Merge(p.hist)
			}
		}
		rec := []string{strconv.FormatInt(p.T, 10), strconv.Itoa(p.Users), "", "Aggregated",
			strconv.FormatFloat(float64(p.Requests), 'f', 6, 64), strconv.FormatFloat(float64(p.Failures), 'f', 6, 64)}
		med, avg := "0", 0.0
		for _, q := range r.Percentiles {
			if n == 0 {
				rec = append(rec, "N/A")
				continue
			}
			rec = append(rec, strconv.FormatInt(int64(math.Round(clampPct(cum, q, lo, hi))), 10))
		}
		if n > 0 {
			med = strconv.FormatInt(int64(math.Round(clampPct(cum, 50, lo, hi))), 10)
			avg = sum / float64(n)
		}
		rec = append(rec, itoa(n), itoa(fails), med, pyFloat(avg), pyFloat(lo), pyFloat(hi), pyFloat(avgSize(bytes, n)))
		if err := w.Write(rec); err != nil {
			return err
		}
	}
	return nil
}

func csvFailures(w *csv.Writer, r *Result) error {
	if err := w.Write(csvFailuresHead); err != nil {
		return err
	}
	for _, e := range r.Errors {
		if err := w.Write([]string{e.Method, e.Name, e.Reason, itoa(e.Count),
			e.FirstSeen.UTC().Format(time.RFC3339), e.LastSeen.UTC().Format(time.RFC3339)}); err != nil {
			return err
		}
	}
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func avgSize(bytes, n int64) float64 {
	if n == 0 {
		return 0
	}
	return float64(bytes) / float64(n)
}

// medianMS is Locust's integer median in ms, 0 without requests.
func medianMS(s *Stats) string {
	if s.Requests == 0 {
		return "0"
	}
	return strconv.FormatInt(int64(math.Round(s.Latency.P50)), 10)
}

// intPct is a percentile as Locust writes it: whole ms, or N/A without
// requests.
func intPct(s *Stats, p float64) string {
	if s.Requests == 0 {
		return "N/A"
	}
	return strconv.FormatInt(int64(math.Round(s.Latency.At(p))), 10)
}

// pyFloat formats a float as Python's str() does for the usual range:
// shortest representation, always with a decimal point ("12.0", "0.5").
func pyFloat(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "0.0"
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if a := math.Abs(f); a != 0 && (a < 1e-4 || a >= 1e16) {
		return strconv.FormatFloat(f, 'e', -1, 64) // 1e-05, as Python writes it
	}
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}
