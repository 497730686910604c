// Command decode compares the usage report's decoding loop with the
// original product's approach (JSON.parse and Map aggregation in Node.js)
// on the same file, for `make bench`:
//
//	go run ./test/bench/decode [-size 275] [-runs 5] [-node PATH,...] [-cpu 0]
//
// It writes the embedded sample's records (about 0.9 KB each) over and
// over into a JSON Lines file of -size MB in a temporary directory, which
// it removes when done. Then, -runs times, it runs the Go loop (FileSource,
// Decoder.Decode, Aggregator.Add, in a child process with GOMAXPROCS=1)
// and decode.mjs under each Node binary (with a Date for the day, and with
// --slice-day), one after the other, all pinned
// to one core with taskset when it is available. Each child reports the
// wall and CPU time of its loop; the best of the runs is printed for each,
// with the Go/Node ratios, and the children's totals must agree.
// -go-baseline adds the Go loop of another build (say, of an older commit)
// to the same table.
//
// Both wall and CPU figures are printed because the machines this runs on
// are often shared: wall time then counts the time others held the core,
// CPU time does not.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"mcplambda/bedrock"
	"mcplambda/bedrock/sample"
)

// result is what a child prints (decode.mjs prints the same shape).
type result struct {
	Impl      string  `json:"impl"`
	Bytes     int64   `json:"bytes"`
	Records   int64   `json:"records"`
	Malformed int64   `json:"malformed"`
	WallS     float64 `json:"wall_s"`
	CPUS      float64 `json:"cpu_s"`
	Totals    struct {
		Requests   int64 `json:"requests"`
		Input      int64 `json:"input"`
		Output     int64 `json:"output"`
		CacheRead  int64 `json:"cacheRead"`
		CacheWrite int64 `json:"cacheWrite"`
	} `json:"totals"`
	Groups struct {
		Days       int `json:"days"`
		Regions    int `json:"regions"`
		Models     int `json:"models"`
		Users      int `json:"users"`
		Operations int `json:"operations"`
	} `json:"groups"`
}

func main() {
	child := flag.String("child-go", "", "internal: run the Go loop over this file and print a result")
	sizeMB := flag.Int("size", 275, "size of the generated file in MB (10^6 bytes)")
	runs := flag.Int("runs", 5, "runs of each implementation (the best is reported)")
	nodes := flag.String("node", "test/node_modules/.bin/node,node", "comma-separated Node binaries to compare with (missing ones are skipped)")
	cpu := flag.Int("cpu", 0, "core to pin every child to with taskset (-1: no pinning)")
	script := flag.String("script", "test/bench/decode/decode.mjs", "the Node script")
	sliceDay := flag.Bool("slice-day", true, "also run decode.mjs --slice-day (the day from the timestamp's text, not a Date: Node at its most favourable)")
	var baselines []string
	flag.Func("go-baseline", "`label=path` of another build of this command whose Go loop is measured too (e.g. one built at an older commit); repeatable", func(v string) error {
		if _, _, ok := strings.Cut(v, "="); !ok {
			return errors.New("want label=path")
		}
		baselines = append(baselines, v)
		return nil
	})
	flag.Parse()

	if *child != "" {
		if err := runGo(*child); err != nil {
			fmt.Fprintln(os.Stderr, "decode:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*sizeMB, *runs, *nodes, *cpu, *script, *sliceDay, baselines); err != nil {
		fmt.Fprintln(os.Stderr, "decode:", err)
		os.Exit(1)
	}
}

func run(sizeMB, runs int, nodeList string, cpu int, script string, sliceDay bool, baselines []string) error {
	if sizeMB <= 0 || runs <= 0 {
		return errors.New("-size and -runs must be positive")
	}
	dir, err := os.MkdirTemp("", "bedrock-decode-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "invocations.jsonl")
	size, recs, err := generate(file, int64(sizeMB)*1e6)
	if err != nil {
		return err
	}

	self, err := os.Executable()
	if err != nil {
		return err
	}
	type impl struct {
		name string
		argv []string
		env  []string
	}
	impls := []impl{{name: "go", argv: []string{self, "-child-go", file}, env: []string{"GOMAXPROCS=1"}}}
	for _, b := range baselines {
		label, path, _ := strings.Cut(b, "=")
		impls = append(impls, impl{name: label, argv: []string{path, "-child-go", file}, env: []string{"GOMAXPROCS=1"}})
	}
	seen := map[string]bool{}
	for _, n := range strings.Split(nodeList, ",") {
		if strings.TrimSpace(n) == "" {
			continue
		}
		path, err := exec.LookPath(strings.TrimSpace(n))
		if err != nil {
			fmt.Fprintf(os.Stderr, "decode: skipping Node %q: %v\n", n, err)
			continue
		}
		out, err := exec.Command(path, "--version").Output()
		if err != nil {
			fmt.Fprintf(os.Stderr, "decode: skipping Node %q: %v\n", path, err)
			continue
		}
		v := strings.TrimSpace(string(out))
		if seen[v] {
			continue
		}
		seen[v] = true
		impls = append(impls, impl{name: "node " + v, argv: []string{path, script, file}})
		if sliceDay {
			impls = append(impls, impl{name: "node " + v + " --slice-day", argv: []string{path, script, "--slice-day", file}})
		}
	}
	pin := "unpinned"
	if cpu >= 0 {
		if ts, err := exec.LookPath("taskset"); err == nil && exec.Command(ts, "-c", strconv.Itoa(cpu), "true").Run() == nil {
			for i := range impls {
				impls[i].argv = append([]string{ts, "-c", strconv.Itoa(cpu)}, impls[i].argv...)
			}
			pin = fmt.Sprintf("pinned to core %d with taskset", cpu)
		} else {
			pin = "unpinned (taskset unavailable)"
		}
	}

	fmt.Printf("decode: %.1f MB JSON Lines file, %d records (%.0f B each, the embedded sample's shape), best of %d runs, %s\n",
		float64(size)/1e6, recs, float64(size)/float64(recs), runs, pin)
	best := make([]result, len(impls))
	var bestWall, bestCPU []float64 = make([]float64, len(impls)), make([]float64, len(impls))
	for r := 0; r < runs; r++ {
		for i, im := range impls {
			res, err := runChild(im.argv, im.env)
			if err != nil {
				return fmt.Errorf("%s: %w", im.name, err)
			}
			if res.Bytes != size {
				return fmt.Errorf("%s read %d bytes, want %d", im.name, res.Bytes, size)
			}
			if i > 0 && (res.Totals != best[0].Totals || res.Groups != best[0].Groups || res.Malformed != best[0].Malformed) {
				return fmt.Errorf("%s disagrees with go:\n%+v\n%+v", im.name, res, best[0])
			}
			best[i] = res
			if w := float64(res.Bytes) / res.WallS / 1e6; w > bestWall[i] {
				bestWall[i] = w
			}
			if res.CPUS > 0 {
				if c := float64(res.Bytes) / res.CPUS / 1e6; c > bestCPU[i] {
					bestCPU[i] = c
				}
			}
		}
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "implementation\tMB/s (wall)\tMB/s (CPU time)\tGo/this (wall)\tGo/this (CPU)\t")
	for i, im := range impls {
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.2fx\t%.2fx\t\n", im.name, bestWall[i], bestCPU[i],
			bestWall[0]/bestWall[i], ratio(bestCPU[0], bestCPU[i]))
	}
	tw.Flush()
	t := best[0].Totals
	fmt.Printf("decode: all agree: %d requests, %d input, %d output, %d cache-read, %d cache-write tokens; %d days, %d regions, %d models, %d users, %d operations\n",
		t.Requests, t.Input, t.Output, t.CacheRead, t.CacheWrite,
		best[0].Groups.Days, best[0].Groups.Regions, best[0].Groups.Models, best[0].Groups.Users, best[0].Groups.Operations)
	return nil
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// generate writes the sample's records repeatedly to file until it holds
// at least want bytes, whole records only.
func generate(file string, want int64) (size, records int64, err error) {
	var lines [][]byte
	err = sample.Source().Read(context.Background(), bedrock.Window{}, func(msg []byte) error {
		lines = append(lines, append(bytes.Clone(msg), '\n'))
		return nil
	}, nil)
	if err != nil {
		return 0, 0, err
	}
	if len(lines) == 0 {
		return 0, 0, errors.New("the embedded sample is empty")
	}
	f, err := os.Create(file)
	if err != nil {
		return 0, 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for size < want {
		for _, l := range lines {
			if _, err := w.Write(l); err != nil {
				f.Close()
				return 0, 0, err
			}
			size += int64(len(l))
			records++
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return 0, 0, err
	}
	return size, records, f.Close()
}

func runChild(argv, env []string) (result, error) {
	var res result
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return res, fmt.Errorf("%v: %s", err, stderr.Bytes())
	}
	if err := json.Unmarshal(bytes.TrimSpace(out), &res); err != nil {
		return res, fmt.Errorf("reading its result %q: %w", out, err)
	}
	return res, nil
}

// runGo is the report's decoding loop: FileSource streams the file's lines
// (64 KiB buffer, bounded line length), Decoder.Decode and Aggregator.Add
// take each one.
func runGo(file string) error {
	fi, err := os.Stat(file)
	if err != nil {
		return err
	}
	src := &bedrock.FileSource{FS: os.DirFS(filepath.Dir(file)), Root: filepath.Base(file)}
	agg := bedrock.NewAggregator()
	dec := bedrock.Decoder{SkipRequestID: true} // as the report decodes
	var records int64
	cpu0 := processCPU()
	t0 := time.Now()
	err = src.Read(context.Background(), bedrock.Window{}, func(msg []byte) error {
		r, err := dec.Decode(msg)
		if err != nil {
			var re *bedrock.RecordError
			if errors.As(err, &re) {
				agg.AddMalformed(re.Reason)
				return nil
			}
			return err
		}
		records++
		agg.Add(r)
		return nil
	}, nil)
	wall := time.Since(t0)
	cpu := processCPU() - cpu0
	if err != nil {
		return err
	}
	var res result
	res.Impl = "go " + runtime.Version()
	res.Bytes = fi.Size()
	res.Records = records
	res.Malformed, _ = agg.Malformed()
	res.WallS, res.CPUS = wall.Seconds(), cpu.Seconds()
	t := agg.Overall()
	res.Totals.Requests, res.Totals.Input, res.Totals.Output = t.Requests, t.InputTokens, t.OutputTokens
	res.Totals.CacheRead, res.Totals.CacheWrite = t.CacheReadTokens, t.CacheWriteTokens
	res.Groups.Days, res.Groups.Regions, res.Groups.Models = len(agg.Daily()), len(agg.Regions()), len(agg.Models())
	res.Groups.Users, res.Groups.Operations = len(agg.Users()), len(agg.Operations())
	return json.NewEncoder(os.Stdout).Encode(res)
}

// processCPU returns the user and system CPU time of this process.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
