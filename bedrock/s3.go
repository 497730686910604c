package bedrock

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// S3API is the part of the S3 client the reader uses (for tests and fakes).
// *s3.Client implements it.
type S3API interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Errors specific to the S3 source (ErrAccessDenied and ErrNoCredentials
// are shared with CloudWatchSource).
var (
	ErrBucketNotFound = errors.New("bucket not found")
	ErrObjectTooLarge = errors.New("log object too large")
)

// Defaults for S3Source.
const (
	DefaultMaxObjectBytes int64 = 1 << 30  // decompressed bytes per object
	DefaultMaxRecordBytes       = 16 << 20 // bytes per record (line)
	// DefaultS3Concurrency: S3 answers each GET after tens of
	// milliseconds, so a few requests in flight keep the decoder busy even
	// on one core; each costs a few hundred KiB of buffers.
	DefaultS3Concurrency = 8
)

// s3BatchBytes is the size of the blocks of records a reading goroutine
// hands to Read's caller, and s3BatchesAhead how many blocks of one object
// may wait: together with Concurrency they bound the memory of a read,
// whatever the number or size of the objects.
const (
	s3BatchBytes   = 128 << 10
	s3BatchesAhead = 2
)

// S3Source reads Bedrock model-invocation log records delivered to S3.
//
// Bedrock writes gzipped objects under
//
//	PREFIX/AWSLogs/ACCOUNT_ID/BedrockModelInvocationLogs/REGION/YYYY/MM/DD/HH/*.json.gz
//
// each holding JSON records one per line. Read also accepts uncompressed
// .json objects, and objects that are a single (possibly pretty-printed)
// JSON document or a top-level JSON array of records.
//
// Read filters by the key's hour folder only: every record of an object
// whose hour [HH:00, HH+1:00) overlaps the window is emitted. The caller
// (the aggregator) must filter by the record's own "timestamp".
type S3Source struct {
	Client S3API
	Bucket string
	// Prefix is the key prefix configured for Bedrock's S3 delivery
	// (without "AWSLogs/"; "" for none).
	Prefix string
	// MaxObjectBytes caps the decompressed size of one object (default
	// 1 GiB), a guard against gzip bombs; Read fails with
	// ErrObjectTooLarge beyond it.
	MaxObjectBytes int64
	// MaxRecordBytes caps one record (default 16 MiB); longer records are
	// skipped and counted in SkippedLines.
	MaxRecordBytes int

	// Concurrency is how many objects are fetched and decompressed at
	// once (default DefaultS3Concurrency). Records still reach emit one
	// at a time, in the order of a sequential read.
	Concurrency int

	// Retry settings for S3 throttling (SlowDown), as for CloudWatchSource.
	MaxRetries  int
	BaseBackoff time.Duration
	MaxBackoff  time.Duration

	// SkippedLines is set by Read: records longer than MaxRecordBytes that
	// were not emitted.
	SkippedLines int64
}

// Read streams every record of every log object whose hour folder overlaps
// the window to emit (the raw record bytes; emit must not retain them, the
// buffer is reused), calling progress (if non-nil) after each object.
// Progress.Events counts records, Pages objects, Covered is the newest hour
// folder read. It stops on ctx cancellation (returning ctx.Err()); an
// error from emit stops the read and is returned as is.
//
// Objects are fetched and decompressed by up to Concurrency goroutines
// while one goroutine lists them, but emit and progress are called from
// Read's goroutine only, one record at a time and in the order a
// sequential read would give (object by object, in listing order), so
// emit needs no locking and the result does not depend on timing. Memory
// stays flat in the number and size of objects: objects are streamed
// (never held whole), a reader hands its records over in blocks of
// s3BatchBytes and waits (backpressure) while s3BatchesAhead blocks of its
// object are not consumed yet, and the lister waits while Concurrency
// objects are ahead of the consumer.
func (s *S3Source) Read(ctx context.Context, w Window, emit func(msg []byte) error, progress func(Progress)) error {
	s.SkippedLines = 0
	if s.Client == nil {
		return errors.New("s3: no S3 client")
	}
	if s.Bucket == "" {
		return errors.New("s3: no bucket given")
	}
	if !w.Start.IsZero() && !w.End.IsZero() && !w.End.After(w.Start) {
		if w.End.Equal(w.Start) {
			return nil
		}
		return fmt.Errorf("s3: window end %s is before start %s",
			w.End.Format(time.RFC3339), w.Start.Format(time.RFC3339))
	}
	end := w.End
	if end.IsZero() {
		end = time.Now()
	}
	if !w.Start.IsZero() && !end.After(w.Start) {
		return nil
	}

	root := s.root()
	accounts, err := s.listDirs(ctx, root)
	if err != nil {
		return err
	}
	var bases []string // .../REGION/
	for _, acct := range accounts {
		regions, err := s.listDirs(ctx, acct+"BedrockModelInvocationLogs/")
		if err != nil {
			return err
		}
		bases = append(bases, regions...)
	}
	if len(bases) == 0 {
		return nil
	}

	// The UTC days to list, per base.
	var todo []dayBase
	if !w.Start.IsZero() {
		first := truncDay(w.Start)
		for d := first; d.Before(end); d = d.AddDate(0, 0, 1) {
			for _, b := range bases {
				todo = append(todo, dayBase{d, b})
			}
		}
	} else {
		for _, b := range bases {
			days, err := s.discoverDays(ctx, b, end)
			if err != nil {
				return err
			}
			for _, d := range days {
				todo = append(todo, dayBase{d, b})
			}
		}
		slices.SortStableFunc(todo, func(a, b dayBase) int { return a.day.Compare(b.day) })
	}

	return s.readObjects(ctx, w, end, todo, emit, progress)
}

// dayBase is one UTC day folder under one REGION folder.
type dayBase struct {
	day  time.Time
	base string
}

// s3Object is one object to read, and then its records on their way to
// the consumer.
type s3Object struct {
	key     string
	hour    time.Time
	batches chan *s3Batch // closed by the reader when done
	// Set by the reader before it closes batches.
	err     error
	skipped int64
}

// s3Batch holds records back to back: rec i is data[ends[i-1]:ends[i]].
type s3Batch struct {
	data []byte
	ends []int
}

// readObjects lists the objects of the days in todo and reads them
// concurrently, handing their records to emit in order (see Read).
func (s *S3Source) readObjects(parent context.Context, w Window, end time.Time, todo []dayBase, emit func([]byte) error, progress func(Progress)) error {
	workers := s.Concurrency
	if workers <= 0 {
		workers = DefaultS3Concurrency
	}
	maxRec := s.MaxRecordBytes
	if maxRec <= 0 {
		maxRec = DefaultMaxRecordBytes
	}
	ctx, cancel := context.WithCancel(parent)
	var wg sync.WaitGroup
	// Stop and wait for every goroutine before returning, whatever
	// happened: none outlives Read.
	defer wg.Wait()
	defer cancel()

	// Objects in listing order, as many ahead of the consumer as there
	// are readers; work hands each to one reader.
	order := make(chan *s3Object, workers)
	work := make(chan *s3Object)
	// Spare batches, so that a steady read allocates none.
	free := make(chan *s3Batch, workers*(s3BatchesAhead+1)+1)

	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(order)
		defer close(work)
		err := s.list(ctx, w, end, todo, func(key string, hour time.Time) bool {
			o := &s3Object{key: key, hour: hour, batches: make(chan *s3Batch, s3BatchesAhead)}
			select {
			case order <- o:
			case <-ctx.Done():
				return false
			}
			select {
			case work <- o:
				return true
			case <-ctx.Done():
				// The consumer may wait on o: finish it.
				o.err = ctx.Err()
				close(o.batches)
				return false
			}
		})
		if err != nil {
			// Reported in order, after the objects listed before it.
			o := &s3Object{err: err, batches: make(chan *s3Batch)}
			close(o.batches)
			select {
			case order <- o:
			case <-ctx.Done():
			}
		}
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sp := splitter{max: maxRec}
			for o := range work {
				s.readInto(ctx, o, &sp, free)
			}
		}()
	}

	var p Progress
	for o := range order {
		for b := range o.batches {
			if err := parent.Err(); err != nil {
				return err
			}
			start := 0
			for _, e := range b.ends {
				if err := emit(b.data[start:e]); err != nil {
					return err
				}
				start = e
			}
			p.Events += int64(len(b.ends))
			b.data, b.ends = b.data[:0], b.ends[:0]
			if cap(b.data) <= 2*s3BatchBytes { // not one grown for a huge record
				select {
				case free <- b:
				default:
				}
			}
		}
		s.SkippedLines += o.skipped
		if o.err != nil {
			if err := parent.Err(); err != nil {
				return err
			}
			return o.err
		}
		if o.key == "" {
			continue
		}
		p.Pages++
		if o.hour.After(p.Covered) {
			p.Covered = o.hour
		}
		if progress != nil {
			progress(p)
		}
	}
	return parent.Err()
}

// list calls found for every log object of the days in todo whose hour
// overlaps the window, in listing order, until found returns false.
func (s *S3Source) list(ctx context.Context, w Window, end time.Time, todo []dayBase, found func(key string, hour time.Time) bool) error {
	for _, db := range todo {
		dayPrefix := db.base + db.day.Format("2006/01/02") + "/"
		in := &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String(dayPrefix)}
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			out, err := s.listPage(ctx, in)
			if err != nil {
				return err
			}
			for _, obj := range out.Contents {
				key := aws.ToString(obj.Key)
				hour, ok := keyHour(db.day, strings.TrimPrefix(key, dayPrefix))
				if !ok || !isLogKey(key) {
					continue
				}
				if hour.Add(time.Hour).Compare(w.Start) <= 0 || !hour.Before(end) {
					continue
				}
				if !found(key, hour) {
					return ctx.Err()
				}
			}
			if !aws.ToBool(out.IsTruncated) || aws.ToString(out.NextContinuationToken) == "" {
				break
			}
			in.ContinuationToken = out.NextContinuationToken
		}
	}
	return nil
}

// readInto reads object o into batches for the consumer, closing
// o.batches when done; o.err is the error that stopped it, if any.
func (s *S3Source) readInto(ctx context.Context, o *s3Object, sp *splitter, free chan *s3Batch) {
	defer close(o.batches)
	newBatch := func() *s3Batch {
		select {
		case b := <-free:
			return b
		default:
			return &s3Batch{data: make([]byte, 0, s3BatchBytes)}
		}
	}
	b := newBatch()
	send := func() error {
		select {
		case o.batches <- b:
			b = newBatch()
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	err := s.readObject(ctx, o.key, sp, func(rec []byte) error {
		if len(b.ends) > 0 && len(b.data)+len(rec) > s3BatchBytes {
			if err := send(); err != nil {
				return err
			}
		}
		b.data = append(b.data, rec...)
		b.ends = append(b.ends, len(b.data))
		return nil
	})
	o.skipped = sp.skipped
	sp.skipped = 0
	if err == nil && len(b.ends) > 0 {
		err = send()
	}
	o.err = err
}

// root is PREFIX/AWSLogs/.
func (s *S3Source) root() string {
	p := strings.Trim(s.Prefix, "/")
	switch {
	case p == "" || p == "AWSLogs":
		return "AWSLogs/"
	case strings.HasSuffix(p, "/AWSLogs"):
		return p + "/"
	}
	return p + "/AWSLogs/"
}

func truncDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// keyHour parses "HH/..." (the key after the day prefix).
func keyHour(day time.Time, rest string) (time.Time, bool) {
	hh, _, ok := strings.Cut(rest, "/")
	if !ok || len(hh) != 2 {
		return time.Time{}, false
	}
	h, err := strconv.Atoi(hh)
	if err != nil || h < 0 || h > 23 {
		return time.Time{}, false
	}
	return day.Add(time.Duration(h) * time.Hour), true
}

func isLogKey(key string) bool {
	return strings.HasSuffix(key, ".json.gz") || strings.HasSuffix(key, ".json")
}

// discoverDays finds the day folders under base (…/REGION/) up to end by
// listing the year, month and day levels with a delimiter.
func (s *S3Source) discoverDays(ctx context.Context, base string, end time.Time) ([]time.Time, error) {
	var days []time.Time
	years, err := s.listDirs(ctx, base)
	if err != nil {
		return nil, err
	}
	for _, yp := range years {
		y, ok := dirNum(yp, base, 4, 1, 9999)
		if !ok || y > end.UTC().Year() {
			continue
		}
		months, err := s.listDirs(ctx, yp)
		if err != nil {
			return nil, err
		}
		for _, mp := range months {
			m, ok := dirNum(mp, yp, 2, 1, 12)
			if !ok {
				continue
			}
			ds, err := s.listDirs(ctx, mp)
			if err != nil {
				return nil, err
			}
			for _, dp := range ds {
				d, ok := dirNum(dp, mp, 2, 1, 31)
				if !ok {
					continue
				}
				t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
				if t.Day() != d || !t.Before(end) {
					continue
				}
				days = append(days, t)
			}
		}
	}
	return days, nil
}

func dirNum(dir, parent string, width, lo, hi int) (int, bool) {
	name := strings.TrimSuffix(strings.TrimPrefix(dir, parent), "/")
	if len(name) != width {
		return 0, false
	}
	n, err := strconv.Atoi(name)
	if err != nil || n < lo || n > hi {
		return 0, false
	}
	return n, true
}

// listDirs returns the common prefixes ("folders") directly under prefix.
func (s *S3Source) listDirs(ctx context.Context, prefix string) ([]string, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String(prefix), Delimiter: aws.String("/")}
	var dirs []string
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		out, err := s.listPage(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, cp := range out.CommonPrefixes {
			dirs = append(dirs, aws.ToString(cp.Prefix))
		}
		if !aws.ToBool(out.IsTruncated) || aws.ToString(out.NextContinuationToken) == "" {
			return dirs, nil
		}
		in.ContinuationToken = out.NextContinuationToken
	}
}

// listPage calls ListObjectsV2, retrying throttling with backoff.
func (s *S3Source) listPage(ctx context.Context, in *s3.ListObjectsV2Input) (*s3.ListObjectsV2Output, error) {
	var out *s3.ListObjectsV2Output
	err := s.retry(ctx, func() error {
		var err error
		out, err = s.Client.ListObjectsV2(ctx, in)
		return err
	})
	if err != nil {
		return nil, s.translate(err, "ListObjectsV2", "s3:ListBucket", aws.ToString(in.Prefix))
	}
	if out == nil {
		out = &s3.ListObjectsV2Output{}
	}
	return out, nil
}

func (s *S3Source) retry(ctx context.Context, call func() error) error {
	err, _ := retryThrottled(ctx, s.MaxRetries, s.BaseBackoff, s.MaxBackoff, isS3Throttle, call)
	return err
}

func isS3Throttle(err error) bool {
	if isThrottle(err) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "SlowDown", "ServiceUnavailable", "RequestThrottled":
			return true
		}
	}
	return false
}

// readObject streams one object through the record splitter to emit; the
// records it drops as too long are counted in sp.skipped.
func (s *S3Source) readObject(ctx context.Context, key string, sp *splitter, emit func([]byte) error) error {
	var out *s3.GetObjectOutput
	err := s.retry(ctx, func() error {
		var err error
		out, err = s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
		return err
	})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "NoSuchKey" {
			return nil // deleted since it was listed
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return s.translate(err, "GetObject", "s3:GetObject", key)
	}
	if out == nil || out.Body == nil {
		return nil
	}
	defer out.Body.Close()

	// A reader's buffers and gzip state serve object after object.
	if sp.br == nil {
		sp.br = bufio.NewReaderSize(out.Body, 64<<10)
	} else {
		sp.br.Reset(out.Body)
	}
	br := sp.br
	defer br.Reset(nil)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		var err error
		if sp.zr == nil {
			sp.zr, err = gzip.NewReader(br)
		} else {
			err = sp.zr.Reset(br)
		}
		if err != nil {
			return fmt.Errorf("s3: object s3://%s/%s: %w", s.Bucket, key, err)
		}
		defer sp.zr.Close()
		r = sp.zr
	}
	limit := s.MaxObjectBytes
	if limit <= 0 {
		limit = DefaultMaxObjectBytes
	}
	lr := &io.LimitedReader{R: r, N: limit + 1}

	sp.reset()
	sp.emit = emit
	defer func() { sp.emit = nil }()
	if sp.chunk == nil {
		sp.chunk = make([]byte, 64<<10)
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, rerr := lr.Read(sp.chunk)
		if lr.N <= 0 {
			return fmt.Errorf("%w: s3://%s/%s decompresses to more than %d bytes (raise MaxObjectBytes if this is genuine)",
				ErrObjectTooLarge, s.Bucket, key, limit)
		}
		if n > 0 {
			if err := sp.write(sp.chunk[:n]); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			return sp.flush()
		}
		if rerr != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return ctxErr
			}
			return fmt.Errorf("s3: reading s3://%s/%s: %w", s.Bucket, key, rerr)
		}
	}
}

func (s *S3Source) region() string {
	if c, ok := s.Client.(interface{ Options() s3.Options }); ok {
		if r := c.Options().Region; r != "" {
			return r
		}
	}
	return "(unknown region)"
}

// translate maps SDK errors to ErrBucketNotFound, ErrAccessDenied and
// ErrNoCredentials where it can, keeping the original error in the chain
// but out of the message (see awsError).
func (s *S3Source) translate(err error, op, perm, keyOrPrefix string) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchBucket":
			return awsFail(ErrBucketNotFound, err, "bucket %q does not exist (check the bucket name and that Bedrock model-invocation logging to S3 is enabled)", s.Bucket)
		case "AccessDenied", "AccessDeniedException", "AllAccessDisabled":
			what := fmt.Sprintf("arn:aws:s3:::%s", s.Bucket)
			if perm == "s3:GetObject" {
				what += "/" + keyOrPrefix
			}
			return awsFail(ErrAccessDenied, err, "%s on s3://%s/%s was denied; the caller needs the IAM permission %q on %s (and the bucket policy / KMS key must allow it)",
				op, s.Bucket, keyOrPrefix, perm, what)
		case "ExpiredToken", "ExpiredTokenException", "InvalidAccessKeyId", "InvalidToken", "SignatureDoesNotMatch", "MissingAuthenticationToken":
			return awsFail(ErrNoCredentials, err, "the AWS credentials are missing, invalid or expired (refresh them, e.g. `aws sso login`)")
		case "PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException":
			return awsFail(nil, err, "s3: bucket %q is not in region %s (set the region to the bucket's region)", s.Bucket, s.region())
		}
		return awsFail(nil, err, "s3: %s on s3://%s/%s failed (%s); the details are in the server log", op, s.Bucket, keyOrPrefix, ae.ErrorCode())
	}
	if isCredentialError(err) {
		return awsFail(ErrNoCredentials, err, "could not get AWS credentials to read bucket %q (configure a profile, environment variables or a role)", s.Bucket)
	}
	return fmt.Errorf("s3: %s on s3://%s/%s: %w", op, s.Bucket, keyOrPrefix, err)
}

// splitter cuts a byte stream into JSON records: one per line at nesting
// depth zero (newline-delimited JSON), a multi-line (pretty-printed) value
// as one record, and the elements of a top-level array as records. Lines
// that are not JSON are emitted as they are (the decoder reports them).
// Records longer than max are dropped and counted in skipped.
type splitter struct {
	max     int
	emit    func([]byte) error
	skipped int64
	chunk   []byte
	br      *bufio.Reader // reused by S3Source.readObject
	zr      *gzip.Reader  // likewise
	// bytewise turns off the whole-record fast path (for tests that
	// compare the two).
	bytewise bool

	buf      []byte
	depth    int
	inStr    bool
	esc      bool
	inArray  bool // inside a top-level array: records are its elements
	started  bool // buf holds (or, when dropping, held) non-space bytes
	dropping bool // current record exceeded max
}

func (sp *splitter) reset() {
	sp.buf = sp.buf[:0]
	sp.depth, sp.inStr, sp.esc, sp.inArray, sp.started, sp.dropping = 0, false, false, false, false, false
}

func (sp *splitter) add(c byte) {
	if sp.dropping {
		return
	}
	if len(sp.buf) >= sp.max {
		sp.dropping = true
		sp.buf = sp.buf[:0]
		return
	}
	sp.buf = append(sp.buf, c)
}

// end finishes the current record.
func (sp *splitter) end() error {
	defer func() { sp.buf = sp.buf[:0]; sp.started = false; sp.dropping = false }()
	if !sp.started {
		return nil
	}
	if sp.dropping {
		sp.skipped++
		return nil
	}
	rec := bytes.TrimSpace(sp.buf)
	if len(rec) == 0 {
		return nil
	}
	return sp.emit(rec)
}

func (sp *splitter) write(data []byte) error {
	base := 0
	if sp.inArray {
		base = 1
	}
	for i := 0; i < len(data); i++ {
		if !sp.started && !sp.inStr && !sp.inArray && sp.depth == 0 && !sp.dropping && !sp.bytewise {
			// Between records of JSON Lines, the common case: a whole
			// object and its line end in this chunk are found with the
			// decoder's loose skipping (strings and brackets, as the
			// byte-by-byte machine below tracks them) and emitted
			// without copying. Anything else (an array, a record across
			// chunks, odd brackets, text after the object) goes byte by
			// byte.
			j := skipWS(data, i)
			if j < len(data) && data[j] == '{' {
				if e := skipContainer(data, j); e > 0 {
					k := e
					for k < len(data) && (data[k] == ' ' || data[k] == '\t' || data[k] == '\r') {
						k++
					}
					// The machine counts the white space before the line
					// end against max too.
					if k < len(data) && data[k] == '\n' && k-j <= sp.max {
						if err := sp.emit(data[j:e]); err != nil {
							return err
						}
						i = k
						continue
					}
				}
			}
		}
		c := data[i]
		if sp.inStr {
			// Fast path: copy up to the next quote or backslash.
			if !sp.esc {
				j := i
				for j < len(data) && data[j] != '"' && data[j] != '\\' {
					j++
				}
				if j > i {
					if !sp.dropping {
						if len(sp.buf)+(j-i) > sp.max {
							sp.dropping = true
							sp.buf = sp.buf[:0]
						} else {
							sp.buf = append(sp.buf, data[i:j]...)
						}
					}
					i = j - 1
					continue
				}
			}
			sp.add(c)
			switch {
			case sp.esc:
				sp.esc = false
			case c == '\\':
				sp.esc = true
			case c == '"':
				sp.inStr = false
			}
			continue
		}
		switch c {
		case '"':
			sp.inStr = true
			sp.started = true
			sp.add(c)
		case '{', '[':
			if c == '[' && sp.depth == 0 && !sp.started && !sp.inArray {
				sp.inArray = true
				sp.depth = 1
				base = 1
				continue
			}
			sp.depth++
			sp.started = true
			sp.add(c)
		case '}', ']':
			if sp.inArray && sp.depth == 1 && c == ']' {
				if err := sp.end(); err != nil {
					return err
				}
				sp.inArray = false
				sp.depth = 0
				base = 0
				continue
			}
			if sp.depth > base {
				sp.depth--
			}
			sp.started = true
			sp.add(c)
		case ',':
			if sp.inArray && sp.depth == 1 {
				if err := sp.end(); err != nil {
					return err
				}
				continue
			}
			sp.started = true
			sp.add(c)
		case '\n':
			if sp.depth == 0 {
				if err := sp.end(); err != nil {
					return err
				}
				continue
			}
			sp.add(c)
		case ' ', '\t', '\r':
			if sp.started {
				sp.add(c)
			}
		default:
			sp.started = true
			sp.add(c)
		}
	}
	return nil
}

// flush ends the last record at end of object and resets the state.
func (sp *splitter) flush() error {
	err := sp.end()
	sp.reset()
	return err
}
