package dynamostore

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"mcplambda/internal/reqstate"
)

func newLedger(t *testing.T) (*Ledger, *dynamodb.Client, string) {
	t.Helper()
	c, table := newTable(t)
	l, err := NewLedger(context.Background(), c, table)
	if err != nil {
		t.Fatal(err)
	}
	return l, c, table
}

func TestLedgerConsume(t *testing.T) {
	ctx := context.Background()
	l, c, table := newLedger(t)
	clk := newClock()
	l.Now = clk.Now
	expires := clk.Now().Add(10 * time.Minute)
	const id = "0123456789abcdef0123456789abcdef"

	if err := l.Consume(ctx, id, expires); err != nil {
		t.Fatalf("first Consume: %v", err)
	}
	if err := l.Consume(ctx, id, expires); !errors.Is(err, reqstate.ErrReplayed) {
		t.Fatalf("second Consume: %v, want ErrReplayed", err)
	}
	if err := l.Consume(ctx, id, expires.Add(time.Hour)); !errors.Is(err, reqstate.ErrReplayed) {
		t.Fatalf("Consume with another expiry: %v, want ErrReplayed", err)
	}
	if err := l.Consume(ctx, "fedcba9876543210fedcba9876543210", expires); err != nil {
		t.Fatalf("Consume of another id: %v", err)
	}

	// The item: prefixed key, TTL attribute at the expiry rounded up.
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            map[string]types.AttributeValue{AttrID: str(LedgerKeyPrefix + id)},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	exp, ok := out.Item[AttrExpiresAt].(*types.AttributeValueMemberN)
	wantExp := expires.Unix()
	if expires.Nanosecond() != 0 {
		wantExp++
	}
	if !ok || exp.Value != num(wantExp).(*types.AttributeValueMemberN).Value {
		t.Fatalf("item %s = %#v, want %d", AttrExpiresAt, out.Item[AttrExpiresAt], wantExp)
	}
	if _, ok := out.Item[AttrConsumedAt].(*types.AttributeValueMemberN); !ok {
		t.Fatalf("item has no numeric %s: %#v", AttrConsumedAt, out.Item)
	}

	// Expired: refused without a write.
	if err := l.Consume(ctx, "expired", clk.Now()); !errors.Is(err, reqstate.ErrExpired) {
		t.Fatalf("Consume of an expired id: %v, want ErrExpired", err)
	}
	out, err = c.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            map[string]types.AttributeValue{AttrID: str(LedgerKeyPrefix + "expired")},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil || len(out.Item) != 0 {
		t.Fatalf("expired id was written: %v %v", out.Item, err)
	}
	if err := l.Consume(ctx, "", expires); err == nil {
		t.Fatal("empty id accepted")
	}
}

// Sessions and ledger items share the table without colliding, even when a
// session id equals a state id.
func TestLedgerSharesSessionTable(t *testing.T) {
	ctx := context.Background()
	c, table := newTable(t)
	s, err := New(ctx, c, table, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	l := LedgerOf(s)
	if l.Table() != table {
		t.Fatalf("Table() = %q", l.Table())
	}
	st := fullState(newID(t, ""))
	if err := s.Create(ctx, st); err != nil {
		t.Fatal(err)
	}
	if err := l.Consume(ctx, st.ID, time.Now().Add(time.Minute)); err != nil {
		t.Fatalf("Consume of an id equal to a session id: %v", err)
	}
	got, err := s.Load(ctx, st.ID)
	if err != nil {
		t.Fatalf("session after Consume: %v", err)
	}
	equalState(t, got, st)
	if err := s.Delete(ctx, st.ID); err != nil {
		t.Fatal(err)
	}
	if err := l.Consume(ctx, st.ID, time.Now().Add(time.Minute)); !errors.Is(err, reqstate.ErrReplayed) {
		t.Fatalf("deleting the session forgot the ledger item: %v", err)
	}
	// A ledger item never loads as a session.
	if _, err := s.Load(ctx, LedgerKeyPrefix+st.ID); err == nil {
		t.Fatal("a ledger item loaded as a session")
	}
}

// Eight instances (each its own client and Ledger) consume one id at once:
// exactly one wins.
func TestLedgerConcurrentConsume(t *testing.T) {
	ctx := context.Background()
	_, _, table := newLedger(t)
	const instances = 8
	ledgers := make([]*Ledger, instances)
	for i := range ledgers {
		l, err := NewLedger(ctx, dynamodb.NewFromConfig(shared.AWSConfig(ctx)), table)
		if err != nil {
			t.Fatal(err)
		}
		ledgers[i] = l
	}
	for round := range 3 {
		id := strings.Repeat(string(rune('a'+round)), 32)
		expires := time.Now().Add(time.Minute)
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			wins  int
			other []error
			start = make(chan struct{})
		)
		for _, l := range ledgers {
			wg.Go(func() {
				<-start
				err := l.Consume(ctx, id, expires)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
				case !errors.Is(err, reqstate.ErrReplayed):
					other = append(other, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if len(other) > 0 {
			t.Fatalf("round %d: unexpected errors: %v", round, other)
		}
		if wins != 1 {
			t.Fatalf("round %d: %d of %d concurrent Consumes succeeded, want exactly 1", round, wins, instances)
		}
	}
}

// A state sealed on one instance is redeemed once across instances.
func TestLedgerRedeemAcrossInstances(t *testing.T) {
	ctx := context.Background()
	a, _, table := newLedger(t)
	b, err := NewLedger(ctx, dynamodb.NewFromConfig(shared.AWSConfig(ctx)), table)
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("0123456789abcdef0123456789abcdef")
	sa, err := reqstate.NewSealer(secret, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := reqstate.NewSealer(secret, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	bind := reqstate.BindingFor("alice", "tools/call", []byte(`{"name":"pay","arguments":{"amount":5}}`))
	tok, err := sa.Seal(bind, []byte(`{"confirmed":true}`))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sb.Redeem(ctx, tok, bind, b)
	if err != nil || string(st.Payload) != `{"confirmed":true}` {
		t.Fatalf("Redeem on instance B = %q, %v", st.Payload, err)
	}
	if _, err := sa.Redeem(ctx, tok, bind, a); !errors.Is(err, reqstate.ErrReplayed) {
		t.Fatalf("Redeem on instance A after B: %v, want ErrReplayed", err)
	}
}

func TestNewLedgerMissingTable(t *testing.T) {
	c := motoClient(t)
	_, err := NewLedger(context.Background(), c, "no-such-ledger")
	if err == nil || !strings.Contains(err.Error(), "no-such-ledger") || !strings.Contains(err.Error(), AttrID) {
		t.Fatalf("NewLedger on a missing table: %v", err)
	}
}

// failingPut fails every PutItem with a non-conditional error.
type failingPut struct{ DynamoAPI }

var errThrottled = errors.New("ProvisionedThroughputExceededException: slow down")

func (failingPut) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, errThrottled
}

func TestLedgerStoreError(t *testing.T) {
	l := &Ledger{client: failingPut{}, table: "t"}
	err := l.Consume(context.Background(), "id", time.Now().Add(time.Minute))
	if err == nil || errors.Is(err, reqstate.ErrReplayed) || !errors.Is(err, errThrottled) {
		t.Fatalf("Consume on a failing table: %v, want the wrapped store error", err)
	}
	if !strings.Contains(err.Error(), "t:") {
		t.Errorf("error %q does not name the table", err)
	}
}
