// Package dynamostore is a server.SessionStore on a DynamoDB table, so that
// any instance of the server (any Lambda execution environment, any
// container) can serve any session.
//
// The table has partition key session_id (S) and no sort key, and TTL
// enabled on the attribute expires_at (Number, epoch seconds). Each item
// holds:
//
//	session_id  S  the session id
//	state       S  the JSON of server.SessionState (every field, verbatim)
//	principal   S  Principal.Key() of the creator, for inspection
//	expires_at  N  epoch seconds after which the session is dead (TTL)
//	last_used   N  epoch seconds of the last Load that refreshed expiry
//
// DynamoDB deletes expired items lazily (up to days late), so Load treats an
// item whose expires_at has passed as missing. To keep the hot path to one
// GetItem, Load extends expires_at only when less than 9/10 of the TTL
// remains: a busy session writes at most about once per TTL/10.
//
// There is no cap on the number of sessions in DynamoDB: MAX_SESSIONS applies
// per instance to the in-memory store only, and Create never returns
// server.ErrSessionLimit. The per-principal quota
// (MAX_SESSIONS_PER_PRINCIPAL) is the server's, counted per instance from
// the sessions it serves, so it needs no scan or counter item here.
//
// Create the table with CreateTable, or with the AWS CLI:
//
//	aws dynamodb create-table --table-name T \
//	    --attribute-definitions AttributeName=session_id,AttributeType=S \
//	    --key-schema AttributeName=session_id,KeyType=HASH \
//	    --billing-mode PAY_PER_REQUEST
//	aws dynamodb update-time-to-live --table-name T \
//	    --time-to-live-specification Enabled=true,AttributeName=expires_at
package dynamostore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"mcplambda/server"
)

// Attribute names of a session item.
const (
	AttrID        = "session_id"
	AttrState     = "state"
	AttrPrincipal = "principal"
	AttrExpiresAt = "expires_at"
	AttrLastUsed  = "last_used"
)

// DynamoAPI is the part of *dynamodb.Client a Store uses.
type DynamoAPI interface {
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// TableAPI is the part of *dynamodb.Client CreateTable uses.
type TableAPI interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	UpdateTimeToLive(ctx context.Context, in *dynamodb.UpdateTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
}

// Store is a server.SessionStore on a DynamoDB table. It is safe for
// concurrent use and keeps no session state of its own.
type Store struct {
	client DynamoAPI
	table  string
	ttl    time.Duration

	// Now is the clock; time.Now by default. Set it before use.
	Now func() time.Time
}

var _ server.SessionStore = (*Store)(nil)

// New returns a Store on table, after checking with DescribeTable that the
// table exists and has partition key session_id (S) and no sort key.
// Sessions expire after ttl without use (ttl <= 0: never; no expires_at is
// written).
func New(ctx context.Context, client DynamoAPI, table string, ttl time.Duration) (*Store, error) {
	if table == "" {
		return nil, errors.New("dynamostore: empty session table name")
	}
	out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("session table %s does not exist: create it with partition key %s (S) and TTL attribute %s, or unset SESSION_TABLE",
				table, AttrID, AttrExpiresAt)
		}
		return nil, fmt.Errorf("session table %s: describe table: %w", table, err)
	}
	if err := checkSchema(out.Table); err != nil {
		return nil, fmt.Errorf("session table %s: %w: it needs partition key %s (S) and no sort key, with TTL attribute %s",
			table, err, AttrID, AttrExpiresAt)
	}
	return &Store{client: client, table: table, ttl: ttl, Now: time.Now}, nil
}

func checkSchema(t *types.TableDescription) error {
	if t == nil {
		return errors.New("DescribeTable returned no table description")
	}
	var keys []string
	hashOK := false
	for _, k := range t.KeySchema {
		name := aws.ToString(k.AttributeName)
		keys = append(keys, name+" ("+string(k.KeyType)+")")
		if k.KeyType == types.KeyTypeHash && name == AttrID {
			hashOK = true
		}
	}
	if !hashOK || len(t.KeySchema) != 1 {
		return fmt.Errorf("wrong key schema %v", keys)
	}
	for _, a := range t.AttributeDefinitions {
		if aws.ToString(a.AttributeName) == AttrID && a.AttributeType != types.ScalarAttributeTypeS {
			return fmt.Errorf("key %s has type %s, not S", AttrID, a.AttributeType)
		}
	}
	return nil
}

// Table returns the table name.
func (s *Store) Table() string { return s.table }

// TTL returns the idle expiry.
func (s *Store) TTL() time.Duration { return s.ttl }

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func (s *Store) key(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrID: str(id)}
}

// item builds the full item for state, used at now.
func (s *Store) item(st *server.SessionState, now time.Time) (map[string]types.AttributeValue, error) {
	if st == nil || st.ID == "" {
		return nil, errors.New("dynamostore: session without an id")
	}
	b, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("dynamostore: encode session: %w", err)
	}
	it := map[string]types.AttributeValue{
		AttrID:        str(st.ID),
		AttrState:     str(string(b)),
		AttrPrincipal: str(st.Principal),
		AttrLastUsed:  num(now.Unix()),
	}
	if s.ttl > 0 {
		it[AttrExpiresAt] = num(now.Add(s.ttl).Unix())
	}
	return it, nil
}

func isConditionFailed(err error) bool {
	var cf *types.ConditionalCheckFailedException
	return errors.As(err, &cf)
}

// liveCondition is "the item exists and has not expired" (expires_at is
// compared with :now); it keeps Update and the refresh in Load from
// resurrecting a dead session DynamoDB has not deleted yet.
func (s *Store) liveCondition(now time.Time) (string, map[string]types.AttributeValue) {
	if s.ttl <= 0 {
		return "attribute_exists(" + AttrID + ")", nil
	}
	return "attribute_exists(" + AttrID + ") AND " + AttrExpiresAt + " > :now",
		map[string]types.AttributeValue{":now": num(now.Unix())}
}

// Create stores a new session. The id must be new: an existing item with
// the same id (a collision of random ids) is an error. It never returns
// server.ErrSessionLimit.
func (s *Store) Create(ctx context.Context, st *server.SessionState) error {
	it, err := s.item(st, s.now())
	if err != nil {
		return err
	}
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(s.table),
		Item:                it,
		ConditionExpression: aws.String("attribute_not_exists(" + AttrID + ")"),
	})
	if err != nil {
		if isConditionFailed(err) {
			return fmt.Errorf("dynamostore: session id %q already exists in %s", st.ID, s.table)
		}
		return fmt.Errorf("dynamostore: create session in %s: %w", s.table, err)
	}
	return nil
}

// Load returns a live session with one strongly consistent GetItem. An item
// whose expires_at has passed is reported as server.ErrSessionNotFound.
// When less than 9/10 of the TTL remains, Load extends the expiry with a
// conditional UpdateItem; if that write fails for a reason other than the
// session having gone, the session is still returned (the next Load
// retries the refresh).
func (s *Store) Load(ctx context.Context, id string) (*server.SessionState, error) {
	if id == "" || strings.HasPrefix(id, LedgerKeyPrefix) {
		// The table also holds used requestStates (ledger.go): a client
		// naming one as its session finds no session, like any other id.
		return nil, server.ErrSessionNotFound
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            s.key(id),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("dynamostore: load session from %s: %w", s.table, err)
	}
	if len(out.Item) == 0 {
		return nil, server.ErrSessionNotFound
	}
	now := s.now()
	var expires int64
	if s.ttl > 0 {
		e, ok := out.Item[AttrExpiresAt].(*types.AttributeValueMemberN)
		if !ok {
			return nil, fmt.Errorf("dynamostore: session item in %s has no numeric %s", s.table, AttrExpiresAt)
		}
		expires, err = strconv.ParseInt(e.Value, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("dynamostore: session item in %s: bad %s %q", s.table, AttrExpiresAt, e.Value)
		}
		if now.Unix() >= expires {
			return nil, server.ErrSessionNotFound
		}
	}
	raw, ok := out.Item[AttrState].(*types.AttributeValueMemberS)
	if !ok {
		return nil, fmt.Errorf("dynamostore: session item in %s has no string %s", s.table, AttrState)
	}
	st := new(server.SessionState)
	if err := json.Unmarshal([]byte(raw.Value), st); err != nil {
		return nil, fmt.Errorf("dynamostore: decode session from %s: %w", s.table, err)
	}
	st.ID = id
	if s.ttl > 0 && time.Duration(expires-now.Unix())*time.Second < s.ttl*9/10 {
		if err := s.refresh(ctx, id, now); errors.Is(err, server.ErrSessionNotFound) {
			return nil, err
		}
	}
	return st, nil
}

// refresh extends a live session's expiry to now+ttl.
func (s *Store) refresh(ctx context.Context, id string, now time.Time) error {
	cond, vals := s.liveCondition(now)
	if vals == nil {
		vals = map[string]types.AttributeValue{}
	}
	vals[":exp"] = num(now.Add(s.ttl).Unix())
	vals[":used"] = num(now.Unix())
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       s.key(id),
		UpdateExpression:          aws.String("SET " + AttrExpiresAt + " = :exp, " + AttrLastUsed + " = :used"),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeValues: vals,
	})
	if err != nil {
		if isConditionFailed(err) {
			return server.ErrSessionNotFound
		}
		return err
	}
	return nil
}

// Update replaces a live session's state (and extends its expiry);
// server.ErrSessionNotFound when it is gone or expired.
func (s *Store) Update(ctx context.Context, st *server.SessionState) error {
	now := s.now()
	it, err := s.item(st, now)
	if err != nil {
		return err
	}
	cond, vals := s.liveCondition(now)
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.table),
		Item:                      it,
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeValues: vals,
	})
	if err != nil {
		if isConditionFailed(err) {
			return server.ErrSessionNotFound
		}
		return fmt.Errorf("dynamostore: update session in %s: %w", s.table, err)
	}
	return nil
}

// Delete removes a session; deleting an unknown session is not an error.
func (s *Store) Delete(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table),
		Key:       s.key(id),
	})
	if err != nil {
		return fmt.Errorf("dynamostore: delete session from %s: %w", s.table, err)
	}
	return nil
}

// CreateTable creates a session table (on-demand billing, partition key
// session_id), waits until it is active, and enables TTL on expires_at. It
// is meant for tests and documents what deploy scripts must create.
func CreateTable(ctx context.Context, client TableAPI, table string) error {
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(AttrID), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(AttrID), KeyType: types.KeyTypeHash},
		},
	})
	if err != nil {
		return fmt.Errorf("create session table %s: %w", table, err)
	}
	w := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = time.Second
		o.MaxDelay = 10 * time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 5*time.Minute); err != nil {
		return fmt.Errorf("wait for session table %s: %w", table, err)
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(AttrExpiresAt),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("enable TTL on session table %s: %w", table, err)
	}
	return nil
}
