// Package promtest lets amp's tests read /metrics as a Prometheus server
// would: scrapes parsed by Prometheus's own scrape parser (text or
// protobuf, native histograms included) into an in-memory storage, and
// PromQL queries over it run by Prometheus's engine. Only tests import it.
package promtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"
)

// Accept headers of a scrape: Prometheus's protobuf (which carries native
// histograms) and the classic text format.
const (
	AcceptProto = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
	AcceptText  = "text/plain;version=0.0.4"
)

// Storage holds scraped samples by series.
type Storage struct {
	series map[string]*series
}

type series struct {
	lset    labels.Labels
	samples []chunks.Sample
}

// New returns an empty Storage.
func New() *Storage { return &Storage{series: map[string]*series{}} }

// Scrape GETs url with accept (AcceptProto or AcceptText) and adds what it
// serves as samples at ts.
func (s *Storage) Scrape(ctx context.Context, url, accept string, ts time.Time) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	ct := resp.Header.Get("Content-Type")
	if accept == AcceptProto && expfmt.ResponseFormat(resp.Header).FormatType() != expfmt.TypeProtoDelim {
		return fmt.Errorf("GET %s: asked for protobuf, got %q", url, ct)
	}
	return s.Add(body, ct, ts)
}

// Add parses body (of Content-Type ct) with Prometheus's scrape parser,
// keeping both the native and the classic parts of histograms
// (always_scrape_classic_histograms), and adds its samples at ts.
func (s *Storage) Add(body []byte, ct string, ts time.Time) error {
	p, err := textparse.New(body, ct, labels.NewSymbolTable(), textparse.ParserOptions{KeepClassicOnClassicAndNativeHistograms: true})
	if err != nil {
		return err
	}
	t := ts.UnixMilli()
	for {
		e, err := p.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		var smp sample
		switch e {
		case textparse.EntrySeries:
			_, _, smp.f = p.Series()
		case textparse.EntryHistogram:
			_, _, smp.h, smp.fh = p.Histogram()
		default:
			continue
		}
		smp.t = t
		var lset labels.Labels
		p.Labels(&lset)
		key := lset.String()
		sr := s.series[key]
		if sr == nil {
			sr = &series{lset: lset}
			s.series[key] = sr
		}
		sr.samples = append(sr.samples, smp)
	}
}

// Names returns the metric names of every series held, sorted.
func (s *Storage) Names() []string {
	var out []string
	for _, sr := range s.series {
		out = append(out, sr.lset.Get(model.MetricNameLabel))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// HasHistogram reports whether a series of metric name holds native
// histogram samples.
func (s *Storage) HasHistogram(name string) bool {
	for _, sr := range s.series {
		if sr.lset.Get(model.MetricNameLabel) == name && len(sr.samples) > 0 && sr.samples[0].Type() != chunkenc.ValFloat {
			return true
		}
	}
	return false
}

// Query evaluates the PromQL expr at ts with Prometheus's engine.
func (s *Storage) Query(ctx context.Context, expr string, ts time.Time) (promql.Vector, error) {
	eng := promql.NewEngine(promql.EngineOpts{MaxSamples: 10_000_000, Timeout: time.Minute, LookbackDelta: 5 * time.Minute})
	q, err := eng.NewInstantQuery(ctx, s, nil, expr, ts)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		return nil, res.Err
	}
	return res.Vector()
}

// Querier implements storage.Queryable.
func (s *Storage) Querier(_, _ int64) (storage.Querier, error) {
	return &storage.MockQuerier{SelectMockFunction: s.selectSeries}, nil
}

func (s *Storage) selectSeries(_ bool, _ *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	var out []storage.Series
	for _, sr := range s.series {
		if matches(sr.lset, ms) {
			out = append(out, storage.NewListSeries(sr.lset, sr.samples))
		}
	}
	slices.SortFunc(out, func(a, b storage.Series) int { return labels.Compare(a.Labels(), b.Labels()) })
	return &seriesSet{list: out, i: -1}
}

func matches(l labels.Labels, ms []*labels.Matcher) bool {
	for _, m := range ms {
		if !m.Matches(l.Get(m.Name)) {
			return false
		}
	}
	return true
}

// seriesSet iterates a slice of series.
type seriesSet struct {
	list []storage.Series
	i    int
}

func (s *seriesSet) Next() bool                      { s.i++; return s.i < len(s.list) }
func (s *seriesSet) At() storage.Series              { return s.list[s.i] }
func (*seriesSet) Err() error                        { return nil }
func (*seriesSet) Warnings() annotations.Annotations { return nil }

// sample is one scraped value: a float or a native histogram.
type sample struct {
	t  int64
	f  float64
	h  *histogram.Histogram
	fh *histogram.FloatHistogram
}

func (s sample) T() int64                { return s.t }
func (sample) ST() int64                 { return 0 }
func (s sample) F() float64              { return s.f }
func (s sample) H() *histogram.Histogram { return s.h }

// FH returns the float histogram, converting an integer one as the
// chunk iterators do: PromQL reads every histogram as floats.
func (s sample) FH() *histogram.FloatHistogram {
	if s.fh == nil && s.h != nil {
		return s.h.ToFloat(nil)
	}
	return s.fh
}

func (s sample) Type() chunkenc.ValueType {
	switch {
	case s.h != nil:
		return chunkenc.ValHistogram
	case s.fh != nil:
		return chunkenc.ValFloatHistogram
	}
	return chunkenc.ValFloat
}

func (s sample) Copy() chunks.Sample {
	c := s
	if s.h != nil {
		c.h = s.h.Copy()
	}
	if s.fh != nil {
		c.fh = s.fh.Copy()
	}
	return c
}

// String renders a query's result, for messages.
func String(v promql.Vector) string {
	var b strings.Builder
	for _, s := range v {
		fmt.Fprintf(&b, "%s %g; ", s.Metric, s.F)
	}
	return b.String()
}
