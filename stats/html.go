package stats

import (
	"cmp"
	"encoding/json"
	"fmt"
	"html"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// HTMLOptions are the choices of an HTML report.
type HTMLOptions struct {
	// Bands are the limits of the latency bands (Gatling's "< 800 ms,
	// 800–1200 ms, > 1200 ms, failed"); nil means Result.BandLimits.
	Bands []time.Duration
}

// WriteHTML writes a self-contained HTML report of r with the default
// options (WriteHTMLOptions).
func WriteHTML(w io.Writer, r *Result) error { return WriteHTMLOptions(w, r, HTMLOptions{}) }

// WriteHTMLOptions writes a self-contained HTML report of r: a title naming
// the recording, target and run id, the verdict, the thresholds, the
// figures (with bytes and sessions), the latency bands and distribution,
// charts of requests and failures per second, response times (p50, p95,
// p99), users over time and response time against users, the statistics,
// status codes, percentiles, a collapsed section per endpoint, failures,
// slowdown and the run's configuration. The charts are inline SVG drawn
// here, so the page needs no script and no network to open.
func WriteHTMLOptions(w io.Writer, r *Result, opt HTMLOptions) error {
	pass, verdict := r.Verdict()
	var xs []float64
	var rps, fps, p50, p95, p99, users []float64
	for _, p := range r.Series {
		xs = append(xs, float64(p.Elapsed))
		rps = append(rps, float64(p.Requests))
		fps = append(fps, float64(p.Failures))
		p50, p95, p99 = append(p50, p.P50MS), append(p95, p.P95MS), append(p99, p.P99MS)
		users = append(users, float64(p.Users))
	}
	limits := opt.Bands
	if len(limits) == 0 {
		limits = r.BandLimits()
	}
	data := htmlData{
		R:       r,
		Pass:    pass,
		Verdict: verdict,
		Title:   reportTitle(r),
		Charts: []template.HTML{
			svgChart("Requests per second", "req/s", xs, []chartSeries{{"req/s", "#2b7bb9", rps}, {"failures/s", "#d62728", fps}}),
			svgChart("Response times (ms, from the intended start)", "ms", xs, []chartSeries{{"p50", "#2ca02c", p50}, {"p95", "#ff7f0e", p95}, {"p99", "#9467bd", p99}}),
			svgChart("Users", "users", xs, []chartSeries{{"users", "#555555", users}}),
			svgScatter("Response time against active users (each second)", r.Series),
		},
		Distribution: svgBars("Latency distribution (ms, from the intended start)", r.Stats.Distribution(40)),
		Bands:        r.Stats.Bands(limits),
		StatusCols:   r.StatusColumns(0),
		Duration:     clock(time.Duration(r.DurationS * float64(time.Second))),
		Config:       configRows(r.Config),
	}
	data.Checks = r.Checks(nil)
	for i := range r.Endpoints {
		e := &r.Endpoints[i]
		data.Endpoints = append(data.Endpoints, endpointSection{E: e, Bands: e.Bands(limits),
			Distribution: svgBars("Latency distribution of "+e.Label()+" (ms)", e.Distribution(40)),
			Charts:       endpointCharts(r, e)})
	}
	if c := r.Capacity; c != nil && len(c.Steps) > 0 {
		data.CapacityChart = capacityChart(r, c)
	}
	return reportTemplate.Execute(w, data)
}

// reportTitle names the recording, the target and the run id, those known.
func reportTitle(r *Result) string {
	parts := []string{"amp report"}
	rec := r.configString("recording")
	target := cmp.Or(r.configString("host"), r.configString("target"))
	switch {
	case rec != "" && target != "":
		parts = append(parts, rec+" → "+target)
	case rec != "" || target != "":
		parts = append(parts, rec+target)
	}
	if id := r.RunID(); id != "" {
		parts = append(parts, "run "+id)
	}
	return strings.Join(parts, " · ")
}

func capacityChart(r *Result, c *Capacity) template.HTML {
	var at, users, p95, steprps []float64
	for _, s := range c.Steps {
		at = append(at, s.Start.Sub(r.Start).Seconds())
		load := float64(s.Users)
		if s.ArrivalRate > 0 {
			load = s.ArrivalRate
		}
		users, p95, steprps = append(users, load), append(p95, s.P95MS), append(steprps, s.RPS)
	}
	name := "users"
	if c.Steps[0].ArrivalRate > 0 {
		name = "sessions/s"
	}
	return svgChart("Capacity search: each step's "+name+", req/s and p95 (ms)", "", at,
		[]chartSeries{{name, "#555555", users}, {"req/s", "#2b7bb9", steprps}, {"p95 ms", "#ff7f0e", p95}})
}

// endpointSection is one endpoint's collapsed section of the report.
type endpointSection struct {
	E            *EndpointStats
	Bands        []Band
	Distribution template.HTML
	Charts       []template.HTML // its own time series
}

// endpointCharts draws an endpoint's time series: requests and failures a
// second, average and maximum latency.
func endpointCharts(r *Result, e *EndpointStats) []template.HTML {
	s := e.Series
	if s.Len() == 0 {
		return nil
	}
	xs := make([]float64, s.Len())
	for i := range xs {
		xs[i] = float64(s.T0 + int64(i) - r.Start.Unix())
	}
	req, fail := make([]float64, len(xs)), make([]float64, len(xs))
	for i := range xs {
		req[i], fail[i] = float64(s.Requests[i]), float64(s.Failures[i])
	}
	return []template.HTML{
		svgChart("Requests per second of "+e.Label(), "req/s", xs, []chartSeries{{"req/s", "#2b7bb9", req}, {"failures/s", "#d62728", fail}}),
		svgChart("Response time of "+e.Label()+" (ms, average and maximum each second)", "ms", xs,
			[]chartSeries{{"avg", "#2ca02c", s.AvgMS}, {"max", "#9467bd", s.MaxMS}}),
	}
}

type htmlData struct {
	R             *Result
	Pass          bool
	Verdict       string
	Title         string
	Charts        []template.HTML
	Distribution  template.HTML
	Bands         []Band
	StatusCols    []string
	Endpoints     []endpointSection
	Checks        []CheckResult // those responses failed: the result knows of no others
	CapacityChart template.HTML
	Duration      string
	Config        [][2]string
}

func configRows(cfg map[string]any) [][2]string {
	var rows [][2]string
	for _, k := range sortedKeys(cfg) {
		v := cfg[k]
		s, ok := v.(string)
		if !ok {
			b, err := json.Marshal(v)
			if err != nil {
				s = fmt.Sprint(v)
			} else {
				s = string(b)
			}
		}
		rows = append(rows, [2]string{k, s})
	}
	return rows
}

type chartSeries struct {
	name, color string
	y           []float64
}

const (
	chartW, chartH                 = 960, 260
	padL, padR, padT, padB float64 = 64, 16, 34, 36
)

// svgChart draws a line chart of series over xs (elapsed seconds).
func svgChart(title, unit string, xs []float64, series []chartSeries) template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		chartW, chartH, html.EscapeString(title))
	fmt.Fprintf(&b, `<text x="%g" y="18" class="title">%s</text>`, padL, html.EscapeString(title))
	x0, x1 := 0.0, 1.0
	if len(xs) > 0 {
		x0, x1 = xs[0], xs[len(xs)-1]
		if x1 <= x0 {
			x1 = x0 + 1
		}
	}
	ymax := 0.0
	for _, s := range series {
		for _, v := range s.y {
			ymax = math.Max(ymax, v)
		}
	}
	yTicks := niceTicks(ymax)
	ytop := yTicks[len(yTicks)-1]
	plotW, plotH := float64(chartW)-padL-padR, float64(chartH)-padT-padB
	px := func(x float64) float64 { return padL + (x-x0)/(x1-x0)*plotW }
	py := func(y float64) float64 { return padT + plotH - y/ytop*plotH }
	// grid and axes
	for _, t := range yTicks {
		y := py(t)
		fmt.Fprintf(&b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" class="grid"/>`, padL, y, padL+plotW, y)
		fmt.Fprintf(&b, `<text x="%g" y="%.1f" class="ylabel">%s</text>`, padL-6, y+4, html.EscapeString(tickLabel(t)))
	}
	for _, t := range timeTicks(x0, x1) {
		x := px(t)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%g" x2="%.1f" y2="%g" class="axis"/>`, x, padT+plotH, x, padT+plotH+4)
		fmt.Fprintf(&b, `<text x="%.1f" y="%g" class="xlabel">%s</text>`, x, padT+plotH+18, clock(time.Duration(t)*time.Second))
	}
	fmt.Fprintf(&b, `<line x1="%g" y1="%g" x2="%g" y2="%g" class="axis"/>`, padL, padT+plotH, padL+plotW, padT+plotH)
	fmt.Fprintf(&b, `<text x="%g" y="%g" class="unit">%s</text>`, 4.0, padT-8, html.EscapeString(unit))
	if len(xs) == 0 {
		fmt.Fprintf(&b, `<text x="%g" y="%g" class="nodata">no data</text>`, padL+plotW/2, padT+plotH/2)
	}
	// series
	lx := padL + plotW
	for i := len(series) - 1; i >= 0; i-- {
		s := series[i]
		if len(xs) > 0 {
			fmt.Fprintf(&b, `<polyline class="line" fill="none" stroke="%s" stroke-width="1.6" points="`, s.color)
			for j, v := range s.y {
				if j > 0 {
					b.WriteByte(' ')
				}
				fmt.Fprintf(&b, "%.1f,%.1f", px(xs[j]), py(v))
			}
			fmt.Fprintf(&b, `"><title>%s</title></polyline>`, html.EscapeString(s.name))
		}
		lx -= float64(len(s.name))*7 + 26
		fmt.Fprintf(&b, `<rect x="%.1f" y="10" width="12" height="4" fill="%s"/><text x="%.1f" y="16" class="legend">%s</text>`,
			lx, s.color, lx+16, html.EscapeString(s.name))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // built from escaped text and numbers only
}

// niceTicks returns 0 and up to 5 round values covering max.
func niceTicks(maxV float64) []float64 {
	if maxV <= 0 {
		return []float64{0, 1}
	}
	raw := maxV / 4
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []float64
	for v := 0.0; ; v += step {
		out = append(out, v)
		if v >= maxV {
			break
		}
	}
	return out
}

func tickLabel(v float64) string {
	if v >= 10000 {
		return strconv.FormatFloat(v/1000, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// timeTicks returns round elapsed seconds between x0 and x1.
func timeTicks(x0, x1 float64) []float64 {
	span := x1 - x0
	step := 1.0
	for _, s := range []float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400} {
		step = s
		if span/s <= 8 {
			break
		}
	}
	var out []float64
	for t := math.Ceil(x0/step) * step; t <= x1; t += step {
		out = append(out, t)
	}
	return out
}

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"ms":     fmtMS,
	"num":    func(f float64) string { return trimFloat(f, 3) },
	"pct":    pct,
	"pctn":   func(p float64) string { return pctName(p) + "%" },
	"at":     func(l Latency, p float64) string { return fmtMS(l.At(p)) },
	"f2":     func(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) },
	"time":   func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"keys":   sortedKeys[int64],
	"bytes":  FormatBytes,
	"label":  StatusLabel,
	"status": func(s *Stats, code string) int64 { return s.Statuses[code] },
	"bandclass": func(i int, b Band) string {
		if b.Failed {
			return "b-failed"
		}
		return fmt.Sprintf("b%d", min(i, 3))
	},
	"avgsize": func(bytes, n int64) string {
		return strconv.FormatFloat(avgSize(bytes, n), 'f', 0, 64)
	},
}).Parse(reportHTML + bandsHTML))

// bandsHTML draws the latency bands as one stacked bar and a table.
const bandsHTML = `{{define "bands"}}<div class="bands" role="img" aria-label="response time bands">{{range $i, $b := .}}{{if .Count}}<div class="{{bandclass $i $b}}" style="flex:{{.Count}}" title="{{.Label}}: {{.Count}}"></div>{{end}}{{end}}</div>
<div class="scroll"><table class="bands-table"><tr><th class="l">Band</th><th>Requests</th><th>Share</th></tr>
{{range $i, $b := .}}<tr><td class="l"><span class="swatch {{bandclass $i $b}}"></span>{{.Label}}</td><td>{{.Count}}</td><td>{{pct .Share}}</td></tr>
{{end}}</table></div>{{end}}`

const reportHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · {{time .R.Start}}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
main{max-width:1232px;margin:0 auto;padding:24px;box-sizing:border-box}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d8dce3;padding-bottom:4px}
.verdict{font-weight:600;padding:10px 14px;border-radius:6px;margin:12px 0}
.pass{background:#e4f5e8;color:#17602c}.fail{background:#fde8e8;color:#8c1d1d}
dl.summary{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:8px;margin:0}
dl.summary div{background:#fff;border:1px solid #e1e4ea;border-radius:6px;padding:8px 10px}
dt{font-size:12px;color:#5b6475}dd{margin:0;font-size:18px;font-weight:600}
table{border-collapse:collapse;width:100%;background:#fff;font-variant-numeric:tabular-nums}
th,td{padding:5px 7px;border-bottom:1px solid #e8eaef;text-align:right;white-space:nowrap}
th{white-space:normal}
th{background:#eef0f4;font-weight:600}td.l,th.l{text-align:left}tr.total td{font-weight:600;border-top:2px solid #c9ced8}
.chart{width:100%;height:auto;background:#fff;border:1px solid #e1e4ea;border-radius:6px;margin-bottom:12px}
.chart .title{font-weight:600;font-size:13px;fill:#1d2330}.chart .grid{stroke:#e8eaef}.chart .axis{stroke:#9aa3b2}
.chart .ylabel{font-size:11px;fill:#5b6475;text-anchor:end}.chart .xlabel{font-size:11px;fill:#5b6475;text-anchor:middle}
.chart .unit,.chart .legend{font-size:11px;fill:#5b6475}.chart .nodata{font-size:14px;fill:#9aa3b2;text-anchor:middle}
.muted{color:#5b6475}.ok{color:#17602c;font-weight:600}.bad{color:#8c1d1d;font-weight:600}
code{font-size:13px}.scroll{overflow-x:auto;max-width:100%}
td.l,th.l{white-space:normal;overflow-wrap:anywhere;min-width:4em}
.bands{display:flex;height:26px;border-radius:6px;overflow:hidden;margin:8px 0;border:1px solid #e1e4ea}
.bands div{min-width:0}.b0{background:#2ca02c}.b1{background:#ffbf00}.b2{background:#ff7f0e}.b3{background:#9467bd}.b-failed{background:#d62728}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px;vertical-align:baseline}
details.endpoint{background:#fff;border:1px solid #e1e4ea;border-radius:6px;margin:6px 0;padding:6px 12px}
details.endpoint summary{cursor:pointer;font-weight:600;overflow-wrap:anywhere}
.ep-charts{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:0 10px}
details.endpoint summary span{font-weight:400;color:#5b6475;margin-left:8px}
</style>
</head>
<body>
<main>
<h1 id="title">{{.Title}}</h1>
<div class="muted">{{time .R.Start}} to {{time .R.End}} ({{.Duration}})</div>
<div class="verdict {{if .Pass}}pass{{else}}fail{{end}}" id="verdict">{{.Verdict}}</div>
<dl class="summary">
<div><dt>Requests</dt><dd>{{.R.Requests}}</dd></div>
<div><dt>Failures</dt><dd>{{.R.Failures}} ({{pct .R.FailureRate}})</dd></div>
<div><dt>Requests/s</dt><dd>{{f2 .R.RPS}}</dd></div>
<div><dt>p50 / p95 / p99 (ms)</dt><dd>{{ms .R.Latency.P50}} / {{ms .R.Latency.P95}} / {{ms .R.Latency.P99}}</dd></div>
<div><dt>Max (ms)</dt><dd>{{ms .R.Latency.Max}}</dd></div>
<div><dt>Peak users</dt><dd>{{.R.Users}}</dd></div>
{{with .R.Slowdown}}<div><dt>Slowdown p50 / p95</dt><dd>{{f2 .P50}}x / {{f2 .P95}}x</dd></div>{{end}}
<div><dt>Bytes sent</dt><dd id="bytes-sent">{{bytes .R.BytesSent}}</dd></div>
<div><dt>Bytes received</dt><dd id="bytes-received">{{bytes .R.Bytes}}</dd></div>
<div><dt>Sessions completed</dt><dd id="sessions-completed">{{.R.Sessions.Completed}}</dd></div>
<div><dt>Sessions failed</dt><dd id="sessions-failed">{{.R.Sessions.Failed}}</dd></div>
</dl>
{{if .R.Thresholds}}<h2>Thresholds</h2>
<div class="scroll"><table id="thresholds"><tr><th class="l">Result</th><th class="l">Threshold</th><th>Observed</th><th>Limit</th><th class="l">Detail</th></tr>
{{range .R.Thresholds}}<tr><td class="l {{if .Pass}}ok{{else}}bad{{end}}">{{if .Pass}}pass{{else}}FAIL{{end}}</td><td class="l"><code>{{.Expr}}</code></td><td>{{num .Observed}} {{.Unit}}</td><td>{{num .Limit}} {{.Unit}}</td><td class="l">{{.Message}}</td></tr>
{{end}}</table></div>{{end}}
{{if .Checks}}<h2>Checks</h2>
<div class="scroll"><table id="checks"><tr><th class="l">Result</th><th class="l">Check</th><th class="l">Observed</th><th class="l">Where</th></tr>
{{range .Checks}}<tr><td class="l {{if .Pass}}ok{{else}}bad{{end}}">{{if .Pass}}pass{{else}}FAIL{{end}}</td><td class="l"><code>{{.Name}}</code></td><td class="l">{{.Message}}</td><td class="l">{{.Detail}}</td></tr>
{{end}}</table></div>{{end}}
<h2>Response time bands</h2>
{{template "bands" .Bands}}
{{.Distribution}}
{{with .R.Capacity}}<h2>Capacity</h2>
<p id="capacity">{{if .Users}}<strong>{{.Users}} users, {{f2 .RPS}} req/s</strong>: the most users that met every threshold{{if .FailedAt}}; {{.FailedAt}} users failed{{end}}{{else if .ArrivalRate}}<strong>{{f2 .ArrivalRate}} sessions a second, {{f2 .RPS}} req/s</strong>: the highest arrival rate that met every threshold{{if .FailedAtRate}}; {{f2 .FailedAtRate}} failed{{end}}{{else}}<strong>No step met the thresholds</strong>{{end}} (search ended: {{.Ended}}).</p>
<div class="scroll"><table id="capacity-steps"><tr><th>Users or sessions/s</th><th>Requests</th><th>Requests/s</th><th>p95 (ms)</th><th>Failed</th><th class="l">Result</th></tr>
{{range .Steps}}<tr><td>{{if .ArrivalRate}}{{f2 .ArrivalRate}}/s{{else}}{{.Users}}{{end}}</td><td>{{.Requests}}</td><td>{{f2 .RPS}}</td><td>{{ms .P95MS}}</td><td>{{pct .FailureRate}}</td><td class="l {{if .Pass}}ok{{else}}bad{{end}}">{{if .Pass}}held{{else}}failed: {{range $i, $f := .Failed}}{{if $i}}; {{end}}{{$f}}{{end}}{{end}}</td></tr>
{{end}}</table></div>
{{$.CapacityChart}}{{end}}
{{if .R.Journeys}}<h2>Journeys</h2>
<div class="scroll"><table id="journeys"><tr><th class="l">Journey</th><th># Requests</th><th># Fails</th><th>RPS</th><th>Median (ms)</th><th>p95 (ms)</th><th>p99 (ms)</th></tr>
{{range .R.Journeys}}<tr><td class="l">{{.Name}}</td><td>{{.Requests}}</td><td>{{.Failures}}</td><td>{{f2 .RPS}}</td><td>{{ms .Latency.P50}}</td><td>{{ms .Latency.P95}}</td><td>{{ms .Latency.P99}}</td></tr>
{{end}}</table></div>{{end}}
{{if or .R.MessagesSent .R.MessagesReceived}}<h2>WebSocket messages</h2>
<div class="scroll"><table id="websocket"><tr><th class="l">Type</th><th class="l">Name</th><th>Sent</th><th>Received</th></tr>
{{range .R.Endpoints}}{{if or .MessagesSent .MessagesReceived}}<tr><td class="l">{{.Method}}</td><td class="l">{{.Name}}</td><td>{{.MessagesSent}}</td><td>{{.MessagesReceived}}</td></tr>
{{end}}{{end}}</table></div>
<p class="muted">Connect time is the upgrade's latency in the request statistics; the WS rows time each message the server answered to that answer.</p>
{{end -}}
<h2>Charts</h2>
<div id="charts">{{range .Charts}}{{.}}
{{end}}</div>
<h2>Request statistics</h2>
<div class="scroll"><table id="requests"><tr><th class="l">Type</th><th class="l">Name</th><th># Requests</th><th># Fails</th><th>Average (ms)</th><th>Min (ms)</th><th>Max (ms)</th><th>Median (ms)</th><th>p95 (ms)</th><th>p99 (ms)</th><th>Average size (bytes)</th><th>RPS</th><th>Failures/s</th></tr>
{{range .R.Endpoints}}<tr><td class="l">{{.Method}}</td><td class="l">{{.Name}}</td><td>{{.Requests}}</td><td>{{.Failures}}</td><td>{{ms .Latency.Avg}}</td><td>{{ms .Latency.Min}}</td><td>{{ms .Latency.Max}}</td><td>{{ms .Latency.P50}}</td><td>{{ms .Latency.P95}}</td><td>{{ms .Latency.P99}}</td><td>{{avgsize .Bytes .Requests}}</td><td>{{f2 .RPS}}</td><td>{{f2 .FailuresPerSec}}</td></tr>
{{end}}<tr class="total"><td class="l"></td><td class="l">Aggregated</td><td>{{.R.Requests}}</td><td>{{.R.Failures}}</td><td>{{ms .R.Latency.Avg}}</td><td>{{ms .R.Latency.Min}}</td><td>{{ms .R.Latency.Max}}</td><td>{{ms .R.Latency.P50}}</td><td>{{ms .R.Latency.P95}}</td><td>{{ms .R.Latency.P99}}</td><td>{{avgsize .R.Bytes .R.Requests}}</td><td>{{f2 .R.RPS}}</td><td>{{f2 .R.FailuresPerSec}}</td></tr>
</table></div>
<h2>Status codes and bytes</h2>
<div class="scroll"><table id="statuses"><tr><th class="l">Type</th><th class="l">Name</th>{{range .StatusCols}}<th>{{label .}}</th>{{end}}<th>Bytes sent</th><th>Bytes received</th></tr>
{{$cols := .StatusCols}}{{range .R.Endpoints}}{{$s := .Stats}}<tr><td class="l">{{.Method}}</td><td class="l">{{.Name}}</td>{{range $cols}}<td>{{status $s .}}</td>{{end}}<td>{{bytes .BytesSent}}</td><td>{{bytes .Bytes}}</td></tr>
{{end}}{{$t := .R.Stats}}<tr class="total"><td class="l"></td><td class="l">Aggregated</td>{{range $cols}}<td>{{status $t .}}</td>{{end}}<td>{{bytes .R.BytesSent}}</td><td>{{bytes .R.Bytes}}</td></tr>
</table></div>
<p class="muted" id="sessions">{{with .R.SessionsLine}}{{.}}.{{else}}No session ran to its end.{{end}} Status "no resp" counts the tasks that got no response (a transport error).</p>
<h2>Response time percentiles (ms)</h2>
<div class="scroll"><table id="percentiles"><tr><th class="l">Type</th><th class="l">Name</th>{{range .R.Percentiles}}<th>{{pctn .}}</th>{{end}}</tr>
{{$p := .R.Percentiles}}{{range .R.Endpoints}}<tr><td class="l">{{.Method}}</td><td class="l">{{.Name}}</td>{{$l := .Latency}}{{range $p}}<td>{{at $l .}}</td>{{end}}</tr>
{{end}}<tr class="total"><td class="l"></td><td class="l">Aggregated</td>{{$l := .R.Latency}}{{range $p}}<td>{{at $l .}}</td>{{end}}</tr>
</table></div>
<p class="muted">Latency counts from each task's intended start (coordinated omission corrected). Service time, from the actual send: p50 {{ms .R.Service.P50}} ms, p95 {{ms .R.Service.P95}} ms, p99 {{ms .R.Service.P99}} ms.</p>
<h2>Endpoints</h2>
<div id="endpoints">{{range .Endpoints}}<details class="endpoint"><summary>{{.E.Method}} {{.E.Name}}<span>{{.E.Requests}} requests, {{.E.Failures}} failed, p95 {{ms .E.Latency.P95}} ms</span></summary>
<div class="scroll"><table><tr><th># Requests</th><th># Fails</th><th>RPS</th><th>Median (ms)</th><th>p95 (ms)</th><th>p99 (ms)</th><th>Max (ms)</th><th>Bytes sent</th><th>Bytes received</th><th class="l">Status codes</th></tr>
<tr><td>{{.E.Requests}}</td><td>{{.E.Failures}}</td><td>{{f2 .E.RPS}}</td><td>{{ms .E.Latency.P50}}</td><td>{{ms .E.Latency.P95}}</td><td>{{ms .E.Latency.P99}}</td><td>{{ms .E.Latency.Max}}</td><td>{{bytes .E.BytesSent}}</td><td>{{bytes .E.Bytes}}</td><td class="l">{{$s := .E.Stats}}{{range $i, $k := keys .E.Statuses}}{{if $i}}, {{end}}{{label $k}} ×{{index $s.Statuses $k}}{{end}}</td></tr></table></div>
{{template "bands" .Bands}}
<div class="ep-charts">{{range .Charts}}{{.}}
{{end}}{{.Distribution}}</div>
</details>
{{end}}</div>
<h2>Failures</h2>
{{if .R.Errors}}<div class="scroll"><table id="failures"><tr><th># Occurrences</th><th class="l">Type</th><th class="l">Name</th><th class="l">Reason</th><th class="l">First seen</th><th class="l">Last seen</th></tr>
{{range .R.Errors}}<tr><td>{{.Count}}</td><td class="l">{{.Method}}</td><td class="l">{{.Name}}</td><td class="l">{{.Reason}}{{if .Sample}} (e.g. {{printf "%q" .Sample}}){{end}}</td><td class="l">{{time .FirstSeen}}</td><td class="l">{{time .LastSeen}}</td></tr>
{{end}}</table></div>{{else}}<p class="muted">No failures.</p>{{end}}
{{if .R.Slowdown}}<h2>Slowdown vs the recording</h2>
<div class="scroll"><table id="slowdown"><tr><th class="l">Type</th><th class="l">Name</th><th>Recorded p50 (ms)</th><th>Replayed p50 (ms)</th><th>x</th><th>Recorded p95 (ms)</th><th>Replayed p95 (ms)</th><th>x</th></tr>
{{range $e := .R.Endpoints}}{{with $e.Slowdown}}<tr><td class="l">{{$e.Method}}</td><td class="l">{{$e.Name}}</td><td>{{ms .RecordedP50MS}}</td><td>{{ms .ReplayedP50MS}}</td><td>{{f2 .P50}}x</td><td>{{ms .RecordedP95MS}}</td><td>{{ms .ReplayedP95MS}}</td><td>{{f2 .P95}}x</td></tr>
{{end}}{{end}}
</table></div>{{end}}
{{if .R.Skipped}}<h2>Skipped tasks</h2>
<div class="scroll"><table id="skipped"><tr><th>Tasks</th><th class="l">Reason</th></tr>
{{range $k := keys .R.Skipped}}<tr><td>{{index $.R.Skipped $k}}</td><td class="l">{{$k}}</td></tr>
{{end}}</table></div>{{end}}
<h2>Configuration</h2>
{{if .Config}}<div class="scroll"><table id="config">{{range .Config}}<tr><td class="l"><code>{{index . 0}}</code></td><td class="l">{{index . 1}}</td></tr>
{{end}}</table></div>{{else}}<p class="muted">None recorded.</p>{{end}}
<p class="muted">Written by amp; result format version {{.R.Version}}. Histograms are HdrHistograms (3 significant digits); minimum, maximum and average are exact.</p>
</main>
</body>
</html>
`
