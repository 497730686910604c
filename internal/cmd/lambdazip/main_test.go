package main

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestWrite: one executable entry named bootstrap with the binary's bytes,
// and the same zip for the same binary (reproducible packages).
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "mcp-authorizer")
	content := bytes.Repeat([]byte("\x7fELF not really "), 1000)
	if err := os.WriteFile(bin, content, 0o755); err != nil {
		t.Fatal(err)
	}
	a, b := filepath.Join(dir, "a.zip"), filepath.Join(dir, "b.zip")
	for _, out := range []string{a, b} {
		if err := write(out, bin); err != nil {
			t.Fatal(err)
		}
	}
	za, _ := os.ReadFile(a)
	zb, _ := os.ReadFile(b)
	if !bytes.Equal(za, zb) {
		t.Error("two packages of the same binary differ")
	}
	zr, err := zip.OpenReader(a)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" {
		t.Fatalf("entries %v, want bootstrap alone", zr.File)
	}
	f := zr.File[0]
	if f.Mode().Perm() != 0o755 || !f.Mode().IsRegular() {
		t.Errorf("bootstrap mode %v, want an executable regular file (0755)", f.Mode())
	}
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, content) {
		t.Errorf("bootstrap content differs (%d bytes, %v)", len(got), err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".lambdazip-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestWriteRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{empty, dir, filepath.Join(dir, "missing")} {
		out := filepath.Join(dir, "out.zip")
		if err := write(out, in); err == nil {
			t.Errorf("write(%s) succeeded", in)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("a package was written for %s", in)
		}
	}
}
