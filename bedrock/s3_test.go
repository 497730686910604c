package bedrock

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"mcplambda/test/moto"
)

func gz(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// digest is an order-independent checksum of a multiset of records.
func digest(recs []string) string {
	s := slices.Clone(recs)
	slices.Sort(s)
	h := sha256.New()
	for _, r := range s {
		h.Write([]byte(r))
		h.Write([]byte{0})
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func TestS3ReadMoto(t *testing.T) {
	srv := moto.Start(t)
	ctx := context.Background()
	cfg := srv.AWSConfig(ctx)
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	const bucket = "bedrock-logs"
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	put := func(key string, body []byte) {
		t.Helper()
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
	}

	day0 := time.Date(2025, 3, 9, 0, 0, 0, 0, time.UTC)
	// Window: 2025-03-09 22:30 .. 2025-03-11 01:30 → hour folders
	// 09/22, 09/23, 10/*, 11/00, 11/01 overlap.
	w := Window{Start: day0.Add(22*time.Hour + 30*time.Minute), End: day0.Add(49*time.Hour + 30*time.Minute)}
	var want []string
	inWindow := func(h time.Time) bool { return h.Add(time.Hour).After(w.Start) && h.Before(w.End) }
	hours := []int{0, 1, 5, 22, 23}
	n := 0
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		for d := 0; d < 4; d++ { // 09, 10, 11, 12
			for _, h := range hours {
				hour := day0.AddDate(0, 0, d).Add(time.Duration(h) * time.Hour)
				var body bytes.Buffer
				var recs []string
				for i := 0; i < 3; i++ {
					n++
					rec := fmt.Sprintf(`{"timestamp":%q,"region":%q,"n":%d}`, hour.Add(time.Duration(i)*time.Minute).Format(time.RFC3339), region, n)
					recs = append(recs, rec)
					body.WriteString(rec + "\n")
				}
				key := fmt.Sprintf("logs/AWSLogs/123456789012/BedrockModelInvocationLogs/%s/%s/%s_%d.json.gz",
					region, hour.Format("2006/01/02/15"), region, n)
				put(key, gz(t, body.Bytes()))
				if inWindow(hour) {
					want = append(want, recs...)
				}
			}
		}
	}
	// An uncompressed .json that is a single pretty-printed document, in window.
	doc := "{\n  \"timestamp\": \"2025-03-10T12:00:00Z\",\n  \"n\": \"doc\",\n  \"s\": \"a,b\\n}\"\n}\n"
	put("logs/AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1/2025/03/10/12/doc.json", []byte(doc))
	want = append(want, strings.TrimSpace(doc))
	// A gzipped top-level array, in window.
	put("logs/AWSLogs/123456789012/BedrockModelInvocationLogs/eu-west-1/2025/03/10/13/arr.json.gz",
		gz(t, []byte(`[{"n":"a1"}, {"n":"a2"}]`)))
	want = append(want, `{"n":"a1"}`, `{"n":"a2"}`)
	// Unrelated objects: other suffix, other prefix, other service, out of window.
	put("logs/AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1/2025/03/10/12/notes.txt", []byte("nope\n"))
	put("logs/AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1/2025/03/10/permission-check", []byte("x\n"))
	put("logs/AWSLogs/123456789012/CloudTrail/us-east-1/2025/03/10/12/ct.json.gz", gz(t, []byte(`{"ct":1}`+"\n")))
	put("other/AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1/2025/03/10/12/x.json.gz", gz(t, []byte(`{"other":1}`+"\n")))
	put("logs/AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1/2025/03/12/00/late.json", []byte(`{"late":1}`+"\n"))

	src := &S3Source{Client: client, Bucket: bucket, Prefix: "logs/"}
	var got []string
	var last Progress
	calls := 0
	err := src.Read(ctx, w, func(msg []byte) error {
		got = append(got, string(msg))
		return nil
	}, func(p Progress) {
		calls++
		if p.Events < last.Events || p.Pages != last.Pages+1 || p.Covered.Before(last.Covered) {
			t.Errorf("progress went backwards: %+v after %+v", p, last)
		}
		last = p
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || digest(got) != digest(want) {
		t.Fatalf("got %d records, want %d\ngot:  %q\nwant: %q", len(got), len(want), got, want)
	}
	// 2 regions × (2 hours on 09 + 5 on 10 + 2 on 11) gzipped objects + doc + arr.
	if wantPages := int64(2*(2+5+2) + 2); last.Pages != wantPages || int64(calls) != wantPages {
		t.Errorf("pages = %d (calls %d), want %d", last.Pages, calls, wantPages)
	}
	if last.Events != int64(len(want)) {
		t.Errorf("progress events = %d, want %d", last.Events, len(want))
	}
	if wantCov := day0.Add(49 * time.Hour); !last.Covered.Equal(wantCov) {
		t.Errorf("covered = %s, want %s", last.Covered, wantCov)
	}
	if src.SkippedLines != 0 {
		t.Errorf("skipped = %d", src.SkippedLines)
	}

	// Zero Start: everything up to End (discovery through year/month/day folders).
	src2 := &S3Source{Client: client, Bucket: bucket, Prefix: "logs"}
	var all int
	if err := src2.Read(ctx, Window{End: day0.AddDate(0, 0, 2)}, func([]byte) error { all++; return nil }, nil); err != nil {
		t.Fatal(err)
	}
	// Days 09 and 10: 2 regions × 2 days × 5 hours × 3 records + doc (1) + arr (2).
	if want := 2*2*5*3 + 3; all != want {
		t.Errorf("zero start: %d records, want %d", all, want)
	}

	// Missing bucket.
	err = (&S3Source{Client: client, Bucket: "no-such-bucket-here"}).Read(ctx, w, func([]byte) error { return nil }, nil)
	if !errors.Is(err, ErrBucketNotFound) || !strings.Contains(err.Error(), "no-such-bucket-here") {
		t.Fatalf("missing bucket: %v", err)
	}

	// emit error is returned as is.
	stop := errors.New("stop")
	err = src.Read(ctx, w, func([]byte) error { return stop }, nil)
	if err != stop {
		t.Fatalf("emit error: %v", err)
	}
}

// fakeS3 serves objects from a map; listErr/getErr inject errors.
type fakeS3 struct {
	objects map[string][]byte
	listErr error
	getErr  error
	onGet   func()
	lists   atomic.Int64
}

func (f *fakeS3) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	f.lists.Add(1)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.listErr != nil {
		return nil, f.listErr
	}
	prefix, delim := aws.ToString(in.Prefix), aws.ToString(in.Delimiter)
	keys := make([]string, 0, len(f.objects))
	for k := range f.objects {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := &s3.ListObjectsV2Output{IsTruncated: aws.Bool(false)}
	seen := map[string]bool{}
	// Pages of at most MaxKeys (1000) objects, as S3 returns them; the
	// continuation token is the next key.
	maxKeys := int(aws.ToInt32(in.MaxKeys))
	if maxKeys <= 0 {
		maxKeys = 1000
	}
	from := aws.ToString(in.ContinuationToken)
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) || (delim == "" && k < from) {
			continue
		}
		if delim == "" && len(out.Contents) == maxKeys {
			out.IsTruncated, out.NextContinuationToken = aws.Bool(true), aws.String(k)
			break
		}
		if delim != "" {
			if i := strings.Index(k[len(prefix):], delim); i >= 0 {
				cp := k[:len(prefix)+i+len(delim)]
				if !seen[cp] {
					seen[cp] = true
					out.CommonPrefixes = append(out.CommonPrefixes, types.CommonPrefix{Prefix: aws.String(cp)})
				}
				continue
			}
		}
		out.Contents = append(out.Contents, types.Object{Key: aws.String(k)})
	}
	return out, nil
}

func (f *fakeS3) GetObject(ctx context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	if f.onGet != nil {
		f.onGet()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.getErr != nil {
		return nil, f.getErr
	}
	b, ok := f.objects[aws.ToString(in.Key)]
	if !ok {
		return nil, &smithy.GenericAPIError{Code: "NoSuchKey", Message: "no such key"}
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(b))}, nil
}

const fakeBase = "AWSLogs/111122223333/BedrockModelInvocationLogs/us-west-2/"

func TestS3ReadAccessDenied(t *testing.T) {
	ctx := context.Background()
	w := Window{Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)}
	denied := &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}

	f := &fakeS3{objects: map[string][]byte{fakeBase + "2025/01/01/03/a.json": []byte("{}\n")}, listErr: denied}
	err := (&S3Source{Client: f, Bucket: "b1"}).Read(ctx, w, func([]byte) error { return nil }, nil)
	if !errors.Is(err, ErrAccessDenied) || !strings.Contains(err.Error(), "s3:ListBucket") || !strings.Contains(err.Error(), "b1") {
		t.Fatalf("list denied: %v", err)
	}

	f.listErr, f.getErr = nil, denied
	err = (&S3Source{Client: f, Bucket: "b1"}).Read(ctx, w, func([]byte) error { return nil }, nil)
	if !errors.Is(err, ErrAccessDenied) || !strings.Contains(err.Error(), "s3:GetObject") || !strings.Contains(err.Error(), "a.json") {
		t.Fatalf("get denied: %v", err)
	}
}

func TestS3ReadCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	objs := map[string][]byte{}
	for h := 0; h < 24; h++ {
		objs[fmt.Sprintf("%s2025/01/01/%02d/x.json.gz", fakeBase, h)] = gz(t, []byte(strings.Repeat(`{"a":1}`+"\n", 100)))
	}
	var gets atomic.Int64
	f := &fakeS3{objects: objs, onGet: func() {
		if gets.Add(1) == 3 {
			cancel()
		}
	}}
	w := Window{Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)}
	err := (&S3Source{Client: f, Bucket: "b", Concurrency: 1}).Read(ctx, w, func([]byte) error { return nil }, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if gets.Load() != 3 {
		t.Errorf("gets = %d, want 3", gets.Load())
	}

	// Concurrent readers stop too: at most the objects in flight when
	// the cancellation came are fetched.
	for _, conc := range []int{2, 8} {
		ctx, cancel := context.WithCancel(context.Background())
		var gets atomic.Int64
		f := &fakeS3{objects: objs, onGet: func() {
			if gets.Add(1) == 3 {
				cancel()
			}
		}}
		err := (&S3Source{Client: f, Bucket: "b", Concurrency: conc}).Read(ctx, w, func([]byte) error { return nil }, nil)
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("concurrency %d: err = %v, want context.Canceled", conc, err)
		}
		if n := gets.Load(); n > int64(3+conc) {
			t.Errorf("concurrency %d: %d gets after cancelling at the third", conc, n)
		}
	}

	// Already cancelled: nothing listed.
	f2 := &fakeS3{objects: objs}
	if err := (&S3Source{Client: f2, Bucket: "b"}).Read(ctx, w, func([]byte) error { return nil }, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if f2.lists.Load() != 0 {
		t.Errorf("listed %d times after cancel", f2.lists.Load())
	}
}

func TestS3ReadLimits(t *testing.T) {
	ctx := context.Background()
	w := Window{Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2025, 1, 1, 1, 0, 0, 0, time.UTC)}
	long := `{"x":"` + strings.Repeat("y", 200) + `"}`
	f := &fakeS3{objects: map[string][]byte{
		fakeBase + "2025/01/01/00/a.json.gz": gz(t, []byte(`{"a":1}`+"\n"+long+"\n"+`{"b":2}`+"\n\n  \n")),
	}}
	src := &S3Source{Client: f, Bucket: "b", MaxRecordBytes: 64}
	var got []string
	if err := src.Read(ctx, w, func(m []byte) error { got = append(got, string(m)); return nil }, nil); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{`{"a":1}`, `{"b":2}`}) || src.SkippedLines != 1 {
		t.Fatalf("got %q, skipped %d", got, src.SkippedLines)
	}

	// Decompressed-size guard.
	src = &S3Source{Client: f, Bucket: "b", MaxObjectBytes: 100}
	if err := src.Read(ctx, w, func([]byte) error { return nil }, nil); !errors.Is(err, ErrObjectTooLarge) {
		t.Fatalf("err = %v, want ErrObjectTooLarge", err)
	}
}

func TestS3ReadThrottleRetry(t *testing.T) {
	ctx := context.Background()
	w := Window{Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2025, 1, 1, 1, 0, 0, 0, time.UTC)}
	f := &throttledS3{fakeS3: fakeS3{objects: map[string][]byte{fakeBase + "2025/01/01/00/a.json": []byte(`{"a":1}`)}}, left: 2}
	src := &S3Source{Client: f, Bucket: "b", BaseBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}
	n := 0
	if err := src.Read(ctx, w, func([]byte) error { n++; return nil }, nil); err != nil || n != 1 {
		t.Fatalf("n = %d, err = %v", n, err)
	}
}

type throttledS3 struct {
	fakeS3
	left int
}

func (f *throttledS3) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, o ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	if f.left > 0 {
		f.left--
		return nil, &smithy.GenericAPIError{Code: "SlowDown", Message: "slow down"}
	}
	return f.fakeS3.ListObjectsV2(ctx, in, o...)
}
