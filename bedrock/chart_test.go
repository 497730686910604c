package bedrock

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// chartWeek is a window of seven whole UTC days, Nov 12 to Nov 18 2026.
var chartWeek = ChartInfo{
	Region: "us-east-1",
	Start:  time.Date(2026, 11, 12, 0, 0, 0, 0, time.UTC),
	End:    time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC),
}

// chartCount counts pixels of colour ci inside r.
func chartCount(img *image.Paletted, r image.Rectangle, ci uint8) int {
	n := 0
	r = r.Intersect(img.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if img.ColorIndexAt(x, y) == ci {
				n++
			}
		}
	}
	return n
}

// chartRuns lists the colour runs of column x from the plot's bottom up,
// as colour index and length.
func chartRuns(img *image.Paletted, x, fromY, toY int) [][2]int {
	var runs [][2]int
	for y := fromY - 1; y >= toY; y-- {
		ci := int(img.ColorIndexAt(x, y))
		if len(runs) > 0 && runs[len(runs)-1][0] == ci {
			runs[len(runs)-1][1]++
			continue
		}
		runs = append(runs, [2]int{ci, 1})
	}
	return runs
}

func chartIsKind(ci uint8) bool { return ci >= chartKind0 && ci < chartKind0+4 }

// chartPNGMatches checks that the encoded PNG holds exactly the canvas.
func chartPNGMatches(t *testing.T, b []byte, img *image.Paletted) {
	t.Helper()
	got, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if got.Bounds() != img.Rect {
		t.Fatalf("bounds %v, want %v", got.Bounds(), img.Rect)
	}
	for _, p := range []image.Point{{0, 0}, {img.Rect.Dx() / 2, img.Rect.Dy() / 2}, {img.Rect.Dx() - 1, img.Rect.Dy() - 1}} {
		r1, g1, b1, _ := got.At(p.X, p.Y).RGBA()
		r2, g2, b2, _ := img.At(p.X, p.Y).RGBA()
		if r1 != r2 || g1 != g2 || b1 != b2 {
			t.Errorf("pixel %v differs between the PNG and the canvas", p)
		}
	}
}

func TestDailyChartStructure(t *testing.T) {
	daily := []Group{
		{Key: "2026-11-12", Totals: Totals{InputTokens: 400_000, OutputTokens: 100_000, CacheReadTokens: 300_000, CacheWriteTokens: 200_000}},
		{Key: "2026-11-13", Totals: Totals{InputTokens: 1_000_000, OutputTokens: 400_000, CacheReadTokens: 600_000}},
		// Nov 14 to 16: no usage, but inside the window.
		{Key: "2026-11-17", Totals: Totals{OutputTokens: 250_000}},
		{Key: "2026-11-18", Totals: Totals{InputTokens: 500_000, CacheWriteTokens: 500_000}},
	}
	c, err := newChartCanvas(ChartWidth, ChartHeight)
	if err != nil {
		t.Fatal(err)
	}
	l := c.daily(daily, chartWeek)
	img := c.img
	if len(l.days) != 7 || l.days[0].label != "Nov 12" || l.days[6].label != "Nov 18" {
		t.Fatalf("days %+v, want the 7 days of the window", l.days)
	}
	if l.step != 500_000 || l.top != 2_000_000 {
		t.Errorf("axis step %d top %d, want 500k and 2M", l.step, l.top)
	}

	// Each bar, sampled in its middle column from the baseline up, shows
	// its non-zero kinds in stacking order with heights in proportion.
	for i, d := range l.days {
		x0, x1 := l.barSpan(i, c.scale)
		runs := chartRuns(img, (x0+x1)/2, l.plot.Max.Y, l.plot.Min.Y)
		var want [][2]int
		var cum uint64
		for k, p := range d.parts {
			if p == 0 {
				continue
			}
			y0 := l.y(cum)
			cum += p
			want = append(want, [2]int{int(chartKind0) + k, y0 - l.y(cum)})
		}
		var got [][2]int
		for _, r := range runs {
			if !chartIsKind(uint8(r[0])) {
				break
			}
			got = append(got, r)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: bar runs (colour, px) %v, want %v", d.label, got, want)
		}
		// Nothing of a bar's colours outside it, in its slot.
		if i == 2 && chartCount(img, image.Rect(x0, l.plot.Min.Y, x1, l.plot.Max.Y), chartKind0) != 0 {
			t.Errorf("%s has no usage but shows a bar", d.label)
		}
	}
	// The tallest bar (2M on a 2M axis) fills the plot.
	x0, x1 := l.barSpan(1, c.scale)
	if h := l.plot.Max.Y - l.y(2_000_000); h != l.plot.Dy() || img.ColorIndexAt((x0+x1)/2, l.plot.Min.Y) != chartKind0+2 {
		t.Errorf("the 2M bar does not reach the top of the plot")
	}

	// Gridlines at 500k, 1M, 1.5M, 2M, visible between bars; the baseline.
	gapX := (l.plot.Min.X + func() int { x0, _ := l.barSpan(0, c.scale); return x0 }()) / 2
	for v := uint64(500_000); v <= 2_000_000; v += 500_000 {
		if ci := img.ColorIndexAt(gapX, l.y(v)); ci != chartGrid {
			t.Errorf("no gridline at %d (colour %d at x=%d y=%d)", v, ci, gapX, l.y(v))
		}
	}
	if img.ColorIndexAt(l.plot.Max.X-1, l.plot.Max.Y) != chartAxis {
		t.Error("no baseline")
	}
	// Y labels left of the plot, date labels under it, totals above bars.
	if chartCount(img, image.Rect(0, l.plot.Min.Y-10, l.plot.Min.X, l.plot.Max.Y+10), chartLabel) == 0 {
		t.Error("no y axis labels")
	}
	for i := range l.days {
		x0, x1 := l.barSpan(i, c.scale)
		if chartCount(img, image.Rect(x0, l.plot.Max.Y+1, x1, img.Rect.Max.Y), chartLabel) == 0 {
			t.Errorf("no date label under %s", l.days[i].label)
		}
	}
	// The header: title pixels, and a legend swatch of each kind in order.
	if chartCount(img, image.Rect(0, 0, img.Rect.Dx(), 8*c.scale+9*(c.scale+1)), chartTitle) < 200 {
		t.Error("the title is missing")
	}
	header := image.Rect(0, 0, img.Rect.Dx(), l.plot.Min.Y)
	lastX := -1
	for k := range chartKinds {
		sw := 7 * c.scale
		if n := chartCount(img, header, chartKind0+uint8(k)); n != sw*sw {
			t.Errorf("legend swatch %s: %d pixels, want %d", chartKinds[k], n, sw*sw)
		}
		x := chartFirstX(img, header, chartKind0+uint8(k))
		if x <= lastX {
			t.Errorf("legend swatch %s is not right of the previous one", chartKinds[k])
		}
		lastX = x
	}

	b, err := DailyChartPNG(daily, chartWeek, ChartWidth, ChartHeight)
	if err != nil {
		t.Fatal(err)
	}
	chartPNGMatches(t, b, img)
	if b2, _ := DailyChartPNG(daily, chartWeek, ChartWidth, ChartHeight); !bytes.Equal(b, b2) {
		t.Error("output differs between runs")
	}
}

func chartFirstX(img *image.Paletted, r image.Rectangle, ci uint8) int {
	for x := r.Min.X; x < r.Max.X; x++ {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			if img.ColorIndexAt(x, y) == ci {
				return x
			}
		}
	}
	return -1
}

func TestModelChartStructure(t *testing.T) {
	models := []Group{
		{Key: "claude-sonnet-4-5", Totals: Totals{InputTokens: 3_000_000, OutputTokens: 1_000_000, CacheReadTokens: 2_000_000}},
		{Key: "nova-pro-v1:0", Totals: Totals{InputTokens: 800_000, OutputTokens: 200_000}},
		// Sorted by Total (input+output) this would come second; the chart
		// sorts by all four kinds, so it comes first.
		{Key: "claude-haiku-4-5", Totals: Totals{InputTokens: 100_000, CacheReadTokens: 7_000_000}},
	}
	c, err := newChartCanvas(ChartWidth, ChartHeight)
	if err != nil {
		t.Fatal(err)
	}
	l := c.models(models, chartWeek)
	img := c.img
	var keys []string
	for _, g := range l.rows {
		keys = append(keys, g.Key)
	}
	if strings.Join(keys, ",") != "claude-haiku-4-5,claude-sonnet-4-5,nova-pro-v1:0" {
		t.Fatalf("rows %v", keys)
	}
	for i, g := range l.rows {
		y0, y1 := l.barSpan(i)
		y := (y0 + y1) / 2
		var got [][2]int
		for x := l.plot.Min.X; x < l.plot.Max.X; x++ {
			ci := img.ColorIndexAt(x, y)
			if !chartIsKind(ci) {
				break
			}
			if len(got) > 0 && got[len(got)-1][0] == int(ci) {
				got[len(got)-1][1]++
			} else {
				got = append(got, [2]int{int(ci), 1})
			}
		}
		var want [][2]int
		var cum uint64
		for k, p := range chartStack(g.Totals) {
			if p == 0 {
				continue
			}
			x0 := l.x(cum)
			cum += p
			want = append(want, [2]int{int(chartKind0) + k, l.x(cum) - x0})
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: bar runs %v, want %v", g.Key, got, want)
		}
		// Its name left of the plot, its total right of the bar.
		if chartCount(img, image.Rect(0, y0, l.plot.Min.X-1, y1), chartLabel) == 0 {
			t.Errorf("%s: no name", g.Key)
		}
		if chartCount(img, image.Rect(l.x(cum)+1, y0, img.Rect.Dx(), y1), chartLabel) == 0 {
			t.Errorf("%s: no total", g.Key)
		}
	}
	// Vertical gridlines between rows, the left axis, labels under the plot.
	midGap := l.plot.Min.Y + l.rowH // between rows 0 and 1
	if y0, _ := l.barSpan(1); midGap >= y0 {
		t.Fatal("rows touch")
	}
	for v := l.step; v <= l.top; v += l.step {
		if ci := img.ColorIndexAt(l.x(v), midGap); ci != chartGrid {
			t.Errorf("no gridline at %d", v)
		}
	}
	if img.ColorIndexAt(l.plot.Min.X-1, l.plot.Min.Y+1) != chartAxis {
		t.Error("no axis")
	}
	if chartCount(img, image.Rect(l.plot.Min.X-20, l.plot.Max.Y+1, l.plot.Max.X+20, img.Rect.Max.Y), chartLabel) == 0 {
		t.Error("no x axis labels")
	}
	b, err := ModelChartPNG(models, chartWeek, ChartWidth, ChartHeight)
	if err != nil {
		t.Fatal(err)
	}
	chartPNGMatches(t, b, img)
	if b2, _ := ModelChartPNG(models, chartWeek, ChartWidth, ChartHeight); !bytes.Equal(b, b2) {
		t.Error("output differs between runs")
	}
}

// chartManyModels returns n models with decreasing usage.
func chartManyModels(n int) []Group {
	var out []Group
	for i := range n {
		out = append(out, Group{Key: fmt.Sprintf("vendor.model-%02d-v1:0", i), Totals: Totals{InputTokens: int64(1000 * (n - i)), OutputTokens: 10}})
	}
	return out
}

func TestChartEdgeCases(t *testing.T) {
	// Four quarters of the int64 range still add up; four maxima saturate
	// (no real account comes near either).
	const q = math.MaxInt64 / 4
	huge := Totals{InputTokens: q, OutputTokens: q, CacheReadTokens: q, CacheWriteTokens: q}
	saturated := Totals{InputTokens: math.MaxInt64, OutputTokens: math.MaxInt64, CacheReadTokens: math.MaxInt64, CacheWriteTokens: math.MaxInt64}
	var manyDays []Group
	for i := range 90 {
		manyDays = append(manyDays, Group{Key: time.Date(2026, 8, 21, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i).Format(time.DateOnly), Totals: Totals{InputTokens: int64(1000 + i*37)}})
	}
	tests := []struct {
		name      string
		daily     []Group
		models    []Group
		info      ChartInfo
		w, h      int
		days      int  // slots on the daily chart
		rows      int  // rows on the model chart
		other     bool // the last row is "other"
		barsDaily bool
	}{
		{name: "no data, no window", w: ChartWidth, h: ChartHeight},
		{name: "no data in the window", info: chartWeek, w: ChartWidth, h: ChartHeight, days: 7},
		{name: "one day", daily: []Group{{Key: "2026-11-18", Totals: Totals{InputTokens: 5}}}, models: chartManyModels(1),
			w: ChartWidth, h: ChartHeight, days: 1, rows: 1, barsDaily: true},
		{name: "huge values", daily: []Group{{Key: "2026-11-17", Totals: huge}, {Key: "2026-11-18", Totals: Totals{InputTokens: 1}}},
			models: []Group{{Key: "a", Totals: huge}, {Key: "b", Totals: huge}}, info: chartWeek, w: ChartWidth, h: ChartHeight, days: 7, rows: 2, barsDaily: true},
		{name: "saturated", daily: []Group{{Key: "2026-11-18", Totals: saturated}}, models: []Group{{Key: "a", Totals: saturated}, {Key: "b", Totals: saturated}},
			w: ChartWidth, h: ChartHeight, days: 1, rows: 2, barsDaily: true},
		{name: "many models", models: chartManyModels(50), w: ChartWidth, h: ChartHeight, rows: chartMaxModelRows, other: true},
		{name: "90 days", daily: manyDays, w: ChartWidth, h: ChartHeight, days: 90, barsDaily: true},
		{name: "smallest size", daily: manyDays, models: chartManyModels(50), w: chartMinWidth, h: chartMinHeight, days: 90, rows: 10, other: true, barsDaily: true},
		{name: "window and data apart", daily: []Group{{Key: "2020-01-01", Totals: Totals{OutputTokens: 3}}}, info: chartWeek,
			w: ChartWidth, h: ChartHeight, days: 8, barsDaily: true},
		{name: "rolling window", info: ChartInfo{Start: time.Date(2026, 11, 11, 14, 30, 0, 0, time.UTC), End: time.Date(2026, 11, 18, 14, 30, 0, 0, time.UTC)},
			w: ChartWidth, h: ChartHeight, days: 8}, // 7x24 hours touch 8 UTC days
		{name: "unparseable day", daily: []Group{{Key: "someday", Totals: Totals{OutputTokens: 3}}}, w: ChartWidth, h: ChartHeight, days: 1, barsDaily: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := newChartCanvas(tc.w, tc.h)
			if err != nil {
				t.Fatal(err)
			}
			l := c.daily(tc.daily, tc.info)
			if len(l.days) != tc.days {
				t.Errorf("%d day slots, want %d", len(l.days), tc.days)
			}
			bars := 0
			for k := range chartKinds {
				bars += chartCount(c.img, l.plot, chartKind0+uint8(k))
			}
			if (bars > 0) != tc.barsDaily {
				t.Errorf("daily chart: %d bar pixels", bars)
			}
			if !tc.barsDaily && chartCount(c.img, l.plot, chartLabel) == 0 {
				t.Error("an empty daily chart does not say so")
			}
			if tc.days > 0 && chartCount(c.img, image.Rect(0, l.plot.Max.Y+1, c.img.Rect.Dx(), c.img.Rect.Dy()), chartLabel) == 0 {
				t.Error("no date labels")
			}
			if tc.name == "huge values" {
				x0, x1 := l.barSpan(5, c.scale)
				if runs := chartRuns(c.img, (x0+x1)/2, l.plot.Max.Y, l.plot.Min.Y); len(runs) < 4 || runs[0][0] != int(chartKind0) || runs[1][0] != int(chartKind0)+1 || runs[2][0] != int(chartKind0)+2 || runs[3][0] != int(chartKind0)+3 {
					t.Errorf("saturated bar runs %v, want the four kinds", runs)
				} else if sum := runs[0][1] + runs[1][1] + runs[2][1] + runs[3][1]; sum < l.plot.Dy()*9/10 {
					t.Errorf("saturated bar %d px of %d", sum, l.plot.Dy())
				}
				x0, x1 = l.barSpan(6, c.scale)
				if runs := chartRuns(c.img, (x0+x1)/2, l.plot.Max.Y, l.plot.Min.Y); runs[0] != [2]int{int(chartKind0), 1} {
					t.Errorf("a 1-token day next to a huge one: runs %v, want 1 px of input", runs)
				}
			}

			c, _ = newChartCanvas(tc.w, tc.h)
			m := c.models(tc.models, tc.info)
			if len(m.rows) != tc.rows {
				t.Errorf("%d model rows, want %d", len(m.rows), tc.rows)
			}
			if tc.other {
				last := m.rows[len(m.rows)-1]
				if want := fmt.Sprintf("other (%d models)", len(tc.models)-tc.rows+1); last.Key != want {
					t.Errorf("last row %q, want %q", last.Key, want)
				}
				var in int64
				for _, g := range tc.models[tc.rows-1:] {
					in += g.InputTokens
				}
				if last.InputTokens != in {
					t.Errorf("other: %d input tokens, want %d", last.InputTokens, in)
				}
			}

			for _, draw := range []func() ([]byte, error){
				func() ([]byte, error) { return DailyChartPNG(tc.daily, tc.info, tc.w, tc.h) },
				func() ([]byte, error) { return ModelChartPNG(tc.models, tc.info, tc.w, tc.h) },
			} {
				b, err := draw()
				if err != nil {
					t.Fatal(err)
				}
				if _, err := png.Decode(bytes.NewReader(b)); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestChartBadSize(t *testing.T) {
	for _, s := range [][2]int{{0, 0}, {chartMinWidth - 1, 300}, {600, chartMinHeight - 1}, {5000, 300}, {600, 5000}} {
		_, err := DailyChartPNG(nil, ChartInfo{}, s[0], s[1])
		_, err2 := ModelChartPNG(nil, ChartInfo{}, s[0], s[1])
		if err == nil || err2 == nil || !strings.Contains(err.Error(), "320x200") {
			t.Errorf("%dx%d: errors %v, %v", s[0], s[1], err, err2)
		}
	}
}

func TestChartHuman(t *testing.T) {
	tests := []struct {
		v    uint64
		want string
	}{
		{0, "0"}, {999, "999"}, {1000, "1k"}, {1250, "1.25k"}, {1234, "1.23k"}, {1235, "1.24k"}, {12_500, "12.5k"},
		{250_000, "250k"}, {999_499, "999k"}, {999_500, "1M"}, {999_999, "1M"}, {1_250_000, "1.25M"}, {7_500_000, "7.5M"},
		{2_000_000_000, "2B"}, {3_400_000_000_000, "3.4T"}, {math.MaxInt64, "9223372T"}, {math.MaxUint64, "18446744T"},
	}
	for _, tc := range tests {
		if got := chartHuman(tc.v); got != tc.want {
			t.Errorf("chartHuman(%d) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestChartTicks(t *testing.T) {
	tests := []struct {
		max, step, top uint64
	}{
		{0, 0, 0}, {1, 1, 1}, {7, 2, 8}, {10, 2, 10}, {23, 5, 25}, {1000, 200, 1000}, {1001, 250, 1250},
		{2_000_000, 500_000, 2_000_000}, {math.MaxUint64, 5e18, math.MaxUint64},
	}
	for _, tc := range tests {
		step, top := chartTicks(tc.max, 5)
		if step != tc.step || top != tc.top {
			t.Errorf("chartTicks(%d) = %d, %d; want %d, %d", tc.max, step, top, tc.step, tc.top)
		}
	}
}

func TestChartSubtitle(t *testing.T) {
	tests := []struct {
		info ChartInfo
		keys []string
		want string
	}{
		{chartWeek, nil, "us-east-1 · Nov 12 – Nov 18, 2026 (UTC) · 1.5M tokens"},
		{ChartInfo{Start: time.Date(2025, 12, 30, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)}, nil,
			"Dec 30, 2025 – Jan 1, 2026 (UTC) · 1.5M tokens"},
		{ChartInfo{Region: "eu-west-1"}, []string{"2026-11-18"}, "eu-west-1 · Nov 18, 2026 (UTC) · 1.5M tokens"},
		{ChartInfo{}, nil, "1.5M tokens"},
	}
	for _, tc := range tests {
		if got := chartSubtitle(tc.info, tc.keys, 1_500_000); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

// TestChartFont: every printable ASCII character has its own glyph.
func TestChartFit(t *testing.T) {
	tests := []struct {
		s     string
		width int
		want  string
	}{
		{"nova-pro-v1:0", 1000, "nova-pro-v1:0"},
		{"nova-pro-v1:0", chartTextWidth("nova-pro-v1:0", 2), "nova-pro-v1:0"},
		{"nova-pro-v1:0", chartTextWidth("nova-pro-v1:0", 2) - 1, "nova-pro-v.."},
		{"nova-pro-v1:0", chartTextWidth("nov..", 2), "nov.."},
		{"nova-pro-v1:0", chartTextWidth("n..", 2), "n.."},
		{"nova-pro-v1:0", chartTextWidth("..", 2), ""},
		{"ééééé", chartTextWidth("éé..", 2), "éé.."},
		{strings.Repeat("x", 1_000_000), chartTextWidth("xxxx..", 2), "xxxx.."},
	}
	for _, tc := range tests {
		got := chartFit(tc.s, tc.width, 2)
		if got != tc.want || chartTextWidth(got, 2) > tc.width {
			t.Errorf("chartFit(%.20q, %d) = %q, want %q", tc.s, tc.width, got, tc.want)
		}
	}
}

func TestChartFont(t *testing.T) {
	seen := map[[chartGlyphRows]uint8]rune{}
	for r := rune('!'); r <= '~'; r++ {
		g := *chartGlyph(r)
		if g == ([chartGlyphRows]uint8{}) {
			t.Errorf("%q is blank", r)
		}
		for _, row := range g {
			if row >= 1<<chartGlyphCols {
				t.Errorf("%q is wider than %d pixels", r, chartGlyphCols)
			}
		}
		if o, dup := seen[g]; dup {
			t.Errorf("%q and %q look the same", o, r)
		}
		seen[g] = r
	}
	if *chartGlyph('é') != *chartGlyph('?') || *chartGlyph('–') != *chartGlyph('-') {
		t.Error("fallbacks")
	}
}

// TestChartRender writes sample charts to $BEDROCK_CHART_DIR, to look at.
func TestChartRender(t *testing.T) {
	dir := os.Getenv("BEDROCK_CHART_DIR")
	if dir == "" {
		t.Skip("set BEDROCK_CHART_DIR to write sample charts")
	}
	var daily []Group
	for i := range 7 {
		f := int64(3 + i%3*2 + i/2)
		daily = append(daily, Group{Key: time.Date(2026, 11, 12+i, 0, 0, 0, 0, time.UTC).Format(time.DateOnly),
			Totals: Totals{InputTokens: f * 410_000, OutputTokens: f * 95_000, CacheReadTokens: f * 230_000, CacheWriteTokens: f * 60_000}})
	}
	models := chartManyModels(14)
	models[0].Key, models[1].Key, models[2].Key = "claude-sonnet-4-5-20250929-v1:0", "nova-pro-v1:0", "llama3-3-70b-instruct-v1:0"
	for i := range models {
		models[i].CacheReadTokens = int64(700 * (i % 3))
	}
	var long []Group
	for i := range 90 {
		f := int64(5 + i%7 + i%5*3)
		long = append(long, Group{Key: time.Date(2026, 8, 21, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i).Format(time.DateOnly),
			Totals: Totals{InputTokens: f * 41_000_000, OutputTokens: f * 9_500_000, CacheReadTokens: f * 23_000_000, CacheWriteTokens: f * 6_000_000}})
	}
	b, err := DailyChartPNG(long, ChartInfo{Region: "eu-central-1", Start: time.Date(2026, 8, 21, 9, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 19, 9, 0, 0, 0, time.UTC)}, ChartWidth, ChartHeight)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "daily-90-days.png"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, size := range [][2]int{{ChartWidth, ChartHeight}, {chartMinWidth, chartMinHeight}, {2 * ChartWidth, 2 * ChartHeight}} {
		d, err := DailyChartPNG(daily, chartWeek, size[0], size[1])
		if err != nil {
			t.Fatal(err)
		}
		m, err := ModelChartPNG(models, chartWeek, size[0], size[1])
		if err != nil {
			t.Fatal(err)
		}
		for name, b := range map[string][]byte{"daily": d, "models": m} {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%dx%d.png", name, size[0], size[1])), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// BenchmarkUsageCharts: both charts at the default size, a 90-day window
// and 50 models (the PNG encoder is most of it).
func BenchmarkUsageCharts(b *testing.B) {
	var daily []Group
	for i := range 90 {
		daily = append(daily, Group{Key: time.Date(2026, 8, 21, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i).Format(time.DateOnly),
			Totals: Totals{InputTokens: int64(1e6 + i*37_000), OutputTokens: 2e5, CacheReadTokens: 5e5, CacheWriteTokens: 1e5}})
	}
	models := chartManyModels(50)
	for b.Loop() {
		if _, err := DailyChartPNG(daily, ChartInfo{Region: "us-east-1"}, ChartWidth, ChartHeight); err != nil {
			b.Fatal(err)
		}
		if _, err := ModelChartPNG(models, ChartInfo{Region: "us-east-1"}, ChartWidth, ChartHeight); err != nil {
			b.Fatal(err)
		}
	}
}
