package watch

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/encoding/protowire"
)

// MaxBody bounds what Decode reads of one /metrics response (64 MiB).
const MaxBody = 64 << 20

// Decode reads the metric families of one /metrics response (in format,
// as expfmt.ResponseFormat gives it) into a shard's figures, with the run
// ids and the amp version it names. It reads at most MaxBody bytes, and
// refuses a protobuf frame longer than what follows it before decoding, so
// that a garbage response cannot make it allocate more.
func Decode(r io.Reader, format expfmt.Format) (Figures, []string, string, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBody+1))
	if err != nil {
		return Figures{}, nil, "", fmt.Errorf("reading /metrics: %w", err)
	}
	if len(data) > MaxBody {
		return Figures{}, nil, "", fmt.Errorf("reading /metrics: more than %d MiB", MaxBody>>20)
	}
	if format.FormatType() == expfmt.TypeProtoDelim {
		if err := checkFrames(data); err != nil {
			return Figures{}, nil, "", fmt.Errorf("reading /metrics: %w", err)
		}
	}
	dec := expfmt.NewDecoder(bytes.NewReader(data), format)
	var fams []*dto.MetricFamily
	for {
		mf := &dto.MetricFamily{}
		err := dec.Decode(mf)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Figures{}, nil, "", fmt.Errorf("reading /metrics: %w", err)
		}
		fams = append(fams, mf)
	}
	f, runs, version := fromFamilies(fams)
	if runs == nil && version == "" {
		return f, nil, "", errors.New("not amp's /metrics: no amp_build_info")
	}
	return f, runs, version, nil
}

// checkFrames walks the length-delimited frames of a protobuf body.
func checkFrames(data []byte) error {
	for len(data) > 0 {
		n, k := protowire.ConsumeVarint(data)
		if k < 0 {
			return errors.New("a protobuf frame with a bad length")
		}
		data = data[k:]
		if n > uint64(len(data)) {
			return fmt.Errorf("a protobuf frame of %d bytes with %d left", n, len(data))
		}
		data = data[n:]
	}
	return nil
}

// fromFamilies sums amp's metric families into figures.
func fromFamilies(fams []*dto.MetricFamily) (f Figures, runs []string, version string) {
	f.Statuses, f.Reasons, f.Skipped = map[string]float64{}, map[string]float64{}, map[string]float64{}
	eps := map[[2]string]*Endpoint{}
	ep := func(m *dto.Metric) *Endpoint {
		k := [2]string{label(m, "method"), label(m, "name")}
		e := eps[k]
		if e == nil {
			e = &Endpoint{Method: k[0], Name: k[1]}
			eps[k] = e
		}
		return e
	}
	for _, mf := range fams {
		for _, m := range mf.GetMetric() {
			v := value(m)
			switch mf.GetName() {
			case "amp_requests_total":
				f.Requests += v
				f.Statuses[label(m, "status")] += v
				ep(m).Requests += v
			case "amp_failures_total":
				f.Failures += v
				f.Reasons[label(m, "reason")] += v
				ep(m).Failures += v
			case "amp_request_duration_seconds":
				h := histogram(m.GetHistogram())
				f.Latency.Add(&h)
				ep(m).Latency.Add(&h)
			case "amp_bytes_sent_total":
				f.BytesSent += v
			case "amp_bytes_received_total":
				f.BytesReceived += v
			case "amp_late_total":
				f.Late += v
			case "amp_sessions_total":
				if label(m, "result") == "failed" {
					f.SessionsFailed += v
				} else {
					f.SessionsCompleted += v
				}
			case "amp_dropped_sessions_total":
				f.Dropped += v
			case "amp_skipped_total":
				f.Skipped[label(m, "reason")] += v
			case "amp_users":
				f.Users += v
			case "amp_target_users":
				f.TargetUsers += v
			case "amp_run_start_timestamp_seconds":
				if t := unix(v); !t.IsZero() && (f.Start.IsZero() || t.Before(f.Start)) {
					f.Start = t
				}
			case "amp_run_end_timestamp_seconds":
				if t := unix(v); t.After(f.End) {
					f.End = t
				}
			case "amp_build_info":
				runs = append(runs, label(m, "run"))
				version = label(m, "version")
			}
		}
	}
	for _, e := range eps {
		f.Endpoints = append(f.Endpoints, *e)
	}
	sortEndpoints(f.Endpoints)
	slices.Sort(runs)
	return f, slices.Compact(runs), version
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// value is the value of a counter, gauge or untyped metric (the text
// format's), or 0.
func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Untyped != nil:
		return m.GetUntyped().GetValue()
	}
	return 0
}

// unix turns Unix seconds into a time; 0, NaN and ±Inf are the zero time.
func unix(sec float64) time.Time {
	if sec <= 0 || math.IsNaN(sec) || math.IsInf(sec, 0) || sec > 1e11 {
		return time.Time{}
	}
	return time.UnixMicro(int64(math.Round(sec * 1e6))).UTC()
}

// histogram converts a scraped histogram: its native buckets (spans and
// deltas) when it has some, and its classic buckets.
func histogram(h *dto.Histogram) Histogram {
	out := Histogram{Count: float64(h.GetSampleCount()), Sum: h.GetSampleSum()}
	if h.GetSampleCountFloat() > 0 {
		out.Count = h.GetSampleCountFloat()
	}
	if len(h.GetPositiveSpan()) > 0 || h.GetZeroThreshold() > 0 || h.GetZeroCount() > 0 {
		out.Schema, out.ZeroThreshold = h.GetSchema(), h.GetZeroThreshold()
		out.ZeroCount = float64(h.GetZeroCount())
		out.Buckets = map[int]float64{}
		deltas, idx, count, k := h.GetPositiveDelta(), 0, int64(0), 0
		for _, sp := range h.GetPositiveSpan() {
			idx += int(sp.GetOffset())
			for j := uint32(0); j < sp.GetLength() && k < len(deltas); j++ {
				count += deltas[k]
				if count > 0 {
					out.Buckets[idx] += float64(count)
				}
				idx++
				k++
			}
		}
	}
	for _, b := range h.GetBucket() {
		if out.Classic == nil {
			out.Classic = map[float64]float64{}
		}
		n := float64(b.GetCumulativeCount())
		if b.GetCumulativeCountFloat() > 0 {
			n = b.GetCumulativeCountFloat()
		}
		out.Classic[b.GetUpperBound()] = n
	}
	return out
}
