package bedrock

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"
)

// DefaultMaxLineSize is the longest line (in bytes, without the line
// terminator) FileSource passes on; longer lines are skipped and counted.
const DefaultMaxLineSize = 16 << 20

// FileSource reads Bedrock model-invocation log records from files, such as
// the JSON Lines objects Bedrock model-invocation logging writes to S3
// (downloaded locally) or a bundled sample. Use os.DirFS for real paths.
//
// Supported files are .jsonl and .json, each optionally gzipped (.jsonl.gz,
// .json.gz). A .jsonl file holds one record per line; a .json file holds
// either one record per line, a single (possibly pretty-printed) record, or
// a JSON array of records. Blank lines are ignored.
//
// A FileSource is not safe for concurrent use (Read updates SkippedLines).
type FileSource struct {
	// FS is the file system to read from.
	FS fs.FS
	// Root is a file or directory inside FS ("" or "." = the whole FS).
	// A directory is walked recursively; files with a supported extension
	// are read in lexical order of their path, and names starting with "."
	// (hidden files and directories) are ignored. A file named directly is
	// read whatever its extension (as JSON Lines, gunzipped if it ends in
	// .gz).
	Root string
	// MaxLineSize bounds the line length in bytes; <= 0 means
	// DefaultMaxLineSize.
	MaxLineSize int

	// SkippedLines is the number of lines the last Read skipped because
	// they were longer than MaxLineSize. Read resets it.
	SkippedLines int64
}

// Read streams every record (one line, or one whole .json document) of the
// files under Root to emit, with the same contract as CloudWatchSource.Read:
// emit receives the raw record bytes and must not retain them (the buffer
// is reused); an error from emit stops the read and is returned as is; a
// cancelled ctx stops it with ctx.Err(). progress (if non-nil) is called
// after each file, with Events = records emitted so far and Pages = files
// read so far; Covered stays zero because Read does not decode records.
//
// Read does NOT filter by time: files carry no trustworthy time index, so
// every record is emitted whatever the window, and the caller must filter
// by the decoded record timestamp (Record.Timestamp) against w. w is only
// checked for consistency (an empty window reads nothing, an inverted one
// is an error).
func (s *FileSource) Read(ctx context.Context, w Window, emit func(msg []byte) error, progress func(Progress)) error {
	s.SkippedLines = 0
	if s.FS == nil {
		return errors.New("file: no file system given")
	}
	if !w.Start.IsZero() && !w.End.IsZero() && !w.End.After(w.Start) {
		if w.End.Equal(w.Start) {
			return nil
		}
		return fmt.Errorf("file: window end %s is before start %s",
			w.End.Format(time.RFC3339), w.Start.Format(time.RFC3339))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	files, err := s.files()
	if err != nil {
		return err
	}
	var p Progress
	for _, name := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.readFile(ctx, name, &p, emit); err != nil {
			return err
		}
		p.Pages++
		if progress != nil {
			progress(p)
		}
	}
	return nil
}

// fileSupported reports whether name has an extension FileSource reads when
// walking a directory.
func fileSupported(name string) bool {
	name = strings.TrimSuffix(name, ".gz")
	return strings.HasSuffix(name, ".jsonl") || strings.HasSuffix(name, ".json")
}

// files lists the files to read, in lexical order.
func (s *FileSource) files() ([]string, error) {
	root := s.Root
	if root == "" {
		root = "."
	}
	fi, err := fs.Stat(s.FS, root)
	if err != nil {
		return nil, fmt.Errorf("file: %w", err)
	}
	if !fi.IsDir() {
		return []string{root}, nil
	}
	var files []string
	err = fs.WalkDir(s.FS, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() && fileSupported(d.Name()) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("file: %w", err)
	}
	slices.Sort(files)
	return files, nil
}

func (s *FileSource) maxLine() int {
	if s.MaxLineSize > 0 {
		return s.MaxLineSize
	}
	return DefaultMaxLineSize
}

// readFile emits the records of one file.
func (s *FileSource) readFile(ctx context.Context, name string, p *Progress, emit func([]byte) error) (err error) {
	f, err := s.FS.Open(name)
	if err != nil {
		return fmt.Errorf("file: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	base := path.Base(name)
	if strings.HasSuffix(base, ".gz") {
		zr, err := gzip.NewReader(bufio.NewReaderSize(f, 64<<10))
		if err != nil {
			return fmt.Errorf("file: %s: %w", name, err)
		}
		defer zr.Close()
		r = zr
		base = strings.TrimSuffix(base, ".gz")
	}
	send := func(rec []byte) error {
		if err := emit(rec); err != nil {
			return err
		}
		p.Events++
		return nil
	}
	wrap := func(err error, emitErr *bool) error {
		if err == nil || *emitErr || errors.Is(err, ctx.Err()) {
			return err
		}
		return fmt.Errorf("file: %s: %w", name, err)
	}
	var emitErr bool
	sendTracked := func(rec []byte) error {
		if err := send(rec); err != nil {
			emitErr = true
			return err
		}
		return nil
	}
	max := s.maxLine()
	if strings.HasSuffix(base, ".json") {
		// Look at the whole document (if it fits) to recognise a single
		// pretty-printed record or an array of records.
		head, err := io.ReadAll(io.LimitReader(r, int64(max)+1))
		if err != nil {
			return wrap(err, &emitErr)
		}
		if len(head) <= max {
			doc := bytes.TrimSpace(head)
			if len(doc) > 0 && doc[0] == '[' {
				var recs []json.RawMessage
				if json.Unmarshal(doc, &recs) == nil {
					for _, rec := range recs {
						if err := ctx.Err(); err != nil {
							return err
						}
						if err := sendTracked(rec); err != nil {
							return err
						}
					}
					return nil
				}
			} else if len(doc) > 0 && json.Valid(doc) {
				return wrap(sendTracked(doc), &emitErr)
			}
		}
		r = io.MultiReader(bytes.NewReader(head), r)
	}
	return wrap(s.lines(ctx, r, max, sendTracked), &emitErr)
}

// lines calls fn for each non-blank line of r (without the line terminator
// and surrounding white space), skipping and counting lines longer than
// max bytes.
func (s *FileSource) lines(ctx context.Context, r io.Reader, max int, fn func([]byte) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		line     []byte
		skipping bool
		n        int
	)
	process := func(b []byte) error {
		if skipping {
			s.SkippedLines++
			skipping = false
			return nil
		}
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			return nil
		}
		if n++; n%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		return fn(b)
	}
	for {
		chunk, err := br.ReadSlice('\n')
		full := err == nil
		data := chunk
		if full {
			data = data[:len(data)-1]
		}
		switch {
		case skipping:
		case len(line)+len(data) > max:
			skipping = true
			line = line[:0]
		case full && len(line) == 0:
			// Fast path: the whole line is in the reader's buffer.
			if err := process(data); err != nil {
				return err
			}
			continue
		default:
			line = append(line, data...)
		}
		if full || (err == io.EOF && (len(line) > 0 || skipping)) {
			if err := process(line); err != nil {
				return err
			}
			line = line[:0]
		}
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
		case err == io.EOF:
			return nil
		default:
			return err
		}
	}
}
