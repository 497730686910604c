package bedrock

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"mcplambda/test/moto"
)

// manyObjects returns a fake bucket of n gzipped objects of perObject small
// records each, spread over the hours of 2025-01-01 and 2025-01-02, and
// the window covering them.
func manyObjects(t testing.TB, n, perObject int) (*fakeS3, Window) {
	objs := make(map[string][]byte, n)
	var body bytes.Buffer
	for i := range n {
		body.Reset()
		for j := range perObject {
			fmt.Fprintf(&body, `{"timestamp":"2025-01-01T00:00:00Z","modelId":"m","n":%d,"j":%d,"pad":"%0200d"}`+"\n", i, j, 0)
		}
		day := 1 + i%2
		objs[fmt.Sprintf("%s2025/01/%02d/%02d/obj-%05d.json.gz", fakeBase, day, i/2%24, i)] = gzBytes(t, body.Bytes())
	}
	w := Window{Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2025, 1, 3, 0, 0, 0, 0, time.UTC)}
	return &fakeS3{objects: objs}, w
}

func gzBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	if tt, ok := t.(*testing.T); ok {
		return gz(tt, data)
	}
	return gz(&testing.T{}, data)
}

// Concurrent reading hands over exactly what a sequential read does, in
// the same order, with progress once per object.
func TestS3ConcurrentSameAsSequential(t *testing.T) {
	f, w := manyObjects(t, 1100, 3) // more than one page of listing
	read := func(conc int) ([]string, []Progress) {
		var recs []string
		var ps []Progress
		src := &S3Source{Client: f, Bucket: "b", Concurrency: conc}
		if err := src.Read(context.Background(), w, func(m []byte) error {
			recs = append(recs, string(m))
			return nil
		}, func(p Progress) { ps = append(ps, p) }); err != nil {
			t.Fatalf("concurrency %d: %v", conc, err)
		}
		return recs, ps
	}
	want, wantP := read(1)
	if len(want) != 1100*3 || len(wantP) != 1100 {
		t.Fatalf("sequential read: %d records, %d progress calls", len(want), len(wantP))
	}
	for _, conc := range []int{3, 32} {
		got, gotP := read(conc)
		if !slices.Equal(got, want) {
			t.Fatalf("concurrency %d: records differ from the sequential read (%d vs %d)", conc, len(got), len(want))
		}
		if !slices.Equal(gotP, wantP) {
			t.Fatalf("concurrency %d: progress differs from the sequential read", conc)
		}
	}
}

// The memory a read needs does not grow with the number of objects: the
// peak heap above what the fake bucket itself holds is about the same for
// 150 and for 1,500 objects.
func TestS3MemoryFlatInObjectCount(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 1,650 objects")
	}
	// A low GC target keeps the heap close to what is live, so that the
	// peak measures what the read holds rather than garbage, whose
	// allowance grows with the (larger) fake bucket.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	peak := func(n int) uint64 {
		f, w := manyObjects(t, n, 10)
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapInuse
		var top atomic.Uint64
		done := make(chan struct{})
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-done:
					return
				case <-tick.C:
					var m runtime.MemStats
					runtime.ReadMemStats(&m)
					if m.HeapInuse > top.Load() {
						top.Store(m.HeapInuse)
					}
				}
			}
		}()
		var recs int
		err := (&S3Source{Client: f, Bucket: "b", Concurrency: 8}).Read(context.Background(), w, func([]byte) error { recs++; return nil }, nil)
		close(done)
		<-stopped
		if err != nil || recs != n*10 {
			t.Fatalf("%d objects: %d records, %v", n, recs, err)
		}
		if top.Load() < base {
			return 0
		}
		return top.Load() - base
	}
	small, big := peak(150), peak(1500)
	t.Logf("peak heap above the bucket's: %.2f MiB for 150 objects, %.2f MiB for 1,500", float64(small)/(1<<20), float64(big)/(1<<20))
	if big > 2*small+8<<20 {
		t.Errorf("peak heap for 1,500 objects (%d) is not flat against 150 (%d)", big, small)
	}
}

// An emit error stops every reader: none is left running after Read.
func TestS3ConcurrentStopsOnEmitError(t *testing.T) {
	f, w := manyObjects(t, 300, 50)
	before := runtime.NumGoroutine()
	stop := errors.New("stop")
	n := 0
	err := (&S3Source{Client: f, Bucket: "b", Concurrency: 8}).Read(context.Background(), w, func([]byte) error {
		if n++; n == 1000 {
			return stop
		}
		return nil
	}, nil)
	if err != stop {
		t.Fatalf("err = %v, want the emit error as is", err)
	}
	if n != 1000 {
		t.Errorf("emit called %d times after its error", n-1000)
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before {
		t.Errorf("%d goroutines after Read, %d before", g, before)
	}
}

// Many objects through moto's S3: every record arrives, in listing order.
func TestS3ReadMotoManyObjects(t *testing.T) {
	srv := moto.Start(t)
	ctx := context.Background()
	client := s3.NewFromConfig(srv.AWSConfig(ctx), func(o *s3.Options) { o.UsePathStyle = true })
	const bucket = "many-objects"
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	const objects, perObject = 120, 25
	var want []string
	for i := range objects {
		var body bytes.Buffer
		for j := range perObject {
			rec := fmt.Sprintf(`{"timestamp":"2025-06-01T%02d:00:00Z","modelId":"m","o":%d,"j":%d}`, i%24, i, j)
			body.WriteString(rec + "\n")
		}
		key := fmt.Sprintf("AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1/2025/06/01/%02d/obj-%03d.json.gz", i%24, i)
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(gz(t, body.Bytes()))}); err != nil {
			t.Fatal(err)
		}
	}
	// Listing order: by key, so by hour folder, then name.
	type obj struct {
		key  string
		recs []string
	}
	var objs []obj
	for i := range objects {
		o := obj{key: fmt.Sprintf("%02d/obj-%03d", i%24, i)}
		for j := range perObject {
			o.recs = append(o.recs, fmt.Sprintf(`{"timestamp":"2025-06-01T%02d:00:00Z","modelId":"m","o":%d,"j":%d}`, i%24, i, j))
		}
		objs = append(objs, o)
	}
	slices.SortFunc(objs, func(a, b obj) int { return cmpString(a.key, b.key) })
	for _, o := range objs {
		want = append(want, o.recs...)
	}
	w := Window{Start: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC)}
	var got []string
	var pages int64
	err := (&S3Source{Client: client, Bucket: bucket, Concurrency: 6}).Read(ctx, w, func(m []byte) error {
		got = append(got, string(m))
		return nil
	}, func(p Progress) { pages = p.Pages })
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %d records, want %d in listing order", len(got), len(want))
	}
	if pages != objects {
		t.Errorf("pages = %d, want %d", pages, objects)
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// BenchmarkS3Read reads gzipped objects of the sample's records from an
// in-process S3 double (no network, no HTTP) and reports decompressed
// MB/s of the whole report path: decompression, record splitting,
// decoding and aggregation. Run with -cpu 1,2 to see what a second core
// adds (the readers decompress in parallel while the caller decodes).
// The latency rows make every GetObject wait 20 ms first, as a real S3
// GET does, to show what reading objects concurrently is for.
func BenchmarkS3Read(b *testing.B) {
	one := sampleLines(b)
	zipped := gzBytes(b, one)
	objs := map[string][]byte{}
	const n = 16
	for i := range n {
		objs[fmt.Sprintf("%s2025/01/01/%02d/obj-%02d.json.gz", fakeBase, i, i)] = zipped
	}
	w := Window{Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)}
	for _, c := range []struct {
		name    string
		latency time.Duration
		conc    int
	}{
		{"in-memory", 0, 0},
		{"20ms-latency/concurrency=1", 20 * time.Millisecond, 1},
		{"20ms-latency/concurrency=8", 20 * time.Millisecond, 8},
	} {
		b.Run(c.name, func(b *testing.B) {
			f := &fakeS3{objects: objs}
			if c.latency > 0 {
				f.onGet = func() { time.Sleep(c.latency) }
			}
			b.SetBytes(int64(n * len(one)))
			cpu0 := processCPU()
			for b.Loop() {
				agg := NewAggregator()
				dec := Decoder{SkipRequestID: true} // as the report decodes
				err := (&S3Source{Client: f, Bucket: "b", Concurrency: c.conc}).Read(context.Background(), w, func(m []byte) error {
					r, err := dec.Decode(m)
					if err != nil {
						return err
					}
					agg.Add(r)
					return nil
				}, nil)
				if err != nil {
					b.Fatal(err)
				}
				if agg.Overall().Requests != int64(n*3000) {
					b.Fatalf("%d requests", agg.Overall().Requests)
				}
			}
			reportCPUThroughput(b, cpu0, n*len(one))
		})
	}
}

// The splitter's whole-record fast path cuts every stream exactly as the
// byte-by-byte machine does, however the stream is chunked.
func TestSplitterFastPathSameAsBytewise(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	pieces := []string{
		`{"a":1}`, `{"s":"x\"}{[","t":[1,{"u":"]"}]}`, `  {"p":2}  `, "\t{\"q\":3}\r", ``, ` `,
		"{\n  \"pretty\": [1,\n 2]\n}", `[{"e":1},{"e":2}]`, `not json`, `{"open":[1,2}`, `{"x":"\\"}`,
		`{"m":]}`, `{}`, `{"long":"` + strings.Repeat("y", 90) + `"}`, `{"a":1} trailing`, `]`, `}{`,
		`{"deep":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}`,
	}
	for n := 52; n <= 58; n++ { // records about max (64) long, with white space after
		pieces = append(pieces, `{"k":"`+strings.Repeat("y", n)+`"}`, `{"k":"`+strings.Repeat("y", n)+`"}  `)
	}
	split := func(stream []byte, chunk int, bytewise bool) ([]string, int64) {
		var got []string
		sp := splitter{max: 64, bytewise: bytewise}
		sp.emit = func(rec []byte) error { got = append(got, string(rec)); return nil }
		for i := 0; i < len(stream); i += chunk {
			if err := sp.write(stream[i:min(i+chunk, len(stream))]); err != nil {
				t.Fatal(err)
			}
		}
		if err := sp.flush(); err != nil {
			t.Fatal(err)
		}
		return got, sp.skipped
	}
	for range 3000 {
		var b strings.Builder
		for range 1 + rng.IntN(8) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
			if rng.IntN(4) > 0 {
				b.WriteByte('\n')
			}
		}
		stream := []byte(b.String())
		chunk := 1 + rng.IntN(len(stream)+8)
		want, wantSkipped := split(stream, chunk, true)
		got, gotSkipped := split(stream, chunk, false)
		if !slices.Equal(got, want) || gotSkipped != wantSkipped {
			t.Fatalf("stream %q in chunks of %d:\n got %q (skipped %d)\nwant %q (skipped %d)", stream, chunk, got, gotSkipped, want, wantSkipped)
		}
	}
}
