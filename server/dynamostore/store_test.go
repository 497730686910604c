package dynamostore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"mcplambda/mcp"
	"mcplambda/server"
	"mcplambda/test/moto"
)

// One moto_server for the package; every test uses its own table.
var (
	shared    *moto.Server
	sharedErr error
	tableSeq  atomic.Int64
)

func TestMain(m *testing.M) {
	shared, sharedErr = moto.Launch(context.Background())
	code := m.Run()
	if shared != nil {
		_ = shared.Close()
	}
	os.Exit(code)
}

func motoClient(t *testing.T) *dynamodb.Client {
	t.Helper()
	if sharedErr != nil {
		msg := "moto: " + sharedErr.Error()
		if moto.Required() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dynamodb.NewFromConfig(shared.AWSConfig(context.Background()))
}

// newTable creates a fresh session table and returns the client and name.
func newTable(t *testing.T) (*dynamodb.Client, string) {
	t.Helper()
	c := motoClient(t)
	name := fmt.Sprintf("sessions-%d-%d", time.Now().UnixNano(), tableSeq.Add(1))
	if err := CreateTable(context.Background(), c, name); err != nil {
		t.Fatal(err)
	}
	return c, name
}

// counting wraps a DynamoAPI and counts calls.
type counting struct {
	DynamoAPI
	gets, puts, updates atomic.Int64
}

func (c *counting) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.gets.Add(1)
	return c.DynamoAPI.GetItem(ctx, in, o...)
}

func (c *counting) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.puts.Add(1)
	return c.DynamoAPI.PutItem(ctx, in, o...)
}

func (c *counting) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.updates.Add(1)
	return c.DynamoAPI.UpdateItem(ctx, in, o...)
}

// clock is a settable clock safe for concurrent use.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Now().UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }
func newID(t *testing.T, suffix string) string {
	return "sid-" + strings.ReplaceAll(t.Name(), "/", "-") + suffix
}

func fullState(id string) *server.SessionState {
	return &server.SessionState{
		ID:              id,
		Principal:       "cognito:us-east-1_x:alice",
		ProtocolVersion: mcp.Version20251125,
		ClientInfo:      mcp.Implementation{Name: "client", Title: "A Client", Version: "1.2.3"},
		ClientCapabilities: mcp.ClientCapabilities{
			Experimental: map[string]json.RawMessage{"x": json.RawMessage(`{"a":[1,2,{"b":null}]}`)},
			Roots: &struct {
				ListChanged bool `json:"listChanged,omitempty"`
			}{ListChanged: true},
			Sampling:    json.RawMessage(`{}`),
			Elicitation: json.RawMessage(`{"form":{},"url":{}}`),
			Tasks:       json.RawMessage(`{"list":{}}`),
		},
		LogLevel:      mcp.LoggingLevel("warning"),
		Subscriptions: []string{"test://a", "file:///b c"},
		CreatedAt:     time.Date(2025, 11, 25, 10, 11, 12, 123456789, time.UTC),
	}
}

func equalState(t *testing.T, got, want *server.SessionState) {
	t.Helper()
	if !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, want.CreatedAt)
	}
	g, w := *got, *want
	g.CreatedAt, w.CreatedAt = time.Time{}, time.Time{}
	if !reflect.DeepEqual(g, w) {
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		t.Errorf("state differs:\n got %s\nwant %s", gj, wj)
	}
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	c, table := newTable(t)
	s, err := New(ctx, c, table, 30*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	want := fullState(newID(t, ""))
	if err := s.Create(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(ctx, want.ID)
	if err != nil {
		t.Fatal(err)
	}
	equalState(t, got, want)

	// A second Create with the same id is a collision, not a limit.
	if err := s.Create(ctx, want); err == nil || errors.Is(err, server.ErrSessionLimit) {
		t.Fatalf("Create of an existing id: %v", err)
	}

	next := got.Clone()
	next.LogLevel = "debug"
	next.Subscriptions = append(next.Subscriptions, "test://new")
	if err := s.Update(ctx, next); err != nil {
		t.Fatal(err)
	}
	got, err = s.Load(ctx, want.ID)
	if err != nil {
		t.Fatal(err)
	}
	equalState(t, got, next)

	if err := s.Delete(ctx, want.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx, want.ID); !errors.Is(err, server.ErrSessionNotFound) {
		t.Fatalf("Load after Delete: %v", err)
	}
	if err := s.Delete(ctx, want.ID); err != nil {
		t.Fatalf("Delete of unknown: %v", err)
	}
	if err := s.Update(ctx, next); !errors.Is(err, server.ErrSessionNotFound) {
		t.Fatalf("Update of deleted session: %v", err)
	}
	// Update must not have resurrected it.
	if _, err := s.Load(ctx, want.ID); !errors.Is(err, server.ErrSessionNotFound) {
		t.Fatalf("Load after failed Update: %v", err)
	}
}

func TestLoadUnknown(t *testing.T) {
	ctx := context.Background()
	c, table := newTable(t)
	s, err := New(ctx, c, table, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"nope", ""} {
		if _, err := s.Load(ctx, id); !errors.Is(err, server.ErrSessionNotFound) {
			t.Fatalf("Load(%q) = %v, want ErrSessionNotFound", id, err)
		}
	}
}

func TestExpiryAndRefresh(t *testing.T) {
	ctx := context.Background()
	c, table := newTable(t)
	api := &counting{DynamoAPI: c}
	const ttl = 100 * time.Second
	s, err := New(ctx, api, table, ttl)
	if err != nil {
		t.Fatal(err)
	}
	clk := newClock()
	s.Now = clk.Now
	st := fullState(newID(t, ""))
	if err := s.Create(ctx, st); err != nil {
		t.Fatal(err)
	}

	// Fresh session: many Loads, one GetItem each, no writes.
	for range 5 {
		clk.Advance(time.Second)
		if _, err := s.Load(ctx, st.ID); err != nil {
			t.Fatal(err)
		}
	}
	if n := api.updates.Load(); n != 0 {
		t.Fatalf("%d UpdateItem calls for a fresh session, want 0", n)
	}
	if n := api.gets.Load(); n != 5 {
		t.Fatalf("%d GetItem calls for 5 Loads", n)
	}

	// Past 1/10 of the TTL: the next Load refreshes, once.
	clk.Advance(10 * time.Second) // 15 s since Create: 85 s left < 90 s
	if _, err := s.Load(ctx, st.ID); err != nil {
		t.Fatal(err)
	}
	if n := api.updates.Load(); n != 1 {
		t.Fatalf("%d UpdateItem calls near expiry, want 1", n)
	}
	clk.Advance(time.Second)
	if _, err := s.Load(ctx, st.ID); err != nil {
		t.Fatal(err)
	}
	if n := api.updates.Load(); n != 1 {
		t.Fatalf("%d UpdateItem calls right after a refresh, want 1", n)
	}

	// The refresh (at +15 s) moved the expiry to +115 s: at +106 s, past
	// the original expiry (+100 s), the session still lives; then 100 s
	// idle kills it.
	clk.Advance(90 * time.Second)
	if _, err := s.Load(ctx, st.ID); err != nil {
		t.Fatalf("Load within the refreshed TTL: %v", err)
	}
	clk.Advance(ttl + time.Second)
	if _, err := s.Load(ctx, st.ID); !errors.Is(err, server.ErrSessionNotFound) {
		t.Fatalf("Load after TTL idle: %v, want ErrSessionNotFound", err)
	}
	// Expired but not yet deleted by DynamoDB: Update must not revive it.
	if err := s.Update(ctx, st); !errors.Is(err, server.ErrSessionNotFound) {
		t.Fatalf("Update of expired session: %v", err)
	}
}

func TestNewMissingTable(t *testing.T) {
	c := motoClient(t)
	_, err := New(context.Background(), c, "no-such-sessions", time.Minute)
	if err == nil {
		t.Fatal("New on a missing table succeeded")
	}
	for _, want := range []string{"session table no-such-sessions does not exist", "session_id (S)", "expires_at", "SESSION_TABLE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestNewWrongSchema(t *testing.T) {
	ctx := context.Background()
	c := motoClient(t)
	name := fmt.Sprintf("wrong-%d", time.Now().UnixNano())
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            &name,
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(ctx, c, name, time.Minute)
	if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "session_id") {
		t.Fatalf("New on a table with the wrong key: %v", err)
	}
}

func TestCrossInstance(t *testing.T) {
	ctx := context.Background()
	c, table := newTable(t)
	a, err := New(ctx, c, table, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(ctx, dynamodb.NewFromConfig(shared.AWSConfig(ctx)), table, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	st := fullState(newID(t, ""))
	if err := a.Create(ctx, st); err != nil {
		t.Fatal(err)
	}
	got, err := b.Load(ctx, st.ID)
	if err != nil {
		t.Fatal(err)
	}
	equalState(t, got, st)
	next := got.Clone()
	next.LogLevel = "error"
	if err := b.Update(ctx, next); err != nil {
		t.Fatal(err)
	}
	if got, err := a.Load(ctx, st.ID); err != nil || got.LogLevel != "error" {
		t.Fatalf("A sees B's update: %v %+v", err, got)
	}
	if err := b.Delete(ctx, st.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Load(ctx, st.ID); !errors.Is(err, server.ErrSessionNotFound) {
		t.Fatalf("A after B deleted: %v", err)
	}
}

func TestConcurrentLoads(t *testing.T) {
	ctx := context.Background()
	c, table := newTable(t)
	api := &counting{DynamoAPI: c}
	s, err := New(ctx, api, table, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	clk := newClock()
	s.Now = clk.Now
	var ids []string
	for i := range 4 {
		st := fullState(newID(t, fmt.Sprint(i)))
		if err := s.Create(ctx, st); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, st.ID)
	}
	clk.Advance(5 * time.Second) // every Load may refresh
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 16 {
		wg.Go(func() {
			for i := range 4 {
				id := ids[(g+i)%len(ids)]
				st, err := s.Load(ctx, id)
				if err != nil {
					errs <- err
					return
				}
				if st.ID != id {
					errs <- fmt.Errorf("Load(%s) returned %s", id, st.ID)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if api.updates.Load() == 0 {
		t.Error("no refresh happened although every session was near expiry")
	}
}
