package bedrock

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func fileGz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func fileRec(id string) string {
	return `{"schemaType":"ModelInvocationLog","schemaVersion":"1.0","timestamp":"2026-11-20T10:00:00Z","requestId":"` + id +
		`","modelId":"amazon.nova-lite-v1:0","input":{"inputTokenCount":10},"output":{"outputTokenCount":5}}`
}

func fileReadAll(t *testing.T, s *FileSource) ([]string, []Progress, error) {
	t.Helper()
	var got []string
	var ps []Progress
	err := s.Read(context.Background(), Window{}, func(msg []byte) error {
		r, err := DecodeRecord(msg)
		if err != nil {
			t.Errorf("DecodeRecord(%q): %v", msg, err)
			return nil
		}
		got = append(got, r.RequestID)
		return nil
	}, func(p Progress) { ps = append(ps, p) })
	return got, ps, err
}

func TestFileSourceDirectory(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.jsonl", []byte(fileRec("a1")+"\n\n"+fileRec("a2")+"\r\n"+fileRec("a3"))) // no final newline
	pretty := "{\n  \"timestamp\": \"2026-11-21T00:00:00Z\",\n  \"requestId\": \"b1\",\n  \"modelId\": \"m\"\n}\n"
	write("b.json.gz", fileGz(t, pretty))
	write("c.json", []byte(fileRec("c1")+"\n"+fileRec("c2")+"\n"))
	write("d.json", []byte("["+fileRec("d1")+","+fileRec("d2")+"]"))
	write("nested/deeper/e.jsonl.gz", fileGz(t, fileRec("e1")+"\n"+fileRec("e2")+"\n"))
	write("notes.txt", []byte("not a log\n"))
	write(".hidden/x.jsonl", []byte(fileRec("hidden")+"\n"))

	s := &FileSource{FS: os.DirFS(dir)}
	got, ps, err := fileReadAll(t, s)
	if err != nil {
		t.Fatal(err)
	}
	want := "a1 a2 a3 b1 c1 c2 d1 d2 e1 e2"
	if g := strings.Join(got, " "); g != want {
		t.Fatalf("records = %q, want %q", g, want)
	}
	if len(ps) != 5 {
		t.Fatalf("%d progress calls, want 5 (one per file)", len(ps))
	}
	if last := ps[len(ps)-1]; last.Events != 10 || last.Pages != 5 {
		t.Fatalf("final progress = %+v, want Events=10 Pages=5", last)
	}
	if s.SkippedLines != 0 {
		t.Fatalf("SkippedLines = %d", s.SkippedLines)
	}

	// Root naming a single file or a subdirectory.
	got, _, err = fileReadAll(t, &FileSource{FS: os.DirFS(dir), Root: "nested"})
	if err != nil || strings.Join(got, " ") != "e1 e2" {
		t.Fatalf("Root=nested: %q, %v", got, err)
	}
	got, _, err = fileReadAll(t, &FileSource{FS: os.DirFS(dir), Root: "c.json"})
	if err != nil || strings.Join(got, " ") != "c1 c2" {
		t.Fatalf("Root=c.json: %q, %v", got, err)
	}
	if _, _, err := fileReadAll(t, &FileSource{FS: os.DirFS(dir), Root: "missing"}); err == nil {
		t.Fatal("missing root: no error")
	}
}

func TestFileSourceOversizedLine(t *testing.T) {
	long := `{"requestId":"` + strings.Repeat("x", 200<<10) + `"}`
	fsys := fstest.MapFS{
		"log.jsonl": {Data: []byte(fileRec("r1") + "\n" + long + "\n" + fileRec("r2") + "\n" + long)},
	}
	s := &FileSource{FS: fsys, MaxLineSize: 100 << 10}
	got, ps, err := fileReadAll(t, s)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, " ") != "r1 r2" {
		t.Fatalf("records = %q", got)
	}
	if s.SkippedLines != 2 {
		t.Fatalf("SkippedLines = %d, want 2", s.SkippedLines)
	}
	if ps[len(ps)-1].Events != 2 {
		t.Fatalf("progress = %+v", ps[len(ps)-1])
	}
	// The default bound is 16 MiB: the same line passes.
	s = &FileSource{FS: fsys}
	n := 0
	if err := s.Read(context.Background(), Window{}, func([]byte) error { n++; return nil }, nil); err != nil {
		t.Fatal(err)
	}
	if n != 4 || s.SkippedLines != 0 {
		t.Fatalf("default bound: %d lines, %d skipped", n, s.SkippedLines)
	}
}

func TestFileSourceCancelAndErrors(t *testing.T) {
	var b strings.Builder
	for range 5000 {
		b.WriteString(fileRec("r") + "\n")
	}
	fsys := fstest.MapFS{"a.jsonl": {Data: []byte(b.String())}, "b.jsonl": {Data: []byte(b.String())}}
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := (&FileSource{FS: fsys}).Read(ctx, Window{}, func([]byte) error {
		if n++; n == 10 {
			cancel()
		}
		return nil
	}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n >= 5000 {
		t.Fatalf("read %d records after cancellation", n)
	}
	if err := (&FileSource{FS: fsys}).Read(ctx, Window{}, func([]byte) error { return nil }, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("pre-cancelled: %v", err)
	}

	stop := errors.New("stop")
	if err := (&FileSource{FS: fsys}).Read(context.Background(), Window{}, func([]byte) error { return stop }, nil); err != stop {
		t.Fatalf("emit error = %v, want it returned as is", err)
	}

	bad := fstest.MapFS{"x.jsonl.gz": {Data: []byte("not gzip")}}
	if err := (&FileSource{FS: bad}).Read(context.Background(), Window{}, func([]byte) error { return nil }, nil); err == nil || !strings.Contains(err.Error(), "x.jsonl.gz") {
		t.Fatalf("bad gzip: %v", err)
	}
	if err := (&FileSource{}).Read(context.Background(), Window{}, func([]byte) error { return nil }, nil); err == nil {
		t.Fatal("nil FS: no error")
	}
	now := time.Now()
	if err := (&FileSource{FS: fsys}).Read(context.Background(), Window{Start: now, End: now.Add(-time.Hour)}, func([]byte) error { return nil }, nil); err == nil {
		t.Fatal("inverted window: no error")
	}
}
