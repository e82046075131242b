package eval

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"slices"

	"github.com/chargewatch/chargewatch/simulators/simtime"
)

// Plot is a picture of one unit's power series around a session: the true
// sessions shaded green, the alerts red (a line where each fired, a band
// while it was open, a dashed line at its estimated start).
type Plot struct {
	Title  string
	Notes  []string // lines under the title
	TS     []int64  // Unix ms
	W      []float64
	Truth  [][2]int64
	Alerts []Alert
	MaxW   float64 // top of the y axis; 0: from the data, at most 1.5 kW
}

// Layout of a plot, in SVG user units.
const (
	plotW, plotH           = 1100.0, 420.0
	padL, padR, padT, padB = 60.0, 20.0, 70.0, 40.0
	legendY                = padT - 12
	maxAutoW, minAutoW     = 4000.0, 300.0 // bounds of an automatic y axis, W
)

// Colours and text.
const (
	colSeries, colTruth    = "#1f4e9a", "#3cb371"
	colAlert, colAlertBand = "#d62728", "#f4a6a6"
	axisGrey, gridGrey     = "#444", "#ddd"
	fontStyle              = `font-family="sans-serif" font-size="12"`
	clipNote               = "readings above the axis are drawn at its top"
	svgHeader              = `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f">` + "\n"
)

const hourMS = float64(simtime.Hour)

// SVG renders the plot.
func (p *Plot) SVG() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, svgHeader, plotW, plotH, plotW, plotH)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	if len(p.TS) < 2 {
		b.WriteString("</svg>\n")
		return b.Bytes()
	}
	t0, t1 := p.TS[0], p.TS[len(p.TS)-1]
	ymax := p.MaxW
	clipped := false
	if ymax <= 0 {
		// up to the 95th percentile of the readings and twice their
		// median, so that kilowatt spikes do not flatten the charger
		s := slices.Clone(p.W)
		slices.Sort(s)
		ymax = math.Max(s[len(s)*95/100], 2*s[len(s)/2])
		ymax = math.Min(maxAutoW, math.Max(minAutoW, ymax*1.1))
	}
	for _, w := range p.W {
		if w > ymax {
			clipped = true
		}
	}
	x := func(t int64) float64 {
		return padL + (plotW-padL-padR)*float64(t-t0)/float64(t1-t0)
	}
	y := func(w float64) float64 {
		w = math.Max(0, math.Min(ymax, w))
		return plotH - padB - (plotH-padT-padB)*w/ymax
	}
	clampX := func(t int64) float64 { return x(max(t0, min(t1, t))) }
	// true sessions and alerts
	for _, s := range p.Truth {
		if s[1] < t0 || s[0] > t1 {
			continue
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" fill-opacity="0.25"/>`+"\n",
			clampX(s[0]), padT, clampX(s[1])-clampX(s[0]), plotH-padT-padB, colTruth)
	}
	for _, a := range p.Alerts {
		end := a.Resolved
		if end == 0 {
			end = t1
		}
		if end < t0 || a.Fired > t1 {
			continue
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="14" fill="%s" fill-opacity="0.7"/>`+"\n",
			clampX(a.Fired), padT, math.Max(1, clampX(end)-clampX(a.Fired)), colAlertBand)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.5"/>`+"\n",
			clampX(a.Fired), padT, clampX(a.Fired), plotH-padB, colAlert)
		if a.Start >= t0 {
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-dasharray="4 3"/>`+"\n",
				x(a.Start), padT, x(a.Start), plotH-padB, colAlert)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" fill="%s" %s>alert %.0f W</text>`+"\n", clampX(a.Fired)+4, padT+11, colAlert, fontStyle, a.StepW)
	}
	// grid and axes
	step := niceStep(ymax / 6)
	for w := 0.0; w <= ymax; w += step {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`+"\n", padL, y(w), plotW-padR, y(w), gridGrey)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end" %s>%.0f</text>`+"\n", padL-6, y(w)+4, fontStyle, w)
	}
	hours := float64(t1-t0) / hourMS
	hstep := int64(1)
	for float64(hstep)*12 < hours {
		hstep *= 2
	}
	first := simtime.DayStart(simtime.DayOf(t0))
	for t := first; t <= t1; t += hstep * simtime.Hour {
		if t < t0 {
			continue
		}
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`+"\n", x(t), plotH-padB, x(t), plotH-padB+5, axisGrey)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" %s>%s</text>`+"\n", x(t), plotH-padB+18, fontStyle, simtime.Time(t).Format("01-02 15:04"))
	}
	fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="%s"/>`+"\n", padL, padT, plotW-padL-padR, plotH-padT-padB, axisGrey)
	fmt.Fprintf(&b, `<text x="14" y="%.1f" transform="rotate(-90 14 %.1f)" text-anchor="middle" %s>power_w (W)</text>`+"\n", (padT+plotH-padB)/2, (padT+plotH-padB)/2, fontStyle)
	// the series
	b.WriteString(`<polyline fill="none" stroke="` + colSeries + `" stroke-width="1" points="`)
	for i := range p.TS {
		fmt.Fprintf(&b, "%.1f,%.1f ", x(p.TS[i]), y(p.W[i]))
	}
	b.WriteString("\"/>\n")
	// title, notes and legend
	fmt.Fprintf(&b, `<text x="%.1f" y="18" font-family="sans-serif" font-size="15" font-weight="bold">%s</text>`+"\n", padL, html.EscapeString(p.Title))
	notes := p.Notes
	if clipped {
		notes = append(notes[:len(notes):len(notes)], clipNote)
	}
	for i, n := range notes {
		if i > 1 {
			break
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" %s>%s</text>`+"\n", padL, 34+14*float64(i), fontStyle, html.EscapeString(n))
	}
	lx := plotW - padR - 430
	fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="14" height="10" fill="%s" fill-opacity="0.5"/><text x="%.1f" y="%.1f" %s>true session</text>`+"\n", lx, legendY-9, colTruth, lx+18, legendY, fontStyle)
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"/><text x="%.1f" y="%.1f" %s>alert fired (band: open)</text>`+"\n", lx+110, legendY-4, lx+124, legendY-4, colAlert, lx+128, legendY, fontStyle)
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-dasharray="4 3"/><text x="%.1f" y="%.1f" %s>estimated start</text>`+"\n", lx+290, legendY-4, lx+304, legendY-4, colAlert, lx+308, legendY, fontStyle)
	b.WriteString("</svg>\n")
	return b.Bytes()
}

// niceStep rounds a step up to 1, 2 or 5 times a power of ten.
func niceStep(s float64) float64 {
	if s <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(s)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= s {
			return m * p
		}
	}
	return 10 * p
}
