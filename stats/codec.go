package stats

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// MarshalJSON writes {"avg","min","max","p50",...} with percentile keys in
// ascending order.
func (l Latency) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	fmt.Fprintf(&b, `{"avg":%s,"min":%s,"max":%s`, jsonNum(l.Avg), jsonNum(l.Min), jsonNum(l.Max))
	ps := map[float64]float64{50: l.P50, 95: l.P95, 99: l.P99}
	for _, q := range l.Percentiles {
		ps[q.P] = q.MS
	}
	for _, p := range slices.Sorted(maps.Keys(ps)) {
		fmt.Fprintf(&b, `,"p%s":%s`, pctName(p), jsonNum(ps[p]))
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (l *Latency) UnmarshalJSON(data []byte) error {
	var m map[string]float64
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	*l = Latency{Avg: m["avg"], Min: m["min"], Max: m["max"]}
	for k, v := range m {
		if !strings.HasPrefix(k, "p") {
			continue
		}
		p, err := strconv.ParseFloat(k[1:], 64)
		if err != nil || p <= 0 || p > 100 {
			continue
		}
		l.Percentiles = append(l.Percentiles, Percentile{P: p, MS: v})
	}
	slices.SortFunc(l.Percentiles, func(a, b Percentile) int { return cmp.Compare(a.P, b.P) })
	l.P50, l.P95, l.P99 = l.At(50), l.At(95), l.At(99)
	return nil
}

func jsonNum(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "null"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// MarshalJSON encodes the histograms with the figures.
func (e EndpointStats) MarshalJSON() ([]byte, error) {
	type plain EndpointStats
	p := plain(e)
	var err error
	if p.LatencyHDR, err = encodeHist(e.lat); err != nil {
		return nil, err
	}
	if p.ServiceHDR, err = encodeHist(e.svc); err != nil {
		return nil, err
	}
	if p.RecordedHDR, err = encodeHist(e.rec); err != nil {
		return nil, err
	}
	if p.FailedHDR, err = encodeHist(e.failLat); err != nil {
		return nil, err
	}
	return json.Marshal(p)
}

// MarshalJSON encodes the histograms with the figures.
func (j JourneyStats) MarshalJSON() ([]byte, error) {
	type plain JourneyStats
	p := plain(j)
	var err error
	if p.LatencyHDR, err = encodeHist(j.lat); err != nil {
		return nil, err
	}
	if p.ServiceHDR, err = encodeHist(j.svc); err != nil {
		return nil, err
	}
	return json.Marshal(p)
}

// MarshalJSON encodes the second's histogram with its figures.
func (p Point) MarshalJSON() ([]byte, error) {
	type plain Point
	q := plain(p)
	var err error
	if q.HDR, err = encodeHist(p.hist); err != nil {
		return nil, err
	}
	return json.Marshal(q)
}

func encodeHist(h *hdr.PackedHistogram) (string, error) {
	if h == nil || h.TotalCount() == 0 {
		return "", nil
	}
	b, err := h.Encode()
	return string(b), err
}

func decodeHist(s string) (*hdr.PackedHistogram, error) {
	if s == "" {
		return nil, nil
	}
	return hdr.DecodePacked([]byte(s))
}

// WriteJSON writes the result as indented JSON.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// ErrNotResult means a file is not an amp result.
var ErrNotResult = errors.New("not an amp result")

// ReadResult reads a result written by WriteJSON. Errors name the file.
func ReadResult(path string) (*Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := DecodeResult(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// DecodeResult reads a result written by WriteJSON from rd.
func DecodeResult(rd io.Reader) (*Result, error) {
	var probe struct {
		Version  *int            `json:"version"`
		Requests json.RawMessage `json:"requests"`
	}
	data, err := io.ReadAll(rd)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("%w (invalid JSON at byte %d: %v)", ErrNotResult, se.Offset, err)
		}
		return nil, fmt.Errorf("%w (%v)", ErrNotResult, err)
	}
	if probe.Version == nil || probe.Requests == nil {
		return nil, fmt.Errorf("%w (no \"version\" and \"requests\" fields; write one with amp replay --json)", ErrNotResult)
	}
	if *probe.Version > Version || *probe.Version < 1 {
		return nil, fmt.Errorf("result version %d is not supported (this amp reads version %d); use a matching amp", *probe.Version, Version)
	}
	var r Result
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrNotResult, err)
	}
	for i := range r.Endpoints {
		e := &r.Endpoints[i]
		if e.Requests > 0 && (e.LatencyHDR == "" || e.ServiceHDR == "") {
			return nil, fmt.Errorf("endpoint %s has no latency_hdr/service_hdr histograms", e.Label())
		}
		var err error
		if e.lat, err = decodeHist(e.LatencyHDR); err == nil {
			if e.svc, err = decodeHist(e.ServiceHDR); err == nil {
				if e.rec, err = decodeHist(e.RecordedHDR); err == nil {
					e.failLat, err = decodeHist(e.FailedHDR)
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("endpoint %s: bad histogram: %v", e.Label(), err)
		}
		if err := e.Series.check(); err != nil {
			return nil, fmt.Errorf("endpoint %s: %v", e.Label(), err)
		}
		if e.lat == nil {
			e.lat = hdr.NewPacked(lowestUS, highestUS, sigFigs)
		}
		if e.svc == nil {
			e.svc = hdr.NewPacked(lowestUS, highestUS, sigFigs)
		}
		e.LatencyHDR, e.ServiceHDR, e.RecordedHDR, e.FailedHDR = "", "", "", ""
	}
	for i := range r.Journeys {
		j := &r.Journeys[i]
		var err error
		if j.lat, err = decodeHist(j.LatencyHDR); err == nil {
			j.svc, err = decodeHist(j.ServiceHDR)
		}
		if err != nil {
			return nil, fmt.Errorf("journey %s: bad histogram: %v", j.Name, err)
		}
		if j.lat == nil {
			j.lat = hdr.NewPacked(lowestUS, highestUS, sigFigs)
		}
		if j.svc == nil {
			j.svc = hdr.NewPacked(lowestUS, highestUS, sigFigs)
		}
		j.LatencyHDR, j.ServiceHDR = "", ""
	}
	for i := range r.Series {
		p := &r.Series[i]
		h, err := decodeHist(p.HDR)
		if err != nil {
			return nil, fmt.Errorf("series second %d: bad histogram: %v", p.T, err)
		}
		p.hist, p.HDR = h, ""
	}
	r.finish()
	return &r, nil
}
