package bedrock

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"
)

func chartDecode(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	return img
}

func chartIs(c color.Color, want color.RGBA) bool {
	r, g, b, a := c.RGBA()
	wr, wg, wb, wa := want.RGBA()
	return r == wr && g == wg && b == wb && a == wa
}

// chartBarHeight counts bar-coloured pixels in column x of the plot.
func chartBarHeight(img image.Image, plot image.Rectangle, x int) int {
	h := 0
	for y := plot.Min.Y; y < plot.Max.Y; y++ {
		if chartIs(img.At(x, y), chartBar) {
			h++
		}
	}
	return h
}

func TestDailyChartPNG(t *testing.T) {
	daily := []Group{
		{Key: "2026-11-18", Totals: Totals{InputTokens: 1000, OutputTokens: 0}},
		{Key: "2026-11-19", Totals: Totals{InputTokens: 1500, OutputTokens: 500}},
		{Key: "2026-11-20", Totals: Totals{InputTokens: 400, OutputTokens: 100}},
		{Key: "2026-11-21", Totals: Totals{}},
	}
	const w, h = 640, 320
	b, err := DailyChartPNG(daily, w, h)
	if err != nil {
		t.Fatal(err)
	}
	img := chartDecode(t, b)
	if img.Bounds() != image.Rect(0, 0, w, h) {
		t.Fatalf("bounds = %v", img.Bounds())
	}
	plot := chartPlot(w, h)
	var heights []int
	for i := range daily {
		x0, x1 := chartBarSpan(plot, i, len(daily))
		heights = append(heights, chartBarHeight(img, plot, (x0+x1)/2))
	}
	if heights[1] != plot.Dy() {
		t.Fatalf("tallest bar %d px, want full plot height %d", heights[1], plot.Dy())
	}
	for i, g := range daily {
		want := float64(g.Total()) / 2000 * float64(plot.Dy())
		if d := float64(heights[i]) - want; d < -1 || d > 1 {
			t.Errorf("bar %d: %d px, want about %.1f", i, heights[i], want)
		}
	}
	// Between bars the background (or a gridline) shows.
	x0, _ := chartBarSpan(plot, 1, len(daily))
	if c := img.At(x0-1, plot.Max.Y-1); chartIs(c, chartBar) {
		t.Error("gap before bar 1 is bar-coloured")
	}
	// Axes.
	if !chartIs(img.At(plot.Min.X-1, plot.Min.Y+5), chartAxis) || !chartIs(img.At(plot.Max.X-1, plot.Max.Y), chartAxis) {
		t.Error("axes missing")
	}
	// A gridline at half height, visible right of the last bar.
	_, lastX1 := chartBarSpan(plot, len(daily)-1, len(daily))
	if !chartIs(img.At(lastX1+1, plot.Max.Y-plot.Dy()/2), chartGrid) {
		t.Error("gridline missing")
	}
	// Some text pixels for the labels.
	text := 0
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if chartIs(img.At(x, y), chartText) {
				text++
			}
		}
	}
	if text == 0 {
		t.Error("no label pixels")
	}

	// Deterministic.
	b2, _ := DailyChartPNG(daily, w, h)
	if !bytes.Equal(b, b2) {
		t.Error("output differs between runs")
	}
}

func TestDailyChartPNGEmpty(t *testing.T) {
	for _, daily := range [][]Group{nil, {{Key: "2026-11-20"}}} {
		b, err := DailyChartPNG(daily, 200, 100)
		if err != nil {
			t.Fatal(err)
		}
		img := chartDecode(t, b)
		if img.Bounds().Dx() != 200 || img.Bounds().Dy() != 100 {
			t.Fatalf("bounds = %v", img.Bounds())
		}
		for y := 0; y < 100; y++ {
			for x := 0; x < 200; x++ {
				if chartIs(img.At(x, y), chartBar) {
					t.Fatalf("bar pixel at %d,%d in an empty chart", x, y)
				}
			}
		}
	}
}

func TestDailyChartPNGBadSize(t *testing.T) {
	for _, s := range [][2]int{{0, 0}, {10, 300}, {300, 10}, {5000, 300}} {
		if _, err := DailyChartPNG(nil, s[0], s[1]); err == nil {
			t.Errorf("%dx%d: no error", s[0], s[1])
		}
	}
}
