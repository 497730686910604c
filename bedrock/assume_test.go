package bedrock

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"mcplambda/test/moto"
)

func TestCrossAccountConfigMoto(t *testing.T) {
	srv := moto.Start(t)
	ctx := context.Background()
	base := srv.AWSConfig(ctx)

	id, err := sts.NewFromConfig(base).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(id.Account); got != "123456789012" {
		t.Fatalf("moto account = %q", got)
	}

	// Same account: base unchanged.
	same, err := crossAccountConfig(ctx, base, "123456789012", DefaultCrossAccountRole, "")
	if err != nil {
		t.Fatal(err)
	}
	if same.Credentials != base.Credentials || same.Region != base.Region {
		t.Fatalf("same account: config changed")
	}

	// Another account: credentials of the assumed role.
	other, err := crossAccountConfig(ctx, base, "210987654321", DefaultCrossAccountRole, "")
	if err != nil {
		t.Fatal(err)
	}
	if other.Credentials == base.Credentials {
		t.Fatal("other account: credentials not replaced")
	}
	// The caller's own config still speaks for its own account: the
	// assumed role lives in the returned config only.
	id, err = sts.NewFromConfig(base).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(id.Account); got != "123456789012" {
		t.Fatalf("the base config speaks for account %q after assuming a role, want its own", got)
	}
	id, err = sts.NewFromConfig(other).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(id.Arn)
	if aws.ToString(id.Account) != "210987654321" || !strings.Contains(arn, "assumed-role/"+DefaultCrossAccountRole+"/"+CrossAccountSessionName) {
		t.Fatalf("assumed identity: account %q arn %q", aws.ToString(id.Account), arn)
	}

	// Custom role name.
	custom, err := crossAccountConfig(ctx, base, "210987654321", "MyReader", "")
	if err != nil {
		t.Fatal(err)
	}
	id, err = sts.NewFromConfig(custom).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(aws.ToString(id.Arn), "assumed-role/MyReader/") {
		t.Fatalf("custom role arn %q", aws.ToString(id.Arn))
	}
}

func TestCrossAccountConfigInvalidID(t *testing.T) {
	base := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "")}
	for _, id := range []string{"", "12345678901", "1234567890123", "12345678901a", "abcdefghijkl", "1234-5678-90"} {
		_, err := (&CrossAccount{Allowed: []string{id}}).Config(context.Background(), base, id)
		if err == nil || !strings.Contains(err.Error(), "aws_account_id must be 12 digits") {
			t.Errorf("%q: err = %v", id, err)
		}
	}
}

// A fake STS endpoint: GetCallerIdentity succeeds for the base credentials,
// AssumeRole is denied.
func TestCrossAccountConfigAssumeDenied(t *testing.T) {
	var roleARN string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		q, _ := url.ParseQuery(string(body))
		w.Header().Set("Content-Type", "text/xml")
		switch q.Get("Action") {
		case "GetCallerIdentity":
			io.WriteString(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>
<Arn>arn:aws:iam::123456789012:user/alice</Arn><UserId>AIDA</UserId><Account>123456789012</Account>
</GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`)
		case "AssumeRole":
			roleARN = q.Get("RoleArn")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>
<Code>AccessDenied</Code><Message>User is not authorized to perform: sts:AssumeRole</Message></Error><RequestId>2</RequestId></ErrorResponse>`)
		default:
			http.Error(w, "unexpected", http.StatusBadRequest)
		}
	}))
	defer ts.Close()
	base := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
		BaseEndpoint: aws.String(ts.URL),
		HTTPClient:   ts.Client(),
	}
	_, err := (&CrossAccount{Allowed: []string{"999988887777"}}).Config(context.Background(), base, "999988887777")
	want := "arn:aws:iam::999988887777:role/" + DefaultCrossAccountRole
	if !errors.Is(err, ErrAccessDenied) || !strings.Contains(err.Error(), "sts:AssumeRole") || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v", err)
	}
	if roleARN != want {
		t.Errorf("AssumeRole RoleArn = %q, want %q", roleARN, want)
	}
}
