package moto

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// DefaultPassword satisfies Cognito's default password policy.
const DefaultPassword = "Correct-Horse-9-Battery"

// CognitoOptions configures NewCognito. Zero values get defaults.
type CognitoOptions struct {
	PoolName     string   // default: "mcp-test-" + random hex
	ClientName   string   // default: "mcp-client"
	Domain       string   // if set, a user pool domain with this prefix is created
	Username     string   // default: "alice"
	Password     string   // default: DefaultPassword
	Email        string   // default: Username + "@example.com"
	CallbackURLs []string // default: http://localhost:8000/callback
}

// Cognito is a user pool with an app client and a user, on a moto server.
type Cognito struct {
	Server *Server
	API    *cip.Client // SDK client bound to the moto server

	Region   string
	PoolID   string // e.g. us-east-1_0123456789abcdef0123456789abcdef
	ClientID string // the app client (no secret)
	Domain   string // the domain prefix, if opts.Domain was set
	// Issuer is the iss claim of this pool's tokens:
	// https://cognito-idp.us-east-1.amazonaws.com/<PoolID>. Note its host is
	// the real AWS one, not the moto server: use JWKSURL to fetch keys.
	Issuer string
	// JWKSURL is where the moto server serves this pool's keys:
	// <Server.URL>/<PoolID>/.well-known/jwks.json.
	JWKSURL  string
	Username string
	Password string
	Email    string

	opts CognitoOptions
}

// NewCognito creates a user pool, an app client, optionally a domain, and
// a confirmed user with a permanent password, using the real SDK.
func NewCognito(t testing.TB, srv *Server, opts CognitoOptions) *Cognito {
	t.Helper()
	if opts.PoolName == "" {
		opts.PoolName = "mcp-test-" + randHex(4)
	}
	if opts.ClientName == "" {
		opts.ClientName = "mcp-client"
	}
	if opts.Username == "" {
		opts.Username = "alice"
	}
	if opts.Password == "" {
		opts.Password = DefaultPassword
	}
	if opts.Email == "" {
		opts.Email = opts.Username + "@example.com"
	}
	if len(opts.CallbackURLs) == 0 {
		opts.CallbackURLs = []string{"http://localhost:8000/callback"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	api := cip.NewFromConfig(srv.AWSConfig(ctx))
	pool, err := api.CreateUserPool(ctx, &cip.CreateUserPoolInput{
		PoolName:               aws.String(opts.PoolName),
		AutoVerifiedAttributes: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail},
	})
	if err != nil {
		t.Fatalf("moto: CreateUserPool: %v", err)
	}
	c := &Cognito{
		Server:   srv,
		API:      api,
		Region:   Region,
		PoolID:   aws.ToString(pool.UserPool.Id),
		Username: opts.Username,
		Password: opts.Password,
		Email:    opts.Email,
		opts:     opts,
	}
	c.Issuer = "https://cognito-idp." + c.Region + ".amazonaws.com/" + c.PoolID
	c.JWKSURL = srv.URL + "/" + c.PoolID + "/.well-known/jwks.json"
	c.ClientID = c.AddClient(t, opts.ClientName)

	if opts.Domain != "" {
		if _, err := api.CreateUserPoolDomain(ctx, &cip.CreateUserPoolDomainInput{
			Domain:     aws.String(opts.Domain),
			UserPoolId: aws.String(c.PoolID),
		}); err != nil {
			t.Fatalf("moto: CreateUserPoolDomain: %v", err)
		}
		c.Domain = opts.Domain
	}
	c.AddUser(t, opts.Username)
	return c
}

// AddClient creates another app client in the pool, configured like the
// first one, and returns its id (e.g. for "client not allowed" tests).
func (c *Cognito) AddClient(t testing.TB, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := c.API.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId:     aws.String(c.PoolID),
		ClientName:     aws.String(name),
		GenerateSecret: false,
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{
			types.ExplicitAuthFlowsTypeAllowUserPasswordAuth,
			types.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth,
			types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth,
		},
		AllowedOAuthFlowsUserPoolClient: true,
		AllowedOAuthFlows:               []types.OAuthFlowType{types.OAuthFlowTypeCode},
		AllowedOAuthScopes:              []string{"openid", "profile", "email"},
		CallbackURLs:                    c.opts.CallbackURLs,
		SupportedIdentityProviders:      []string{"COGNITO"},
		// Readable attributes are copied into moto's ID tokens.
		ReadAttributes: []string{"email", "email_verified"},
	})
	if err != nil {
		t.Fatalf("moto: CreateUserPoolClient: %v", err)
	}
	return aws.ToString(out.UserPoolClient.ClientId)
}

// AddUser creates a confirmed user with c.Password and a verified email
// <username>@example.com.
func (c *Cognito) AddUser(t testing.TB, username string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	email := username + "@example.com"
	if username == c.Username {
		email = c.Email
	}
	if _, err := c.API.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
		UserPoolId:    aws.String(c.PoolID),
		Username:      aws.String(username),
		MessageAction: types.MessageActionTypeSuppress,
		UserAttributes: []types.AttributeType{
			{Name: aws.String("email"), Value: aws.String(email)},
			{Name: aws.String("email_verified"), Value: aws.String("true")},
		},
	}); err != nil {
		t.Fatalf("moto: AdminCreateUser %q: %v", username, err)
	}
	if _, err := c.API.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{
		UserPoolId: aws.String(c.PoolID),
		Username:   aws.String(username),
		Password:   aws.String(c.Password),
		Permanent:  true,
	}); err != nil {
		t.Fatalf("moto: AdminSetUserPassword %q: %v", username, err)
	}
}

// AccessToken signs in the default user with the default client and
// returns the access token.
func (c *Cognito) AccessToken(t testing.TB) string {
	t.Helper()
	access, _, _ := c.Tokens(t)
	return access
}

// Tokens signs in the default user with the default client
// (InitiateAuth USER_PASSWORD_AUTH).
func (c *Cognito) Tokens(t testing.TB) (access, id, refresh string) {
	t.Helper()
	return c.TokensFor(t, c.ClientID, c.Username)
}

// TokensFor signs in username (whose password is c.Password) through the
// app client clientID, so the tokens carry that client_id / aud.
func (c *Cognito) TokensFor(t testing.TB, clientID, username string) (access, id, refresh string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := c.API.InitiateAuth(ctx, &cip.InitiateAuthInput{
		ClientId: aws.String(clientID),
		AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{
			"USERNAME": username,
			"PASSWORD": c.Password,
		},
	})
	if err != nil {
		t.Fatalf("moto: InitiateAuth %q via client %q: %v", username, clientID, err)
	}
	r := out.AuthenticationResult
	if r == nil {
		t.Fatalf("moto: InitiateAuth %q: no tokens, challenge %q", username, out.ChallengeName)
	}
	return aws.ToString(r.AccessToken), aws.ToString(r.IdToken), aws.ToString(r.RefreshToken)
}

// Refresh exchanges a refresh token (REFRESH_TOKEN_AUTH) for new access
// and ID tokens.
func (c *Cognito) Refresh(t testing.TB, refresh string) (access, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := c.API.InitiateAuth(ctx, &cip.InitiateAuthInput{
		ClientId:       aws.String(c.ClientID),
		AuthFlow:       types.AuthFlowTypeRefreshTokenAuth,
		AuthParameters: map[string]string{"REFRESH_TOKEN": refresh},
	})
	if err != nil {
		t.Fatalf("moto: InitiateAuth REFRESH_TOKEN_AUTH: %v", err)
	}
	return aws.ToString(out.AuthenticationResult.AccessToken), aws.ToString(out.AuthenticationResult.IdToken)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
