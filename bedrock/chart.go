package bedrock

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"strconv"
	"time"
)

// Chart colours and layout (in pixels).
var (
	chartBackground = color.RGBA{0xff, 0xff, 0xff, 0xff}
	chartGrid       = color.RGBA{0xe3, 0xe6, 0xea, 0xff}
	chartAxis       = color.RGBA{0x55, 0x5b, 0x63, 0xff}
	chartBar        = color.RGBA{0x2f, 0x6f, 0xb3, 0xff}
	chartText       = color.RGBA{0x33, 0x33, 0x33, 0xff}
)

const (
	chartMarginLeft   = 8
	chartMarginRight  = 8
	chartMarginTop    = 12 // room for the max-value label
	chartMarginBottom = 10 // room for day-of-month labels
	chartGridLines    = 4
	chartMinWidth     = chartMarginLeft + chartMarginRight + 8
	chartMinHeight    = chartMarginTop + chartMarginBottom + 8
	chartMaxDim       = 4096
)

// chartPlot returns the plot area (bars are drawn inside it; the x axis
// is the row just below it, the y axis the column just left of it).
func chartPlot(width, height int) image.Rectangle {
	return image.Rect(chartMarginLeft, chartMarginTop, width-chartMarginRight, height-chartMarginBottom)
}

// chartBarSpan returns the horizontal extent [x0, x1) of bar i of n.
func chartBarSpan(plot image.Rectangle, i, n int) (x0, x1 int) {
	w := plot.Dx()
	s0 := plot.Min.X + i*w/n
	s1 := plot.Min.X + (i+1)*w/n
	pad := (s1 - s0) * 15 / 100
	x0, x1 = s0+pad, s1-pad
	if x1 <= x0 {
		x1 = x0 + 1
	}
	return x0, x1
}

// DailyChartPNG draws a bar chart of total tokens (input + output) per day
// as a PNG image of width x height pixels, using only the standard library.
// daily is drawn in the given order (Aggregator.Daily returns it sorted by
// day). The chart has axes, light horizontal gridlines at quarters of the
// maximum, one bar per day whose height is proportional to its total, the
// day of month (from keys formatted "2006-01-02") under each bar when there
// is room, and the maximum value in the top left corner. Labels use a
// built-in 3x5 pixel digit font. The output is deterministic. An empty
// daily gives a valid chart with axes only.
func DailyChartPNG(daily []Group, width, height int) ([]byte, error) {
	if width < chartMinWidth || height < chartMinHeight {
		return nil, errors.New("chart: image must be at least " + strconv.Itoa(chartMinWidth) + "x" + strconv.Itoa(chartMinHeight) + " pixels")
	}
	if width > chartMaxDim || height > chartMaxDim {
		return nil, errors.New("chart: image must be at most " + strconv.Itoa(chartMaxDim) + "x" + strconv.Itoa(chartMaxDim) + " pixels")
	}
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), image.NewUniform(chartBackground), image.Point{}, draw.Src)
	plot := chartPlot(width, height)
	fill := func(r image.Rectangle, c color.Color) {
		draw.Draw(img, r.Intersect(img.Bounds()), image.NewUniform(c), image.Point{}, draw.Src)
	}

	var max int64
	for _, g := range daily {
		if t := g.Total(); t > max {
			max = t
		}
	}
	// Gridlines at 1/4 .. 4/4 of the maximum.
	for k := 1; k <= chartGridLines; k++ {
		y := plot.Max.Y - k*plot.Dy()/chartGridLines
		fill(image.Rect(plot.Min.X, y, plot.Max.X, y+1), chartGrid)
	}
	// Bars.
	n := len(daily)
	for i, g := range daily {
		x0, x1 := chartBarSpan(plot, i, n)
		if t := g.Total(); t > 0 && max > 0 {
			h := int((t*int64(plot.Dy()) + max/2) / max)
			if h < 1 {
				h = 1
			}
			fill(image.Rect(x0, plot.Max.Y-h, x1, plot.Max.Y), chartBar)
		}
		if day, err := time.Parse("2006-01-02", g.Key); err == nil {
			label := strconv.Itoa(day.Day())
			lw := chartTextWidth(label)
			if lw <= plot.Dx()/chartAtLeast1(n) {
				cx := (x0 + x1) / 2
				chartDrawText(img, cx-lw/2, plot.Max.Y+3, label, chartText)
			}
		}
	}
	// Axes.
	fill(image.Rect(plot.Min.X-1, plot.Min.Y, plot.Min.X, plot.Max.Y+1), chartAxis)
	fill(image.Rect(plot.Min.X-1, plot.Max.Y, plot.Max.X, plot.Max.Y+1), chartAxis)
	// Maximum value.
	if max > 0 {
		label := strconv.FormatInt(max, 10)
		if chartTextWidth(label) <= width-chartMarginLeft {
			chartDrawText(img, chartMarginLeft, (chartMarginTop-5)/2, label, chartText)
		}
	}

	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func chartAtLeast1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}

// chartDigits3x5 is a 3x5 pixel font for 0-9: five rows of three bits each
// (most significant bit = leftmost pixel).
var chartDigits3x5 = [10][5]uint8{
	{7, 5, 5, 5, 7}, // 0
	{2, 6, 2, 2, 7}, // 1
	{7, 1, 7, 4, 7}, // 2
	{7, 1, 7, 1, 7}, // 3
	{5, 5, 7, 1, 1}, // 4
	{7, 4, 7, 1, 7}, // 5
	{7, 4, 7, 5, 7}, // 6
	{7, 1, 2, 2, 2}, // 7
	{7, 5, 7, 5, 7}, // 8
	{7, 5, 7, 1, 7}, // 9
}

// chartTextWidth is the width in pixels of s drawn with chartDrawText.
func chartTextWidth(s string) int {
	if s == "" {
		return 0
	}
	return 4*len(s) - 1
}

// chartDrawText draws the digits of s with their top left corner at (x, y);
// other characters are left blank.
func chartDrawText(img *image.RGBA, x, y int, s string, c color.RGBA) {
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch >= '0' && ch <= '9' {
			for row, bits := range chartDigits3x5[ch-'0'] {
				for col := 0; col < 3; col++ {
					if bits&(4>>col) != 0 {
						px, py := x+4*i+col, y+row
						if image.Pt(px, py).In(img.Rect) {
							img.SetRGBA(px, py, c)
						}
					}
				}
			}
		}
	}
}
