// openid-client without a shared secret and with a bound token, unmodified:
// 1. PrivateKeyJwt client authentication (RFC 7523 §2.2; the assertion's aud
//    is the issuer, openid-client's default, or the token endpoint through
//    its modifyAssertion hook) gets a token that jose validates as an
//    RFC 9068 access token, for each client key given;
// 2. its DPoP support (RFC 9449: randomDPoPKeyPair, getDPoPHandle) gets a
//    token_type DPoP token whose cnf.jkt is the thumbprint of the DPoP key,
//    and fetchProtectedResource calls the sample API with it
//    (Authorization: DPoP + a proof with ath); the same token sent as Bearer
//    is refused.
//
//   node node_bound_check.mjs ISSUER CLIENT_ID SCOPE API_URL ALG=KEY.pem...
//
// Over http openid-client needs allowInsecureRequests (it refuses plain
// http otherwise); it changes nothing else.
import { readFile } from 'node:fs/promises';
import * as client from 'openid-client';
import { calculateJwkThumbprint, createRemoteJWKSet, exportJWK, importPKCS8, jwtVerify } from 'jose';

const [issuer, clientId, scope, api, ...keys] = process.argv.slice(2);
if (keys.length === 0) throw new Error('no ALG=KEY.pem given');

const discover = (auth) => client.discovery(new URL(issuer), clientId, undefined, auth,
  { execute: [client.allowInsecureRequests] });

let jwks;
async function verify(config, accessToken) {
  const meta = config.serverMetadata();
  jwks ??= createRemoteJWKSet(new URL(meta.jwks_uri));
  const { payload } = await jwtVerify(accessToken, jwks, {
    issuer: meta.issuer, typ: 'at+jwt', algorithms: ['ES256'],
  });
  if (payload.client_id !== clientId || payload.sub !== clientId || payload.scope !== scope) {
    throw new Error(`unexpected claims ${JSON.stringify(payload)}`);
  }
  return payload;
}

let config;
for (const spec of keys) {
  const [alg, path] = spec.split('=');
  const key = await importPKCS8(await readFile(path, 'utf8'), alg);
  for (const aud of ['issuer', 'token endpoint']) {
    const options = aud === 'issuer' ? undefined : {
      [client.modifyAssertion]: (_header, payload) => {
        payload.aud = config.serverMetadata().token_endpoint;
      },
    };
    config = await discover(client.PrivateKeyJwt(key, options));
    if (!config.serverMetadata().token_endpoint_auth_methods_supported.includes('private_key_jwt')) {
      throw new Error('discovery does not list private_key_jwt');
    }
    const tokens = await client.clientCredentialsGrant(config, { scope });
    if (tokens.token_type !== 'bearer') throw new Error(`token_type ${tokens.token_type}`);
    await verify(config, tokens.access_token);
    console.log(`node: openid-client PrivateKeyJwt (${alg}, aud = ${aud}) + jose ok`);
  }
}

// DPoP, with the last client configuration (private_key_jwt).
const keyPair = await client.randomDPoPKeyPair('ES256');
const DPoP = client.getDPoPHandle(config, keyPair);
const tokens = await client.clientCredentialsGrant(config, { scope }, { DPoP });
// openid-client lowercases token_type; the server sent "DPoP".
if (tokens.token_type !== 'dpop') throw new Error(`token_type ${tokens.token_type}, not DPoP`);
const claims = await verify(config, tokens.access_token);
const jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey));
if (claims.cnf?.jkt !== jkt) {
  throw new Error(`cnf ${JSON.stringify(claims.cnf)} is not the DPoP key's thumbprint ${jkt}`);
}
const response = await client.fetchProtectedResource(config, tokens.access_token, new URL(api), 'GET',
  undefined, undefined, { DPoP });
const seen = await response.json();
if (response.status !== 200 || !seen.some((c) => c.type === 'client_id' && c.value === clientId)) {
  throw new Error(`API answered ${response.status} ${JSON.stringify(seen)}`);
}
console.log(`node: openid-client DPoP token (cnf.jkt ${jkt}) + fetchProtectedResource on ${api} ok`);

// The same token without its proof, as a plain bearer token, must not pass.
let refused;
try {
  refused = await client.fetchProtectedResource(config, tokens.access_token, new URL(api), 'GET');
} catch (e) {
  if (!(e instanceof client.WWWAuthenticateChallengeError)) throw e;
  refused = e.response;
}
if (refused.status !== 401) throw new Error(`a DPoP-bound token sent as Bearer got ${refused.status}`);
console.log('node: the DPoP-bound token sent as Bearer is refused (401)');
