// openid-client 6 does the whole authorization code flow against
// tollgate: discovery, PKCE S256, state and nonce, RFC 9207's `iss` in the
// response (checked because discovery says it is sent), the code redeemed
// with client_secret_basic, the id token validated by openid-client's own
// rules, userinfo (its `sub` must match the id token's), a refresh-token
// rotation, and revocation. A person signs in through tollgate's own form:
// `browse` (browse.mjs) plays the browser with fetch, keeping its cookies.
//
//   node openid_client_code_flow.mjs ISSUER CLIENT_ID CLIENT_SECRET USERNAME PASSWORD
import * as client from 'openid-client';
import { browse } from './browse.mjs';

const [issuer, clientId, clientSecret, username, password] = process.argv.slice(2);
const redirectUri = 'http://127.0.0.1:8766/callback';

const config = await client.discovery(new URL(issuer), clientId, undefined,
  client.ClientSecretBasic(clientSecret), { execute: [client.allowInsecureRequests] });

const codeVerifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const nonce = client.randomNonce();
const url = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope: 'openid profile email offline_access api1',
  code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
  code_challenge_method: 'S256',
  state,
  nonce,
});

const back = await browse(url, username, password, redirectUri);
const tokens = await client.authorizationCodeGrant(config, back, {
  pkceCodeVerifier: codeVerifier,
  expectedState: state,
  expectedNonce: nonce,
  idTokenExpected: true,
});
const claims = tokens.claims();
if (claims.sub !== username) throw new Error(`id token sub ${claims.sub}`);
if (!tokens.refresh_token) throw new Error('no refresh token');
console.log(`node: openid-client code flow ok, id token for ${claims.sub}`);

const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
if (info.sub !== username || !info.email) throw new Error(JSON.stringify(info));

const rotated = await client.refreshTokenGrant(config, tokens.refresh_token);
if (rotated.refresh_token === tokens.refresh_token) throw new Error('not rotated');
let refused = false;
try {
  await client.refreshTokenGrant(config, tokens.refresh_token);
} catch (e) {
  refused = e.error === 'invalid_grant';
}
if (!refused) throw new Error('a reused refresh token was not invalid_grant');
console.log('node: openid-client refresh rotation ok; reuse is invalid_grant');

await client.tokenRevocation(config, rotated.access_token, { token_type_hint: 'access_token' });
console.log('node: openid-client revocation ok');
