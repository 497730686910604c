package bedrock

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func BenchmarkDecodeAndAggregate(b *testing.B) {
	rng := rand.New(rand.NewPCG(11, 12))
	const n = 1024
	recs := make([][]byte, n)
	total := 0
	for i := range recs {
		recs[i], _ = genRecord(nil, rng, 5) // ~3 KB
		total += len(recs[i])
	}
	b.SetBytes(int64(total / n))
	b.ReportAllocs()
	var agg Aggregator
	b.ResetTimer()
	i := 0
	for b.Loop() {
		r, err := DecodeRecord(recs[i%n])
		if err != nil {
			b.Fatal(err)
		}
		agg.Add(r)
		i++
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkDecodeAndAggregateParallel(b *testing.B) {
	rng := rand.New(rand.NewPCG(11, 12))
	const n = 1024
	recs := make([][]byte, n)
	total := 0
	for i := range recs {
		recs[i], _ = genRecord(nil, rng, 5)
		total += len(recs[i])
	}
	b.SetBytes(int64(total / n))
	var count atomic.Int64
	var mu sync.Mutex
	var all Aggregator
	b.RunParallel(func(pb *testing.PB) {
		var agg Aggregator
		i := 0
		for pb.Next() {
			r, err := DecodeRecord(recs[i%n])
			if err != nil {
				b.Error(err)
				return
			}
			agg.Add(r)
			i++
		}
		count.Add(int64(i))
		mu.Lock()
		all.Merge(&agg)
		mu.Unlock()
	})
	b.ReportMetric(float64(count.Load())/b.Elapsed().Seconds(), "records/s")
}

// streamPeakHeap generates n records on the fly (one reused buffer),
// decodes and aggregates them, and returns the peak HeapInuse observed by
// a sampling goroutine and the heap in use after a final GC.
func streamPeakHeap(n int) (peak, retained uint64, agg *Aggregator) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peakV atomic.Uint64
	sample := func() {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		if m.HeapInuse > peakV.Load() {
			peakV.Store(m.HeapInuse)
		}
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				sample()
			}
		}
	}()
	rng := rand.New(rand.NewPCG(5, 6))
	agg = NewAggregator()
	var buf []byte
	for i := range n {
		buf, _ = genRecord(buf[:0], rng, 1+i%5)
		r, err := DecodeRecord(buf)
		if err != nil {
			agg.AddMalformed(err.(*RecordError).Reason)
			continue
		}
		agg.Add(r)
	}
	close(done)
	<-stopped
	sample()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	runtime.KeepAlive(buf)
	p := peakV.Load()
	if p < base {
		p = base
	}
	return p, ms.HeapInuse, agg
}

func TestStreamingHeapBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 1M records")
	}
	peakSmall, retSmall, aSmall := streamPeakHeap(10_000)
	peakBig, retBig, aBig := streamPeakHeap(1_000_000)
	t.Logf("10k records: peak HeapInuse %.2f MiB, retained %.2f MiB", float64(peakSmall)/(1<<20), float64(retSmall)/(1<<20))
	t.Logf("1M records:  peak HeapInuse %.2f MiB, retained %.2f MiB", float64(peakBig)/(1<<20), float64(retBig)/(1<<20))
	if aSmall.Overall().Requests != 10_000 || aBig.Overall().Requests != 1_000_000 {
		t.Fatalf("requests %d %d", aSmall.Overall().Requests, aBig.Overall().Requests)
	}
	if peakBig > 2*peakSmall {
		t.Errorf("peak heap for 1M records (%d) > 2x that for 10k (%d)", peakBig, peakSmall)
	}
}
