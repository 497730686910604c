package bedrock

import (
	"bytes"
	"cmp"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The report's charts: tokens per UTC day and tokens per model, each bar
// stacked by kind (input, output, cache read, cache write). They are drawn
// with the standard library and a built-in bitmap font, into a paletted
// image: flat colours without anti-aliasing compress to a few kilobytes,
// and the same report always gives the same bytes.

// ChartWidth and ChartHeight are the default chart size: at 100 % the
// labels are 14 pixels tall, and 90 daily bars still get 7 pixels each.
const (
	ChartWidth  = 960
	ChartHeight = 540
)

const (
	chartMinWidth  = 320
	chartMinHeight = 200
	chartMaxDim    = 4096
	// chartMaxWindowDays bounds the empty days a window adds to the daily
	// chart (the tool allows 90); a longer window shows the days with data.
	chartMaxWindowDays = 400
	chartMaxModelRows  = 10
)

// ChartFileNameMeta is the _meta key of an image block that suggests a
// file name (without extension) for a client that saves it; the REPL
// uses it so the two charts are told apart by name.
const ChartFileNameMeta = "mcplambda/filename"

// ChartInfo says what a chart covers, for its subtitle.
type ChartInfo struct {
	Region string // "" leaves it out
	// Start and End (exclusive) are the report window. The daily chart
	// gives every UTC day of it a slot, so a day without usage shows as a
	// gap instead of vanishing. Zero values: the days with data only.
	Start, End time.Time
}

// Palette indices. The palette is fixed, so tests can sample pixels by
// colour.
const (
	chartBG uint8 = iota
	chartGrid
	chartAxis
	chartTitle
	chartLabel
	chartKind0 // chartKind0+k is the colour of chartKinds[k]
)

var chartPalette = color.Palette{
	color.RGBA{0xff, 0xff, 0xff, 0xff}, // background
	color.RGBA{0xe1, 0xe4, 0xe8, 0xff}, // gridlines
	color.RGBA{0x8c, 0x95, 0x9f, 0xff}, // axis
	color.RGBA{0x1f, 0x23, 0x28, 0xff}, // title
	color.RGBA{0x4d, 0x55, 0x5e, 0xff}, // labels
	// The kinds, from the Okabe-Ito palette, which stays distinct for the
	// common forms of colour blindness.
	color.RGBA{0x00, 0x72, 0xb2, 0xff}, // input: blue
	color.RGBA{0xe6, 0x9f, 0x00, 0xff}, // output: orange
	color.RGBA{0x00, 0x9e, 0x73, 0xff}, // cache read: green
	color.RGBA{0xcc, 0x79, 0xa7, 0xff}, // cache write: pink
}

// chartKinds names the stacked parts of a bar, bottom (or left) first.
var chartKinds = [4]string{"Input", "Output", "Cache read", "Cache write"}

// chartStack splits t into the stacked parts, in chartKinds order. Counts
// below zero (never written by Bedrock) draw as nothing.
func chartStack(t Totals) [4]uint64 {
	return [4]uint64{chartNonNeg(t.InputTokens), chartNonNeg(t.OutputTokens), chartNonNeg(t.CacheReadTokens), chartNonNeg(t.CacheWriteTokens)}
}

func chartNonNeg(v int64) uint64 {
	if v < 0 {
		return 0
	}
	return uint64(v)
}

// chartSum adds the parts, saturating: four int64 maxima overflow uint64.
func chartSum(parts [4]uint64) uint64 {
	var s uint64
	for _, p := range parts {
		s = chartAdd(s, p)
	}
	return s
}

func chartAdd(a, b uint64) uint64 {
	s, carry := bits.Add64(a, b, 0)
	if carry != 0 {
		return math.MaxUint64
	}
	return s
}

// chartMulDiv returns v*n/d (rounded down) without overflowing; a result
// beyond uint64 saturates.
func chartMulDiv(v, n, d uint64) uint64 {
	hi, lo := bits.Mul64(v, n)
	if hi >= d {
		return math.MaxUint64
	}
	q, _ := bits.Div64(hi, lo, d)
	return q
}

// chartTicks picks a round step (1, 2, 2.5 or 5 times a power of ten)
// giving about target gridlines up to peak, and the axis top: the first
// multiple of the step at or above peak (saturated near the uint64 limit).
func chartTicks(peak uint64, target uint64) (step, top uint64) {
	if peak == 0 {
		return 0, 0
	}
	raw := peak / target
	if peak%target != 0 {
		raw++
	}
	for p := uint64(1); step == 0; p *= 10 {
		// 2.5 only from 10 up: 2.5 tokens is no tick.
		for i, c := range []uint64{p, 2 * p, 5 * p / 2, 5 * p} {
			if c >= raw && (i != 2 || p >= 10) {
				step = c
				break
			}
		}
	}
	k := peak / step
	if peak%step != 0 {
		k++
	}
	hi, lo := bits.Mul64(k, step)
	if hi != 0 {
		return step, math.MaxUint64
	}
	return step, lo
}

// chartHuman formats a token count with k, M, B or T and at most three
// significant digits (1.25M, 12.5k, 250k), as people read axis labels.
func chartHuman(v uint64) string {
	if v < 1000 {
		return strconv.FormatUint(v, 10)
	}
	units := []struct {
		div    uint64
		suffix string
	}{{1e3, "k"}, {1e6, "M"}, {1e9, "B"}, {1e12, "T"}}
	u := 0
	for u+1 < len(units) && v >= units[u+1].div {
		u++
	}
	for {
		div := units[u].div
		// Three significant digits: the decimals depend on the whole part,
		// then a single rounding (half up) at that precision.
		decimals, pow := 2, uint64(100)
		switch whole := v / div; {
		case whole >= 100:
			decimals, pow = 0, 1
		case whole >= 10:
			decimals, pow = 1, 10
		}
		hi, lo := bits.Mul64(v, pow)
		q, r := bits.Div64(hi, lo, div) // hi < div: pow <= 100 < div
		if r >= div-r {
			q++
		}
		whole, frac := q/pow, q%pow
		if whole >= 1000 && u+1 < len(units) {
			u++ // 999.7k reads better as 1M
			continue
		}
		s := strconv.FormatUint(whole, 10)
		if frac != 0 {
			f := strconv.FormatUint(frac, 10)
			for len(f) < decimals {
				f = "0" + f
			}
			s += "." + strings.TrimRight(f, "0")
		}
		return s + units[u].suffix
	}
}

// chartDay is one slot of the daily chart.
type chartDay struct {
	key   string // "2006-01-02" normally
	label string // "Nov 18"
	parts [4]uint64
}

// chartDays merges the data's days with every day of the window, sorted.
func chartDays(daily []Group, info ChartInfo) []chartDay {
	byKey := map[string][4]uint64{}
	for _, g := range daily {
		p, q := byKey[g.Key], chartStack(g.Totals)
		for k := range p {
			p[k] = chartAdd(p[k], q[k])
		}
		byKey[g.Key] = p
	}
	if first, last, ok := chartWindowDays(info); ok && last.Sub(first) <= chartMaxWindowDays*24*time.Hour {
		for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
			k := d.Format(time.DateOnly)
			if _, ok := byKey[k]; !ok {
				byKey[k] = [4]uint64{} // a day without usage keeps its slot
			}
		}
	}
	out := make([]chartDay, 0, len(byKey))
	for k, p := range byKey {
		label := k
		if d, err := time.Parse(time.DateOnly, k); err == nil {
			label = d.Format("Jan 2")
		}
		out = append(out, chartDay{key: k, label: label, parts: p})
	}
	slices.SortFunc(out, func(a, b chartDay) int { return cmp.Compare(a.key, b.key) })
	return out
}

// chartWindowDays returns the first and last UTC day the window touches.
func chartWindowDays(info ChartInfo) (first, last time.Time, ok bool) {
	if info.Start.IsZero() || info.End.IsZero() || !info.End.After(info.Start) {
		return time.Time{}, time.Time{}, false
	}
	day := func(t time.Time) time.Time {
		t = t.UTC()
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	return day(info.Start), day(info.End.Add(-time.Nanosecond)), true
}

// chartSubtitle names the region, the window and the total shown.
func chartSubtitle(info ChartInfo, dayKeys []string, total uint64) string {
	var parts []string
	if info.Region != "" {
		parts = append(parts, info.Region)
	}
	first, last, ok := chartWindowDays(info)
	if !ok && len(dayKeys) > 0 {
		f, err1 := time.Parse(time.DateOnly, dayKeys[0])
		l, err2 := time.Parse(time.DateOnly, dayKeys[len(dayKeys)-1])
		first, last, ok = f, l, err1 == nil && err2 == nil
	}
	if ok {
		switch {
		case first.Equal(last):
			parts = append(parts, first.Format("Jan 2, 2006")+" (UTC)")
		case first.Year() == last.Year():
			parts = append(parts, first.Format("Jan 2")+" – "+last.Format("Jan 2, 2006")+" (UTC)")
		default:
			parts = append(parts, first.Format("Jan 2, 2006")+" – "+last.Format("Jan 2, 2006")+" (UTC)")
		}
	}
	parts = append(parts, chartHuman(total)+" tokens")
	return strings.Join(parts, " · ")
}

// chartCanvas draws on a paletted image at a text scale (font pixels per
// bitmap pixel).
type chartCanvas struct {
	img   *image.Paletted
	scale int
}

func newChartCanvas(width, height int) (*chartCanvas, error) {
	if width < chartMinWidth || height < chartMinHeight || width > chartMaxDim || height > chartMaxDim {
		return nil, errors.New("chart: the size must be from " + strconv.Itoa(chartMinWidth) + "x" + strconv.Itoa(chartMinHeight) +
			" to " + strconv.Itoa(chartMaxDim) + "x" + strconv.Itoa(chartMaxDim) + " pixels, not " + strconv.Itoa(width) + "x" + strconv.Itoa(height))
	}
	// The text grows with the image: scale 2 (14-pixel capitals) at the
	// default size, 1 for thumbnails.
	scale := max(1, min(width*2/ChartWidth, height*2/ChartHeight, 4))
	if scale == 1 && width >= 560 && height >= 320 {
		scale = 2
	}
	return &chartCanvas{img: image.NewPaletted(image.Rect(0, 0, width, height), chartPalette), scale: scale}, nil
}

func (c *chartCanvas) fill(r image.Rectangle, ci uint8) {
	r = r.Intersect(c.img.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := c.img.Pix[c.img.PixOffset(r.Min.X, y):][:r.Dx()]
		for i := range row {
			row[i] = ci
		}
	}
}

// chartTextWidth is the width in pixels of s drawn at scale.
func chartTextWidth(s string, scale int) int {
	n := len([]rune(s))
	if n == 0 {
		return 0
	}
	return n*(chartGlyphCols+1)*scale - scale
}

// text draws s with the top of its capitals at y.
func (c *chartCanvas) text(x, y int, s string, scale int, ci uint8, bold bool) {
	w := scale
	if bold {
		w++
	}
	for _, r := range s {
		g := chartGlyph(r)
		for row, bits := range g {
			for col := 0; col < chartGlyphCols; col++ {
				if bits&(0x10>>col) != 0 {
					px, py := x+col*scale, y+row*scale
					c.fill(image.Rect(px, py, px+w, py+scale), ci)
				}
			}
		}
		x += (chartGlyphCols + 1) * scale
	}
}

// chartFit shortens s with ".." to fit in width pixels at scale. Model
// ids come from the logs, so their length is not ours to choose.
func chartFit(s string, width, scale int) string {
	if chartTextWidth(s, scale) <= width {
		return s
	}
	fit := (width + scale) / ((chartGlyphCols + 1) * scale) // glyphs that fit
	if fit < 3 {
		return ""
	}
	return string([]rune(s)[:fit-2]) + ".."
}

// header draws the title, the subtitle and the legend, and returns the
// margin around the chart and the y where the plot may start.
func (c *chartCanvas) header(title, subtitle string) (margin, bottom int) {
	s := c.scale
	w := c.img.Rect.Dx()
	margin = 8 * s
	avail := w - 2*margin
	ts := s + 1
	if chartTextWidth(title, ts) > avail {
		ts = s
	}
	y := margin
	c.text(margin, y, chartFit(title, avail, ts), ts, chartTitle, true)
	y += chartGlyphRows*ts + 2*s
	c.text(margin, y, chartFit(subtitle, avail, s), s, chartLabel, false)
	y += chartGlyphRows*s + 4*s
	// The legend: a swatch as tall as a capital before each name.
	x := margin
	sw := chartCapRows * s
	for k, name := range chartKinds {
		need := sw + 3*s + chartTextWidth(name, s)
		if x+need > w-margin {
			// Too narrow for one row: wrap.
			x = margin
			y += chartGlyphRows*s + 2*s
		}
		c.fill(image.Rect(x, y, x+sw, y+sw), chartKind0+uint8(k))
		c.text(x+sw+3*s, y, name, s, chartLabel, false)
		x += need + 10*s
	}
	return margin, y + chartGlyphRows*s + 6*s
}

// noData writes a message in the middle of an empty plot.
func (c *chartCanvas) noData(plot image.Rectangle) {
	s := c.scale
	msg := chartFit("No token usage in this window", plot.Dx(), s)
	c.text(plot.Min.X+(plot.Dx()-chartTextWidth(msg, s))/2, plot.Min.Y+(plot.Dy()-chartCapRows*s)/2, msg, s, chartLabel, false)
}

func (c *chartCanvas) png() ([]byte, error) {
	var buf bytes.Buffer
	// BestCompression saves under 1 KB a chart but takes three times as
	// long on these long runs of one colour (BenchmarkUsageCharts).
	enc := png.Encoder{CompressionLevel: png.DefaultCompression}
	if err := enc.Encode(&buf, c.img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// dailyLayout is where the daily chart's parts go; tests sample pixels
// with it.
type dailyLayout struct {
	plot   image.Rectangle
	days   []chartDay
	step   uint64
	top    uint64
	stride int // every stride-th day (counting back from the last) is labelled
}

// barSpan returns the horizontal extent [x0, x1) of day i's bar.
func (l *dailyLayout) barSpan(i, scale int) (x0, x1 int) {
	n := len(l.days)
	s0 := l.plot.Min.X + i*l.plot.Dx()/n
	s1 := l.plot.Min.X + (i+1)*l.plot.Dx()/n
	bw := min((s1-s0)*7/10, 40*scale)
	if bw < 1 {
		bw = 1
	}
	x0 = s0 + (s1-s0-bw)/2
	return x0, x0 + bw
}

// y returns the row of value v (v <= top) on the plot.
func (l *dailyLayout) y(v uint64) int {
	if l.top == 0 {
		return l.plot.Max.Y
	}
	return l.plot.Max.Y - int(chartMulDiv(v, uint64(l.plot.Dy()), l.top))
}

// DailyChartPNG draws tokens per UTC day as a PNG of width x height pixels:
// one bar per day, stacked bottom up by input, output, cache-read and
// cache-write tokens. It has a title, a subtitle with the region, the
// window and the total, a legend, a y axis with round gridlines labelled
// in k, M, B, and "Nov 18" date labels (thinned out when days are many).
// daily is keyed "2006-01-02" (Aggregator.Daily). The output is
// deterministic.
func DailyChartPNG(daily []Group, info ChartInfo, width, height int) ([]byte, error) {
	c, err := newChartCanvas(width, height)
	if err != nil {
		return nil, err
	}
	c.daily(daily, info)
	return c.png()
}

func (c *chartCanvas) daily(daily []Group, info ChartInfo) dailyLayout {
	s := c.scale
	l := dailyLayout{days: chartDays(daily, info)}
	keys := make([]string, len(l.days))
	var total, peak uint64
	for i, d := range l.days {
		keys[i] = d.key
		sum := chartSum(d.parts)
		total = chartAdd(total, sum)
		peak = max(peak, sum)
	}
	margin, top := c.header("Bedrock tokens per day", chartSubtitle(info, keys, total))
	l.step, l.top = chartTicks(peak, 5)

	var ticks []uint64
	for v := uint64(0); ; v += l.step {
		ticks = append(ticks, v)
		if l.step == 0 || v > l.top-l.step {
			break
		}
	}
	labelW := 0
	for _, v := range ticks {
		labelW = max(labelW, chartTextWidth(chartHuman(v), s))
	}
	l.plot = image.Rect(margin+labelW+4*s, top, c.img.Rect.Dx()-margin, c.img.Rect.Dy()-margin-chartGlyphRows*s-4*s)

	// Gridlines and their labels, behind the bars.
	for _, v := range ticks {
		y := l.y(v)
		if v > 0 {
			c.fill(image.Rect(l.plot.Min.X, y, l.plot.Max.X, y+1), chartGrid)
		}
		lab := chartHuman(v)
		c.text(l.plot.Min.X-4*s-chartTextWidth(lab, s), y-chartCapRows*s/2, lab, s, chartLabel, false)
	}
	if peak == 0 {
		c.noData(l.plot)
	}

	n := len(l.days)
	if n == 0 {
		c.fill(image.Rect(l.plot.Min.X, l.plot.Max.Y, l.plot.Max.X, l.plot.Max.Y+1), chartAxis)
		return l
	}
	slot := l.plot.Dx() / n
	dateW := 0
	for _, d := range l.days {
		dateW = max(dateW, chartTextWidth(d.label, s))
	}
	gap := 6 * s // between date labels
	l.stride = max(1, (dateW+gap+slot-1)/max(slot, 1))
	// Totals above the bars when each fits over its own day.
	showTotals := l.stride == 1 && peak > 0
	for _, d := range l.days {
		if chartTextWidth(chartHuman(chartSum(d.parts)), s)+2*s > slot {
			showTotals = false
		}
	}
	for i, d := range l.days {
		x0, x1 := l.barSpan(i, s)
		var cum uint64
		prev := l.plot.Max.Y
		for k, p := range d.parts {
			if p == 0 {
				continue
			}
			cum = chartAdd(cum, p)
			y := l.y(cum)
			if y == l.plot.Max.Y {
				y-- // usage too small to scale still shows
			}
			c.fill(image.Rect(x0, y, x1, prev), chartKind0+uint8(k))
			prev = min(prev, y)
		}
		if showTotals && cum > 0 {
			lab := chartHuman(cum)
			c.text((x0+x1-chartTextWidth(lab, s))/2, prev-2*s-chartCapRows*s, lab, s, chartLabel, false)
		}
	}
	// Date labels from the last day back, so the latest is always named; a
	// label pushed inward at the image's edge is skipped if it would touch
	// its neighbour.
	nextLeft := c.img.Rect.Dx() + gap
	for i := n - 1; i >= 0; i -= l.stride {
		x0, x1 := l.barSpan(i, s)
		lw := chartTextWidth(l.days[i].label, s)
		lx := min(max((x0+x1-lw)/2, 0), c.img.Rect.Dx()-lw)
		if lx+lw+gap > nextLeft {
			continue
		}
		c.text(lx, l.plot.Max.Y+4*s, l.days[i].label, s, chartLabel, false)
		nextLeft = lx
	}
	c.fill(image.Rect(l.plot.Min.X, l.plot.Max.Y, l.plot.Max.X, l.plot.Max.Y+1), chartAxis)
	return l
}

// modelLayout is where the model chart's parts go.
type modelLayout struct {
	plot  image.Rectangle
	rows  []Group // the last may be "other (N models)"
	step  uint64
	top   uint64
	rowH  int
	thick int
}

// barSpan returns the vertical extent [y0, y1) of row i's bar.
func (l *modelLayout) barSpan(i int) (y0, y1 int) {
	y0 = l.plot.Min.Y + i*l.rowH + (l.rowH-l.thick)/2
	return y0, y0 + l.thick
}

// x returns the column of value v (v <= top) on the plot.
func (l *modelLayout) x(v uint64) int {
	if l.top == 0 {
		return l.plot.Min.X
	}
	return l.plot.Min.X + int(chartMulDiv(v, uint64(l.plot.Dx()), l.top))
}

// ModelChartPNG draws tokens per model as a PNG of width x height pixels:
// one horizontal bar per model, largest first, stacked like the daily
// chart, its total at its end. Models beyond the rows that fit (at most
// ten) are merged into a last "other (N models)" row. models is typically
// Aggregator.ModelsByDisplayName. The output is deterministic.
func ModelChartPNG(models []Group, info ChartInfo, width, height int) ([]byte, error) {
	c, err := newChartCanvas(width, height)
	if err != nil {
		return nil, err
	}
	c.models(models, info)
	return c.png()
}

func (c *chartCanvas) models(models []Group, info ChartInfo) modelLayout {
	s := c.scale
	var l modelLayout
	sorted := slices.Clone(models)
	sum := func(g Group) uint64 { return chartSum(chartStack(g.Totals)) }
	// Ordered by what the bar shows, all four kinds, so bars descend.
	slices.SortStableFunc(sorted, func(a, b Group) int {
		if c := cmp.Compare(sum(b), sum(a)); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	var total, peak uint64
	for _, g := range sorted {
		total = chartAdd(total, sum(g))
	}
	margin, top := c.header("Bedrock tokens per model", chartSubtitle(info, nil, total))
	bottom := c.img.Rect.Dy() - margin - chartGlyphRows*s - 4*s
	maxRows := min(chartMaxModelRows, max(1, (bottom-top)/(chartGlyphRows*s+2*s)))
	l.rows = sorted
	if len(sorted) > maxRows {
		l.rows = slices.Clone(sorted[:maxRows-1])
		other := Group{Key: "other (" + strconv.Itoa(len(sorted)-maxRows+1) + " models)"}
		var parts [4]uint64
		for _, g := range sorted[maxRows-1:] {
			q := chartStack(g.Totals)
			for k := range parts {
				parts[k] = chartAdd(parts[k], q[k])
			}
		}
		// Totals holds int64: a saturated part stays at the int64 limit.
		clamp := func(v uint64) int64 { return int64(min(v, math.MaxInt64)) }
		other.Totals = Totals{InputTokens: clamp(parts[0]), OutputTokens: clamp(parts[1]), CacheReadTokens: clamp(parts[2]), CacheWriteTokens: clamp(parts[3])}
		l.rows = append(l.rows, other)
	}
	for _, g := range l.rows {
		peak = max(peak, sum(g))
	}
	l.step, l.top = chartTicks(peak, 5)

	w := c.img.Rect.Dx()
	nameW := 0
	for _, g := range l.rows {
		nameW = max(nameW, chartTextWidth(g.Key, s))
	}
	nameW = min(nameW, w*2/5)
	valueW := 0
	for _, g := range l.rows {
		valueW = max(valueW, chartTextWidth(chartHuman(sum(g)), s))
	}
	l.plot = image.Rect(margin+nameW+4*s, top, w-margin-valueW-4*s, bottom)
	if len(l.rows) == 0 {
		c.noData(l.plot)
		c.fill(image.Rect(l.plot.Min.X-1, l.plot.Min.Y, l.plot.Min.X, l.plot.Max.Y), chartAxis)
		return l
	}
	l.rowH = l.plot.Dy() / len(l.rows)
	l.thick = min(l.rowH*6/10, 16*s)

	// Vertical gridlines with their labels under the plot.
	for v := uint64(0); ; v += l.step {
		x := l.x(v)
		if v > 0 {
			c.fill(image.Rect(x, l.plot.Min.Y, x+1, l.plot.Max.Y), chartGrid)
		}
		lab := chartHuman(v)
		lx := min(x-chartTextWidth(lab, s)/2, w-chartTextWidth(lab, s))
		c.text(lx, l.plot.Max.Y+4*s, lab, s, chartLabel, false)
		if l.step == 0 || v > l.top-l.step {
			break
		}
	}
	if peak == 0 {
		c.noData(l.plot)
	}
	for i, g := range l.rows {
		y0, y1 := l.barSpan(i)
		ty := (y0 + y1 - chartCapRows*s) / 2
		name := chartFit(g.Key, nameW, s)
		c.text(l.plot.Min.X-4*s-chartTextWidth(name, s), ty, name, s, chartLabel, false)
		var cum uint64
		prev := l.plot.Min.X
		for k, p := range chartStack(g.Totals) {
			if p == 0 {
				continue
			}
			cum = chartAdd(cum, p)
			x := l.x(cum)
			if x == l.plot.Min.X {
				x++ // usage too small to scale still shows
			}
			c.fill(image.Rect(prev, y0, x, y1), chartKind0+uint8(k))
			prev = max(prev, x)
		}
		c.text(prev+3*s, ty, chartHuman(cum), s, chartLabel, false)
	}
	c.fill(image.Rect(l.plot.Min.X-1, l.plot.Min.Y, l.plot.Min.X, l.plot.Max.Y), chartAxis)
	return l
}

// UsageChartsPNG draws both charts of agg at the default size.
func UsageChartsPNG(agg *Aggregator, info ChartInfo) (daily, models []byte, err error) {
	if daily, err = DailyChartPNG(agg.Daily(), info, ChartWidth, ChartHeight); err != nil {
		return nil, nil, err
	}
	if models, err = ModelChartPNG(agg.ModelsByDisplayName(), info, ChartWidth, ChartHeight); err != nil {
		return nil, nil, err
	}
	return daily, models, nil
}
