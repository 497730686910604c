// Command lambdazip writes a Lambda deployment package for an OS-only
// runtime (provided.al2023): a zip holding one executable named bootstrap.
//
//	go run ./internal/cmd/lambdazip -o authorizer.zip path/to/binary
//
// The deploy scripts and the Dockerfile use it instead of the zip command,
// so building the authorizer needs nothing beyond Go (or Docker). The entry
// is mode 0755 (Lambda runs bootstrap, so it must be executable) with a
// fixed timestamp: the same binary always gives the same zip, and so the
// same CodeSha256.
package main

import (
	"archive/zip"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// epoch is the zip format's earliest date, used for every build.
var epoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

func main() {
	out := flag.String("o", "", "the zip file to write")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: lambdazip -o FILE.zip BINARY")
	}
	flag.Parse()
	if *out == "" || flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := write(*out, flag.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "lambdazip:", err)
		os.Exit(1)
	}
}

// write zips binary as bootstrap into out, atomically: a failed run never
// leaves a truncated package behind for a later deploy to upload.
func write(out, binary string) (err error) {
	in, err := os.Open(binary)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() || st.Size() == 0 {
		return fmt.Errorf("%s is not a non-empty regular file", binary)
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".lambdazip-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	zw := zip.NewWriter(tmp)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: epoch}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, in); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}
