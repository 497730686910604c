package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"mcplambda/internal/reqstate"
)

// LedgerKeyPrefix starts the partition key of every ledger item. Session
// ids never contain '#' (the server makes them with crypto/rand.Text,
// base32), so a ledger item and a session item can never share a key.
const LedgerKeyPrefix = "reqstate#"

// AttrConsumedAt is the time (epoch seconds) a ledger item was written, for
// inspection.
const AttrConsumedAt = "consumed_at"

// Ledger is a reqstate.Ledger in the session table: it records each
// consumed request state id as an item
//
//	session_id   S  "reqstate#" + the state id
//	expires_at   N  epoch seconds, the state's expiry rounded up (TTL)
//	consumed_at  N  epoch seconds of the Consume
//
// written with one conditional PutItem (attribute_not_exists(session_id)),
// so of any number of concurrent Consumes of one id on any number of
// instances exactly one succeeds. DynamoDB's TTL deletes the items once the
// states have expired; without TTL enabled on the table they stay forever
// (harmless but not free). It is safe for concurrent use.
type Ledger struct {
	client DynamoAPI
	table  string

	// Now is the clock; time.Now by default. Set it before use.
	Now func() time.Time
}

var _ reqstate.Ledger = (*Ledger)(nil)

// NewLedger returns a Ledger on table, after checking with DescribeTable
// that it is a session table (partition key session_id (S), no sort key).
func NewLedger(ctx context.Context, client DynamoAPI, table string) (*Ledger, error) {
	s, err := New(ctx, client, table, 0)
	if err != nil {
		return nil, err
	}
	return LedgerOf(s), nil
}

// LedgerOf returns a Ledger on the table and client of s, without another
// DescribeTable.
func LedgerOf(s *Store) *Ledger {
	return &Ledger{client: s.client, table: s.table, Now: time.Now}
}

// Table returns the table name.
func (l *Ledger) Table() string { return l.table }

func (l *Ledger) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Consume implements reqstate.Ledger: nil the first time id is consumed,
// an error wrapping reqstate.ErrReplayed after that (until DynamoDB deletes
// the item, some time after expires), reqstate.ErrExpired when expires has
// passed, and any other failure wrapped (the caller must then refuse the
// state).
func (l *Ledger) Consume(ctx context.Context, id string, expires time.Time) error {
	if id == "" {
		return errors.New("dynamostore: empty request state id")
	}
	now := l.now()
	if !now.Before(expires) {
		return reqstate.ErrExpired
	}
	// Round up: DynamoDB must not delete the item before the state expires.
	exp := expires.Unix()
	if expires.After(time.Unix(exp, 0)) {
		exp++
	}
	_, err := l.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(l.table),
		Item: map[string]types.AttributeValue{
			AttrID:         str(LedgerKeyPrefix + id),
			AttrExpiresAt:  num(exp),
			AttrConsumedAt: num(now.Unix()),
		},
		ConditionExpression: aws.String("attribute_not_exists(" + AttrID + ")"),
	})
	if err != nil {
		if isConditionFailed(err) {
			return reqstate.ErrReplayed
		}
		return fmt.Errorf("dynamostore: consume request state in %s: %w", l.table, err)
	}
	return nil
}
