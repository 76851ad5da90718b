package stats

import (
	"fmt"
	"html"
	"html/template"
	"strings"
)

// svgFrame opens a chart's SVG with its title, and draws the y grid with
// labels up to ymax; it returns the plot's geometry.
func svgFrame(b *strings.Builder, title, unit string, ymax float64) (py func(float64) float64, plotW, plotH float64) {
	fmt.Fprintf(b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		chartW, chartH, html.EscapeString(title))
	fmt.Fprintf(b, `<text x="%g" y="18" class="title">%s</text>`, padL, html.EscapeString(title))
	yTicks := niceTicks(ymax)
	ytop := yTicks[len(yTicks)-1]
	plotW, plotH = float64(chartW)-padL-padR, float64(chartH)-padT-padB
	py = func(y float64) float64 { return padT + plotH - y/ytop*plotH }
	for _, t := range yTicks {
		y := py(t)
		fmt.Fprintf(b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" class="grid"/>`, padL, y, padL+plotW, y)
		fmt.Fprintf(b, `<text x="%g" y="%.1f" class="ylabel">%s</text>`, padL-6, y+4, html.EscapeString(tickLabel(t)))
	}
	fmt.Fprintf(b, `<line x1="%g" y1="%g" x2="%g" y2="%g" class="axis"/>`, padL, padT+plotH, padL+plotW, padT+plotH)
	fmt.Fprintf(b, `<text x="%g" y="%g" class="unit">%s</text>`, 4.0, padT-8, html.EscapeString(unit))
	return py, plotW, plotH
}

// xTick draws a tick and its label on the x axis.
func xTick(b *strings.Builder, x, plotH float64, label string) {
	fmt.Fprintf(b, `<line x1="%.1f" y1="%g" x2="%.1f" y2="%g" class="axis"/>`, x, padT+plotH, x, padT+plotH+4)
	fmt.Fprintf(b, `<text x="%.1f" y="%g" class="xlabel">%s</text>`, x, padT+plotH+18, html.EscapeString(label))
}

func noData(b *strings.Builder, plotW, plotH float64) {
	fmt.Fprintf(b, `<text x="%g" y="%g" class="nodata">no data</text>`, padL+plotW/2, padT+plotH/2)
}

// svgBars draws a latency distribution as bars: requests per bin.
func svgBars(title string, bins []Bin) template.HTML {
	var b strings.Builder
	var ymax float64
	for _, bin := range bins {
		ymax = max(ymax, float64(bin.Count))
	}
	py, plotW, plotH := svgFrame(&b, title, "requests", ymax)
	if len(bins) == 0 {
		noData(&b, plotW, plotH)
		b.WriteString(`</svg>`)
		return template.HTML(b.String())
	}
	w := plotW / float64(len(bins))
	for i, bin := range bins {
		x, y := padL+float64(i)*w, py(float64(bin.Count))
		fmt.Fprintf(&b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#2b7bb9"><title>%s–%s ms: %d</title></rect>`,
			x+0.5, y, max(w-1, 0.5), padT+plotH-y, fmtMS(bin.LoMS), fmtMS(bin.HiMS), bin.Count)
	}
	step := max(len(bins)/8, 1)
	for i := 0; i <= len(bins); i += step {
		label := "0"
		if i > 0 {
			label = fmtMS(bins[i-1].HiMS)
		}
		xTick(&b, padL+float64(i)*w, plotH, label)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // built from escaped text and numbers only
}

// svgScatter draws the p50 and p95 of each second against the users active
// in it (Gatling's response time against active users).
func svgScatter(title string, pts []Point) template.HTML {
	var b strings.Builder
	var xmax, ymax float64
	n := 0
	for _, p := range pts {
		if p.Requests == 0 {
			continue
		}
		n++
		xmax, ymax = max(xmax, float64(p.Users)), max(ymax, p.P95MS)
	}
	py, plotW, plotH := svgFrame(&b, title, "ms", ymax)
	xTicks := niceTicks(max(xmax, 1))
	xtop := xTicks[len(xTicks)-1]
	px := func(x float64) float64 { return padL + x/xtop*plotW }
	for _, t := range xTicks {
		xTick(&b, px(t), plotH, tickLabel(t))
	}
	fmt.Fprintf(&b, `<text x="%g" y="%g" class="unit">users</text>`, padL+plotW-30, padT+plotH+32)
	if n == 0 {
		noData(&b, plotW, plotH)
	}
	for _, s := range []struct {
		name, color string
		y           func(Point) float64
	}{{"p95", "#ff7f0e", func(p Point) float64 { return p.P95MS }}, {"p50", "#2ca02c", func(p Point) float64 { return p.P50MS }}} {
		fmt.Fprintf(&b, `<g class="dots" fill="%s"><title>%s</title>`, s.color, s.name)
		for _, p := range pts {
			if p.Requests > 0 {
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3"/>`, px(float64(p.Users)), py(s.y(p)))
			}
		}
		b.WriteString(`</g>`)
	}
	lx := padL + plotW
	for _, s := range [][2]string{{"p50", "#2ca02c"}, {"p95", "#ff7f0e"}} {
		lx -= float64(len(s[0]))*7 + 26
		fmt.Fprintf(&b, `<rect x="%.1f" y="10" width="12" height="4" fill="%s"/><text x="%.1f" y="16" class="legend">%s</text>`,
			lx, s[1], lx+16, s[0])
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // built from escaped text and numbers only
}
