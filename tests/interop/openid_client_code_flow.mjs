// openid-client 6 does the whole authorization code flow against
// tollgate: discovery, PKCE S256, state and nonce, RFC 9207's `iss` in the
// response (checked because discovery says it is sent), the code redeemed
// with client_secret_basic, the id token validated by openid-client's own
// rules, userinfo (its `sub` must match the id token's), a refresh-token
// rotation, and revocation. A person signs in through tollgate's own form:
// `signIn` below plays the browser with fetch, keeping its cookies.
//
//   node openid_client_code_flow.mjs ISSUER CLIENT_ID CLIENT_SECRET USERNAME PASSWORD
import * as client from 'openid-client';

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

const back = await signIn(url, username, password, redirectUri);
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

// The browser: follows redirects by hand (keeping cookies), fills in the
// sign-in form, presses Allow on a consent page; returns the URL tollgate
// sends it to at the client.
async function signIn(start, user, pass, prefix) {
  const jar = new Map();
  const remember = (response) => {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair.indexOf('=');
      jar.set(pair.slice(0, at).trim(), pair.slice(at + 1));
    }
  };
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  let url = new URL(start);
  let response = await fetch(url, { redirect: 'manual', headers: { cookie: cookie() } });
  remember(response);
  for (let pages = 0; pages < 10; pages++) {
    while ([301, 302, 303, 307].includes(response.status)) {
      url = new URL(response.headers.get('location'), url);
      if (url.href.startsWith(prefix)) return url;
      response = await fetch(url, { redirect: 'manual', headers: { cookie: cookie() } });
      remember(response);
    }
    if (response.status !== 200) throw new Error(`page ${url}: ${response.status} ${(await response.text()).slice(0, 300)}`);
    const html = await response.text();
    const form = /<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
    if (!form) throw new Error(`no form at ${url}`);
    const body = new URLSearchParams();
    for (const input of form[2].matchAll(/<input[^>]*>/gi)) {
      const name = /name="([^"]*)"/.exec(input[0])?.[1];
      const type = /type="([^"]*)"/.exec(input[0])?.[1];
      if (!name || type === 'submit') continue;
      body.set(name, decode(/value="([^"]*)"/.exec(input[0])?.[1] ?? ''));
    }
    if (body.has('password')) {
      body.set('username', user);
      body.set('password', pass);
    } else {
      const allow = [...form[2].matchAll(/<button[^>]*name="([^"]*)"[^>]*value="([^"]*)"/gi)]
        .find((b) => /allow/i.test(b[2]));
      if (!allow) throw new Error('a form with neither a password nor Allow');
      body.set(allow[1], allow[2]);
    }
    // The answer to a form is the next page (consent) or a redirect.
    url = new URL(decode(form[1]), url);
    response = await fetch(url, {
      method: 'POST', redirect: 'manual', body,
      headers: { cookie: cookie(), 'content-type': 'application/x-www-form-urlencoded' },
    });
    remember(response);
  }
  throw new Error('no redirect to the client after 10 pages');
}

function decode(s) {
  return s.replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&#x27;', "'")
    .replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
}
