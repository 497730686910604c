// A real OAuth 2.1 authorization server for the end-to-end tests of the
// OAuth client: oidc-provider (pinned in test/package.json), configured the
// way an MCP deployment needs it. Started by the Go package mcplambda/test/oidc.
//
// Configuration comes from the environment (never from the network):
//   PORT             port to listen on (127.0.0.1)
//   ISSUER           issuer URL (default http://127.0.0.1:PORT)
//   CLIENT_ID        the pre-registered public client
//   CONFIDENTIAL_CLIENT_ID, CONFIDENTIAL_CLIENT_SECRET
//                    a pre-registered confidential client (client_secret_basic)
//   RESOURCE_SCOPES  space-separated scopes of every resource server (default "mcp:read mcp:write")
//   ACCESS_TOKEN_TTL access-token lifetime in seconds (default 3600)
//   COOKIE_KEY       key signing the interaction cookies
//   CIMD             "1": accept Client ID Metadata Documents (client_id = an
//                    https URL), including ones on loopback, which
//                    oidc-provider's SSRF protection refuses otherwise (tests
//                    serve them from a local TLS server trusted through
//                    NODE_EXTRA_CA_CERTS)
//
// Every resource indicator (RFC 8707) is accepted as a resource server whose
// access tokens are RS256 JWTs with aud = the indicator, so the MCP server
// under test can verify them against the JWKS like any real deployment.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number.parseInt(process.env.PORT ?? '', 10);
if (!Number.isInteger(port) || port <= 0) {
  console.error('PORT must be set to a port number');
  process.exit(2);
}
const issuer = process.env.ISSUER || `http://127.0.0.1:${port}`;
const clientId = process.env.CLIENT_ID || 'mcp-test-client';
const resourceScopes = (process.env.RESOURCE_SCOPES || 'mcp:read mcp:write').trim();
const accessTokenTTL = Number.parseInt(process.env.ACCESS_TOKEN_TTL || '3600', 10);
const cimd = process.env.CIMD === '1';

const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]']);
// Outgoing fetches (metadata documents): the SSRF guard stays on for every
// host but loopback, and loopback is only reachable when CIMD=1.
function fetchForTests(url, options) {
  if (cimd && loopbackHosts.has(new URL(url).hostname)) {
    delete options.dispatcher;
  }
  return globalThis.fetch(url, options);
}

// A fresh signing key per run: nothing secret is checked in.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key-1', alg: 'RS256', use: 'sig' };

const clients = [{
  client_id: clientId,
  // A native public client: any loopback port is accepted for its redirect
  // URIs (RFC 8252 section 7.3), so tests can use ephemeral ports.
  application_type: 'native',
  token_endpoint_auth_method: 'none',
  redirect_uris: ['http://127.0.0.1/callback', 'http://localhost/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
}];
if (process.env.CONFIDENTIAL_CLIENT_ID && process.env.CONFIDENTIAL_CLIENT_SECRET) {
  clients.push({
    client_id: process.env.CONFIDENTIAL_CLIENT_ID,
    client_secret: process.env.CONFIDENTIAL_CLIENT_SECRET,
    application_type: 'native',
    token_endpoint_auth_method: 'client_secret_basic',
    redirect_uris: ['http://127.0.0.1/callback', 'http://localhost/callback'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
  });
}

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [signingKey] },
  cookies: { keys: [process.env.COOKIE_KEY || randomBytes(32).toString('hex')] },
  pkce: { required: () => true },
  // Refresh tokens without offline_access: MCP clients ask for the scopes
  // the resource names, not OpenID ones.
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
  ttl: {
    AccessToken: accessTokenTTL,
    AuthorizationCode: 60,
    RefreshToken: 24 * 3600,
    Grant: 24 * 3600,
    Session: 24 * 3600,
    Interaction: 3600,
  },
  fetch: fetchForTests,
  features: {
    clientIdMetadataDocument: { enabled: cimd, ack: cimd ? 'draft-02' : undefined },
    devInteractions: { enabled: true },
    revocation: { enabled: true },
    registration: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (ctx, client, oneOf) => oneOf,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (ctx, resourceIndicator) => ({
        scope: resourceScopes,
        audience: resourceIndicator,
        accessTokenTTL,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
});

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});

function stop() {
  server.close(() => process.exit(0));
  // Keep-alive connections from the test's HTTP clients must not hold the exit.
  server.closeAllConnections?.();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
