// openid-client discovers tollgate and gets a token with client_secret_basic
// (it form-urlencodes id and secret, as RFC 6749 §2.3.1 says); jose then
// validates it through the JWKS as an RFC 9068 access token.
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const [issuer, clientId, clientSecret, scope] = process.argv.slice(2);
const config = await client.discovery(new URL(issuer), clientId, undefined,
  client.ClientSecretBasic(clientSecret), { execute: [client.allowInsecureRequests] });
const tokens = await client.clientCredentialsGrant(config, { scope });
const meta = config.serverMetadata();
const jwks = createRemoteJWKSet(new URL(meta.jwks_uri));
const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, {
  issuer: meta.issuer, typ: 'at+jwt', algorithms: ['ES256'],
});
if (payload.client_id !== clientId || payload.scope !== scope) {
  throw new Error(`unexpected claims ${JSON.stringify(payload)}`);
}
console.log(`node: openid-client + jose ok (kid ${protectedHeader.kid}, client ${JSON.stringify(clientId)})`);
