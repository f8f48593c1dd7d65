// A person at a browser, without the browser: follows tollgate's
// redirects by hand (keeping cookies in `jar`), fills in the sign-in form,
// presses Allow on a consent page, and returns the URL tollgate finally
// sends the browser to at the client's redirect URI (`prefix`). The
// relying-party libraries under test do everything else. Shared by the
// interop scripts and the MCP SDK's person flow (tests/mcp/person.mjs).

export async function browse(start, user, pass, prefix, jar = new Map()) {
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
