// A real OpenID provider on loopback for tollgate's upstream sign-in
// tests (tests/it/upstream.rs): node-oidc-provider with its development
// sign-in and consent pages (any login name, any password).
//
//   node provider.mjs PORT CALLBACK_URL KID
//
// One static client, `tollgate` (secret `upstream-secret`, client_secret_basic),
// whose one redirect URI is CALLBACK_URL. Its signing key is a new P-256
// key named KID at each start: restarting with another KID rotates it.
// The accounts: alice (corp.example, verified, groups staff and admins),
// bob (other.example, verified), carol (corp.example, verified, group
// contractors), dave (corp.example, NOT verified). Prints
// `provider listening on http://127.0.0.1:PORT` on stderr when ready.
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const [port, callback, kid] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

const accounts = {
  alice: { name: 'Alice Smith', email: 'alice@corp.example', email_verified: true, groups: ['staff', 'admins'] },
  bob: { name: 'Bob Jones', email: 'bob@other.example', email_verified: true, groups: ['staff'] },
  carol: { name: 'Carol White', email: 'carol@corp.example', email_verified: true, groups: ['contractors'] },
  dave: { name: 'Dave Black', email: 'dave@corp.example', email_verified: false, groups: ['staff'] },
};

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'tollgate',
    client_secret: 'upstream-secret',
    redirect_uris: [callback],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'ES256',
  }],
  jwks: { keys: [jwk] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  scopes: ['openid', 'email', 'profile', 'groups'],
  // The scopes' claims in the id token, as most providers put them.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return { accountId: id, claims: () => ({ sub: id, ...account }) };
  },
});
provider.proxy = false;

provider.listen(Number(port), '127.0.0.1', () => {
  console.error(`provider listening on ${issuer}`);
});
