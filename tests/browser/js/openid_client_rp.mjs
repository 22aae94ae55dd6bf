// A relying party built on node openid-client (npm), as an app developer would write one: the authorization code
// flow with PKCE, state and nonce, ID token validation, UserInfo, a refresh, introspection and revocation of its
// own tokens, and RP-initiated logout. Started by tests/browser/test_openid_client_rp.py; not part of Passgate.
//   ISSUER, CLIENT_ID, CLIENT_SECRET, PORT in the environment; GET /login starts, /callback answers JSON.
import http from "node:http";
import * as client from "openid-client";

const { ISSUER, CLIENT_ID, CLIENT_SECRET, PORT } = process.env;
const base = `http://127.0.0.1:${PORT}`;
const redirectUri = `${base}/callback`;
const pending = new Map(); // state -> { verifier, nonce }
let config;

async function configuration() {
  config ??= await client.discovery(new URL(ISSUER), CLIENT_ID, CLIENT_SECRET, undefined,
                                    { execute: [client.allowInsecureRequests] }); // the test's issuer is http
  return config;
}

async function login(res) {
  const cfg = await configuration();
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  pending.set(state, { verifier, nonce });
  const url = client.buildAuthorizationUrl(cfg, {
    redirect_uri: redirectUri, scope: "openid profile email offline_access", state, nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256",
  });
  res.writeHead(302, { Location: url.href }).end();
}

async function callback(req, res) {
  const cfg = await configuration();
  const current = new URL(req.url, base);
  const state = current.searchParams.get("state");
  const flow = pending.get(state);
  pending.delete(state);
  const tokens = await client.authorizationCodeGrant(cfg, current, {
    pkceCodeVerifier: flow.verifier, expectedState: state, expectedNonce: flow.nonce, idTokenExpected: true,
  });
  const claims = tokens.claims();
  const userinfo = await client.fetchUserInfo(cfg, tokens.access_token, claims.sub);
  const refreshed = await client.refreshTokenGrant(cfg, tokens.refresh_token);
  const introspected = await client.tokenIntrospection(cfg, refreshed.access_token);
  await client.tokenRevocation(cfg, refreshed.access_token);
  const afterRevocation = await client.tokenIntrospection(cfg, refreshed.access_token);
  const logout = client.buildEndSessionUrl(cfg, { id_token_hint: refreshed.id_token ?? tokens.id_token,
                                                  post_logout_redirect_uri: `${base}/bye` });
  res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({
    sub: claims.sub, name: claims.name, acr: claims.acr, amr: claims.amr, sid: claims.sid,
    userinfo_sub: userinfo.sub, userinfo_email: userinfo.email ?? null,
    refreshed_id_token_sub: refreshed.claims()?.sub ?? null, refreshed_has_new_refresh: !!refreshed.refresh_token,
    introspection_active: introspected.active, introspection_client: introspected.client_id,
    active_after_revocation: afterRevocation.active, logout_url: logout.href,
  }));
}

http.createServer((req, res) => {
  const path = new URL(req.url, base).pathname;
  const handle = path === "/login" ? login(res) : path === "/callback" ? callback(req, res)
    : Promise.resolve(res.writeHead(path === "/bye" ? 200 : 404, { "Content-Type": "text/plain" })
      .end(path === "/bye" ? "signed out" : "not found"));
  handle.catch((err) => {
    res.writeHead(500, { "Content-Type": "text/plain" }).end(`openid-client: ${err.name}: ${err.message}` +
      (err.cause ? ` (${JSON.stringify(err.cause)})` : ""));
  });
}).listen(Number(PORT), "127.0.0.1", () => console.log(`listening ${PORT}`));
