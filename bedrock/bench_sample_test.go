package bedrock

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"testing"
	"time"
)

// sampleLines returns the embedded sample's records (JSON Lines, about
// 0.9 KB a record), read from the generated data file next to package
// sample (bedrock cannot import sample).
func sampleLines(tb testing.TB) []byte {
	tb.Helper()
	f, err := os.Open("sample/data/invocations.jsonl.gz")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// BenchmarkDecodeSampleShape is the decoding loop of the usage report
// (split lines, Decode, Add) over the sample's record shape replicated to
// about 27 MB in memory, so that it measures decoding and aggregation
// without the file system. Run it with -cpu 1 for the one-core figure
// that make bench compares with Node.
func BenchmarkDecodeSampleShape(b *testing.B) {
	one := sampleLines(b)
	data := bytes.Repeat(one, 10)
	for _, c := range []struct {
		name   string
		decode func(*Decoder, []byte) (Record, error)
	}{
		{"fast", (*Decoder).Decode},
		// The reference decoder alone: the approach before the fast path.
		{"ref", func(_ *Decoder, b []byte) (Record, error) { return decodeRef(b) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			dec := Decoder{SkipRequestID: true} // as the report decodes
			cpu0 := processCPU()
			for b.Loop() {
				agg := NewAggregator()
				sc := bufio.NewScanner(bytes.NewReader(data))
				sc.Buffer(make([]byte, 64<<10), DefaultMaxRecordSize)
				for sc.Scan() {
					r, err := c.decode(&dec, sc.Bytes())
					if err != nil {
						b.Fatal(err)
					}
					agg.Add(r)
				}
				if agg.Overall().Requests == 0 {
					b.Fatal("no records")
				}
			}
			reportCPUThroughput(b, cpu0, len(data))
		})
	}
}

// reportCPUThroughput adds "cpu-MB/s": bytes per second of CPU time the
// process used during the benchmark (see processCPU), the figure to compare
// on a machine whose cores are shared.
func reportCPUThroughput(b *testing.B, cpu0 time.Duration, bytesPerOp int) {
	if cpu := processCPU() - cpu0; cpu > 0 {
		b.ReportMetric(float64(b.N)*float64(bytesPerOp)/cpu.Seconds()/1e6, "cpu-MB/s")
	}
}

// BenchmarkDecodeSampleRecords decodes the sample's records, already split
// into lines, without aggregating: the decoder alone.
func BenchmarkDecodeSampleRecords(b *testing.B) {
	data := sampleLines(b)
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	b.SetBytes(int64(len(data)))
	dec := Decoder{SkipRequestID: true} // as the report decodes
	cpu0 := processCPU()
	for b.Loop() {
		for _, l := range lines {
			if _, err := dec.Decode(l); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportCPUThroughput(b, cpu0, len(data))
}
