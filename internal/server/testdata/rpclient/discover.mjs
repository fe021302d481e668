// Runs strict OAuth/OpenID client libraries against a jwtgate server, as a
// relying party would: discovery by both well-known names (openid-client
// and oauth4webapi validate the document and its issuer), the userinfo
// endpoint (openid-client checks Content-Type and that sub matches), and
// the access token itself against the published JWKS (jose, with the
// issuer and RFC 9068's typ required). Prints one JSON line; any failure
// throws and exits non-zero.
//
// Usage: node discover.mjs ISSUER ACCESS_TOKEN EXPECTED_SUB
import * as client from 'openid-client';
import * as oauth from 'oauth4webapi';
import * as jose from 'jose';

const [issuer, accessToken, expectedSub] = process.argv.slice(2);
const url = new URL(issuer);
const insecure = url.protocol === 'http:';
const out = {};

for (const algorithm of ['oidc', 'oauth2']) {
  const config = await client.discovery(url, 'jwtgate-test', undefined, undefined, {
    algorithm,
    execute: insecure ? [client.allowInsecureRequests] : [],
  });
  const md = config.serverMetadata();
  const info = await client.fetchUserInfo(config, accessToken, expectedSub);
  out[algorithm] = { issuer: md.issuer, jwks_uri: md.jwks_uri, userinfo_sub: info.sub, userinfo_name: info.name };

  const res = await oauth.discoveryRequest(url, { algorithm, [oauth.allowInsecureRequests]: insecure });
  const as = await oauth.processDiscoveryResponse(url, res);
  out[algorithm].oauth4webapi_issuer = as.issuer;
}

const jwks = jose.createRemoteJWKSet(new URL(out.oidc.jwks_uri));
const { payload, protectedHeader } = await jose.jwtVerify(accessToken, jwks, { issuer, typ: 'at+jwt' });
out.jose = { sub: payload.sub, alg: protectedHeader.alg };

console.log(JSON.stringify(out));
