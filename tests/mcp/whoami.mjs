// The MCP TypeScript SDK's own simpleClientCredentials example, calling a
// tool: the client finds the server's RFC 9728 metadata, tollgate's
// metadata, gets a token for the server (client_credentials, RFC 8707
// resource) and calls `whoami`, which answers with the token's client_id.
//
//   MCP_CLIENT_ID=mcp-agent MCP_CLIENT_SECRET=... \
//   MCP_EXPECTED_ISSUER=http://localhost:5001 \
//   MCP_SERVER_URL=http://127.0.0.1:7001/mcp node whoami.mjs
//
// With MCP_CLIENT_PRIVATE_KEY_PEM (and MCP_CLIENT_ALGORITHM, default
// RS256) instead of the secret, the client signs a private_key_jwt
// assertion.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  ClientCredentialsProvider,
  PrivateKeyJwtProvider
} from '@modelcontextprotocol/sdk/client/auth-extensions.js';

const serverUrl = process.env.MCP_SERVER_URL || 'http://127.0.0.1:7001/mcp';

function createProvider() {
  const clientId = process.env.MCP_CLIENT_ID;
  // The authorization server these credentials were registered with: the
  // SDK sends them nowhere else.
  const expectedIssuer = process.env.MCP_EXPECTED_ISSUER;
  if (!clientId || !expectedIssuer) {
    throw new Error('MCP_CLIENT_ID and MCP_EXPECTED_ISSUER are required');
  }
  const privateKeyPem = process.env.MCP_CLIENT_PRIVATE_KEY_PEM;
  if (privateKeyPem) {
    return new PrivateKeyJwtProvider({
      clientId,
      privateKey: privateKeyPem,
      algorithm: process.env.MCP_CLIENT_ALGORITHM || 'RS256',
      expectedIssuer
    });
  }
  const clientSecret = process.env.MCP_CLIENT_SECRET;
  if (!clientSecret) {
    throw new Error('MCP_CLIENT_SECRET or MCP_CLIENT_PRIVATE_KEY_PEM is required');
  }
  return new ClientCredentialsProvider({ clientId, clientSecret, expectedIssuer });
}

const client = new Client({ name: 'tollgate-whoami', version: '1.0.0' }, { capabilities: {} });
const transport = new StreamableHTTPClientTransport(new URL(serverUrl), {
  authProvider: createProvider()
});
try {
  await client.connect(transport);
  const result = await client.callTool({ name: 'whoami', arguments: {} });
  if (result.isError) {
    throw new Error(`whoami failed: ${JSON.stringify(result.content)}`);
  }
  console.log(`whoami: ${result.content[0].text}`);
  await transport.close();
} catch (err) {
  console.error(err);
  process.exit(1);
}
