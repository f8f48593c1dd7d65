// The MCP TypeScript SDK's authorization code client, unmodified, for a
// person: an OAuthClientProvider as an IDE would write one (a loopback
// redirect URI, PKCE, tokens kept in memory). The SDK finds the MCP
// server's RFC 9728 metadata, then tollgate's, and sends the person to
// tollgate's sign-in page; `browse` below plays her browser (it signs in
// and presses Allow), and the SDK finishes the flow. Then `whoami`
// (answers her `sub`), then the admin tool: a 403 insufficient_scope,
// the SDK asks again with the challenge's scope, and the call succeeds.
//
//   MCP_SERVER_URL=http://127.0.0.1:7001/mcp MCP_USERNAME=alice MCP_PASSWORD=alice \
//   MCP_CLIENT_ID=ide node person.mjs                    # a pre-registered public client
//   MCP_CLIENT_METADATA_URL=https://127.0.0.1:8443/client.json ... node person.mjs   # CIMD
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { browse } from '../interop/browse.mjs';

const serverUrl = new URL(process.env.MCP_SERVER_URL || 'http://127.0.0.1:7001/mcp');
const username = process.env.MCP_USERNAME || 'alice';
const password = process.env.MCP_PASSWORD || 'alice';
const redirectUrl = process.env.MCP_REDIRECT_URL || 'http://127.0.0.1:33418/callback';

class Provider {
  constructor() {
    this.saved = process.env.MCP_CLIENT_ID ? { client_id: process.env.MCP_CLIENT_ID } : undefined;
    this.clientMetadataUrl = process.env.MCP_CLIENT_METADATA_URL || undefined;
    this.saveTokensCount = 0;
    this.pending = undefined;
  }
  get redirectUrl() { return redirectUrl; }
  get clientMetadata() {
    return {
      client_name: 'tollgate test IDE',
      redirect_uris: [redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() { return this.saved; }
  saveClientInformation(info) { this.saved = info; }
  tokens() { return this.savedTokens; }
  saveTokens(tokens) { this.savedTokens = tokens; this.saveTokensCount += 1; }
  redirectToAuthorization(url) { this.pending = url; }
  saveCodeVerifier(v) { this.verifier = v; }
  codeVerifier() { return this.verifier; }
}

const provider = new Provider();
// One browser (its cookies) for the whole run: the second authorization
// finds her session at tollgate and asks nothing more.
const jar = new Map();

// Runs `attempt` with a fresh transport; when the SDK sends the person to
// tollgate, she signs in and the SDK finishes the flow, then again.
async function withSignIn(attempt) {
  for (let round = 0; round < 3; round++) {
    const transport = new StreamableHTTPClientTransport(serverUrl, { authProvider: provider });
    const client = new Client({ name: 'tollgate-person', version: '1.0.0' }, { capabilities: {} });
    try {
      await client.connect(transport);
      const result = await attempt(client);
      await transport.close();
      return result;
    } catch (err) {
      if (!(err instanceof UnauthorizedError) || !provider.pending) throw err;
      const url = provider.pending;
      provider.pending = undefined;
      const back = await browse(url, username, password, redirectUrl, jar);
      if (back.searchParams.get('error')) throw new Error(`authorization: ${back}`);
      await transport.finishAuth(back.searchParams.get('code'));
      await transport.close().catch(() => {});
    }
  }
  throw new Error('no success after three sign-ins');
}

function text(result) {
  if (result.isError) throw new Error(JSON.stringify(result.content));
  return result.content[0].text;
}

try {
  const who = await withSignIn(async (c) => text(await c.callTool({ name: 'whoami', arguments: {} })));
  console.log(`whoami: ${who}`);
  const firstScope = provider.savedTokens.scope;
  const stats = await withSignIn(async (c) => text(await c.callTool({ name: 'admin_stats', arguments: {} })));
  console.log(`admin_stats: ${stats}`);
  console.log(`scopes: ${firstScope} -> ${provider.savedTokens.scope}`);
  console.log(`client_id: ${provider.saved.client_id}`);
} catch (err) {
  console.error(err);
  process.exit(1);
}
