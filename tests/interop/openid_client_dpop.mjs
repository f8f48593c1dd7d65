// Get a DPoP-bound access token from tollgate with openid-client 6 and call
// an API with it: the token is bound to a key pair made here, and every
// request carries a fresh proof signed by that key (RFC 9449).
//
//   npm install openid-client
//   node openid_client_dpop.mjs [ISSUER] [CLIENT_ID] [CLIENT_SECRET] [SCOPE] [API_URL]
//
// Defaults: the quickstart's server, client and sample API
// (http://localhost:5001, client, secret, api1,
// http://localhost:6001/identity).
import * as client from 'openid-client';

const [
  issuer = 'http://localhost:5001',
  clientId = 'client',
  clientSecret = 'secret',
  scope = 'api1',
  api = 'http://localhost:6001/identity',
] = process.argv.slice(2);

// allowInsecureRequests: the quickstart is plain http on loopback, which
// openid-client refuses otherwise. Leave it out for an https issuer.
const config = await client.discovery(new URL(issuer), clientId, undefined,
  client.ClientSecretBasic(clientSecret), { execute: [client.allowInsecureRequests] });

// One key pair for the token's lifetime; the handle signs the proofs.
const keyPair = await client.randomDPoPKeyPair('ES256');
const DPoP = client.getDPoPHandle(config, keyPair);

const tokens = await client.clientCredentialsGrant(config, { scope }, { DPoP });
console.log(tokens.token_type, tokens.scope, tokens.expires_in); // dpop api1 3600

// Authorization: DPoP <token>, with a proof of this request (htm, htu, ath).
// (An empty API_URL skips the call.)
if (api) {
  const response = await client.fetchProtectedResource(config, tokens.access_token,
    new URL(api), 'GET', undefined, undefined, { DPoP });
  console.log(response.status, JSON.stringify(await response.json()));
}
