package repl

import (
	"context"

	"mcplambda/client/oauthclient"
)

// ClientName is how the client introduces itself to authorization servers
// (dynamic registration, consent pages).
const ClientName = "mcp-lambda-go client"

// OAuthConfig is the login configuration the client reads from its
// settings and the environment (client secret, metadata document URL,
// token directory): the same for the REPL and for `mcp-client smoke`, so
// that both find the tokens `auth login` stored.
func OAuthConfig(cfg Config, getenv func(string) string) oauthclient.Config {
	base := oauthclient.ConfigFromEnv(getenv)
	base.ClientID = cfg.ClientID
	base.RedirectURI = cfg.RedirectURI
	base.ClientName = ClientName
	base.Interactive = cfg.AuthMethod != AuthLambda
	return base
}

// FlowFactory makes OAuth logins with client/oauthclient: base is the
// configuration shared by every server (client id, redirect URI, store,
// browser); its ServerURL is set per server.
func FlowFactory(base oauthclient.Config) OAuthFactory {
	return func(serverURL string) (OAuth, error) {
		cfg := base
		cfg.ServerURL = serverURL
		f, err := oauthclient.New(cfg)
		if err != nil {
			return nil, err
		}
		return flowAuth{f}, nil
	}
}

// flowAuth adapts *oauthclient.Flow to OAuth.
type flowAuth struct{ *oauthclient.Flow }

func (f flowAuth) HasToken(context.Context) bool {
	st, err := f.Flow.Status()
	return err == nil && st.LoggedIn
}

func (f flowAuth) Login(ctx context.Context) error { return f.Flow.Login(ctx) }

func (f flowAuth) Status(context.Context) (AuthStatus, error) {
	st, err := f.Flow.Status()
	if err != nil {
		return AuthStatus{}, err
	}
	out := AuthStatus{
		LoggedIn:  st.LoggedIn,
		Subject:   st.Subject,
		ClientID:  st.ClientID,
		Issuer:    st.Issuer,
		Scopes:    st.Scopes,
		Expiry:    st.ExpiresAt,
		Refresh:   st.CanRefresh,
		StorePath: st.StoreDir,
	}
	if st.ClientKind != "" {
		out.Additional = "client registered as " + st.ClientKind
	}
	return out, nil
}
