// The official TypeScript SDK's OAuth client meets our server's 401: it must
// discover the protected-resource metadata from the challenge, find the
// authorization-server metadata (the Cognito facade) with PKCE S256
// support, and send the user to Cognito's authorize endpoint with PKCE,
// state and the RFC 8707 resource. Usage: node sdk_login.mjs MCP_URL CLIENT_ID EXPECTED_AUTHORIZE_URL
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";

const [mcpURL, clientID, authorizeURL] = process.argv.slice(2);
let passed = 0, failed = 0;
const check = (ok, what, detail = "") => {
  if (ok) { passed++; console.log(`ok - ${what}`); }
  else { failed++; console.log(`not ok - ${what} ${detail}`); }
};
setTimeout(() => { console.log("not ok - timed out"); console.log(`${passed} passed, ${failed + 1} failed`); process.exit(1); }, 30000).unref();

let redirected, verifier;
const provider = {
  get redirectUrl() { return "http://localhost:8000/callback"; },
  get clientMetadata() { return { client_name: "sdk-login-test", redirect_uris: ["http://localhost:8000/callback"], grant_types: ["authorization_code", "refresh_token"], response_types: ["code"], token_endpoint_auth_method: "none" }; },
  clientInformation() { return { client_id: clientID }; },
  tokens() { return undefined; },
  saveTokens() {},
  redirectToAuthorization(url) { redirected = url; },
  saveCodeVerifier(v) { verifier = v; },
  codeVerifier() { return verifier; },
  state() { return "state-123"; },
};

const transport = new StreamableHTTPClientTransport(new URL(mcpURL), { authProvider: provider });
const client = new Client({ name: "sdk-login-test", version: "1.0.0" });
try {
  await client.connect(transport);
  check(false, "connect without a token is refused");
} catch (e) {
  check(e instanceof UnauthorizedError, "connect without a token ends in UnauthorizedError (login needed)", String(e));
}
check(redirected !== undefined, "the SDK sent the user to an authorization endpoint");
if (redirected) {
  const u = new URL(redirected);
  check(u.origin + u.pathname === authorizeURL, "it is Cognito's authorize endpoint", u.origin + u.pathname);
  const p = u.searchParams;
  check(p.get("response_type") === "code", "authorization code flow");
  check(p.get("client_id") === clientID, "the pre-registered client id");
  check(p.get("code_challenge_method") === "S256" && (p.get("code_challenge") || "").length >= 43, "PKCE S256");
  check(p.get("redirect_uri") === "http://localhost:8000/callback", "the loopback redirect URI");
  check(p.get("state") === "state-123", "state");
  check(p.get("resource") === mcpURL, "RFC 8707 resource = the MCP endpoint", p.get("resource"));
  check(typeof verifier === "string" && verifier.length >= 43, "a code verifier was kept");
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
