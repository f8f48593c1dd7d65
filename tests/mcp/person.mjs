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
      const back = await browse(url, username, password, redirectUrl);
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

// The browser: follows redirects by hand (keeping cookies), fills in the
// sign-in form, presses Allow on a consent page; returns the URL tollgate
// sends it to at the client's redirect URI.
async function browse(start, user, pass, prefix) {
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
