// A strict third-party relying party against a running jwtgate: Node's
// openid-client v6 (on oauth4webapi) and jose, as an app would use them.
//
//   1. discovery of the issuer (the document and its issuer are validated);
//   2. the authorization code flow with PKCE S256, state and nonce: the
//      user logs in over plain HTTP (POST /login, the session cookie), the
//      authorization endpoint answers with a redirect to the registered
//      redirect URI, and the code is redeemed with client_secret_basic;
//      openid-client checks state, iss (RFC 9207), the id_token's claims and
//      nonce, and, with non-repudiation checks on, its signature;
//   3. the access token validated as an RFC 9068 JWT access token by
//      oauth4webapi's validateJwtAccessToken and by jose.jwtVerify against
//      the published JWKS;
//   4. userinfo, with openid-client's sub check;
//   5. a refresh (a new access token, validated again).
//
// Secrets come on standard input, never in argv: one JSON object
//   {"issuer","client_id","client_secret","redirect_uri","name","password",
//    "audience","scope"}
// The script prints one JSON object of what it saw; any failed check
// throws and exits non-zero with the library's message.
import * as client from 'openid-client';
import * as oauth from 'oauth4webapi';
import * as jose from 'jose';

const input = JSON.parse(await new Promise((resolve, reject) => {
  let data = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (c) => { data += c; });
  process.stdin.on('end', () => resolve(data));
  process.stdin.on('error', reject);
}));

const issuer = new URL(input.issuer);
const insecure = issuer.protocol === 'http:';
const out = {};

// 1. Discovery.
const config = await client.discovery(issuer, input.client_id, undefined, client.ClientSecretBasic(input.client_secret), {
  execute: insecure ? [client.allowInsecureRequests] : [],
});
client.enableNonRepudiationChecks(config);
const md = config.serverMetadata();
out.discovery = {
  issuer: md.issuer,
  authorization_endpoint: md.authorization_endpoint,
  token_endpoint: md.token_endpoint,
  userinfo_endpoint: md.userinfo_endpoint,
  code_challenge_methods_supported: md.code_challenge_methods_supported,
  authorization_response_iss_parameter_supported: md.authorization_response_iss_parameter_supported,
};

// 2. The code flow with PKCE.
const verifier = client.randomPKCECodeVerifier();
const challenge = await client.calculatePKCECodeChallenge(verifier);
const state = client.randomState();
const nonce = client.randomNonce();
const authURL = client.buildAuthorizationUrl(config, {
  redirect_uri: input.redirect_uri,
  scope: input.scope,
  code_challenge: challenge,
  code_challenge_method: 'S256',
  state,
  nonce,
});

// The user logs in: the session cookie the login sets is what the
// authorization endpoint recognises.
const cookies = new Map();
const keep = (res) => {
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(';');
    const i = pair.indexOf('=');
    cookies.set(pair.slice(0, i), pair.slice(i + 1));
  }
};
const cookieHeader = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
const login = await fetch(new URL('/login', issuer), {
  method: 'POST',
  headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
  body: JSON.stringify({ name: input.name, password: input.password }),
});
if (login.status !== 200) {
  throw new Error(`POST /login: HTTP ${login.status} ${await login.text()}`);
}
keep(login);

// Follow the authorization endpoint's redirects on the issuer's origin
// until one leaves for the redirect URI.
let next = authURL;
let callback = null;
for (let hop = 0; hop < 5 && !callback; hop++) {
  const res = await fetch(next, { redirect: 'manual', headers: { Cookie: cookieHeader(), Accept: 'text/html' } });
  keep(res);
  const location = res.headers.get('location');
  if (res.status < 300 || res.status > 399 || !location) {
    throw new Error(`GET ${next.pathname}: HTTP ${res.status}, no redirect (a login or consent page?): ${(await res.text()).slice(0, 300)}`);
  }
  const to = new URL(location, next);
  if (to.href.startsWith(input.redirect_uri)) {
    callback = to;
  } else if (to.origin === issuer.origin) {
    next = to;
  } else {
    throw new Error(`the authorization endpoint redirected to ${to.origin}, neither the issuer nor the redirect URI`);
  }
}
if (!callback) {
  throw new Error('no redirect to the redirect URI after 5 hops');
}
out.callback = { has_code: callback.searchParams.has('code'), state_matches: callback.searchParams.get('state') === state, iss: callback.searchParams.get('iss') };

const tokens = await client.authorizationCodeGrant(config, callback, {
  pkceCodeVerifier: verifier,
  expectedState: state,
  expectedNonce: nonce,
  idTokenExpected: true,
});
const idClaims = tokens.claims();
out.id_token = {
  header: jose.decodeProtectedHeader(tokens.id_token),
  claims: idClaims,
};
out.token_type = tokens.token_type;
out.scope = tokens.scope;
out.has_refresh_token = typeof tokens.refresh_token === 'string';

// 3. The access token as a resource server sees it.
const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { [oauth.allowInsecureRequests]: insecure }));
async function checkAccessToken(accessToken) {
  const req = new Request('https://api.example.test/resource', { headers: { Authorization: `Bearer ${accessToken}` } });
  const claims = await oauth.validateJwtAccessToken(as, req, input.audience, { [oauth.allowInsecureRequests]: insecure });
  const jwks = jose.createRemoteJWKSet(new URL(as.jwks_uri));
  const verified = await jose.jwtVerify(accessToken, jwks, { issuer: as.issuer, audience: input.audience, typ: 'at+jwt' });
  return { claims, header: verified.protectedHeader };
}
out.access_token = await checkAccessToken(tokens.access_token);

// 4. Userinfo (openid-client checks that its sub is the id_token's).
out.userinfo = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);

// 5. A refresh.
if (out.has_refresh_token) {
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  out.refreshed = {
    new_access_token: refreshed.access_token !== tokens.access_token,
    rotated_refresh_token: typeof refreshed.refresh_token === 'string' && refreshed.refresh_token !== tokens.refresh_token,
    access_token: await checkAccessToken(refreshed.access_token),
  };
}

process.stdout.write(JSON.stringify(out) + '\n');
