"""Sign-in in a real browser: headless Chromium, driven by Selenium, goes
through tollgate's authorization endpoint as a person does and lands on
the client's redirect URI with a code.

  python signin_check.py BASE [USERNAME PASSWORD]
  (BASE e.g. http://127.0.0.1:5001; the file must register the client
  `browser-app`, public, with the redirect URI http://127.0.0.1/cb, and
  the user; the defaults are alice / alice)

Checks, each reported on its own line, then `signin: N passed, N failed`:

  page       the sign-in page renders under its CSP (no console error), the
             username field has the focus, and the page cannot be framed
             (X-Frame-Options is enforced: an iframe of it stays empty).
  sign-in    typing the username and password and pressing Enter leads to
             the redirect URI (a loopback port of this script's, RFC 8252)
             with `code`, `state` and `iss`: the page's CSP `form-action`
             lets the redirect that follows the form's POST through, as
             Chromium applies it to redirects.

Chromium and chromedriver come from PATH or $CHROMIUM / $CHROMEDRIVER, as
for docs_check.py.
"""

import http.server
import os
import shutil
import sys
import threading
import time
import traceback
from urllib.parse import parse_qs, urlencode, urlsplit

os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager: never download

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

BASE = sys.argv[1].rstrip("/")
USERNAME = sys.argv[2] if len(sys.argv) > 2 else "alice"
PASSWORD = sys.argv[3] if len(sys.argv) > 3 else "alice"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


class Callback(http.server.BaseHTTPRequestHandler):
    """The client's redirect URI: any GET gets a short page."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<title>callback</title>back at the client")

    def log_message(self, *args):
        pass


def driver():
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM") or shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver"))
    return webdriver.Chrome(service=service, options=options)


def main():
    callback = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Callback)
    threading.Thread(target=callback.serve_forever, daemon=True).start()
    redirect = f"http://127.0.0.1:{callback.server_address[1]}/cb"
    query = urlencode(
        {
            "response_type": "code",
            "client_id": "browser-app",
            "redirect_uri": redirect,
            "scope": "openid",
            "state": "st-1",
            "code_challenge": CHALLENGE,
            "code_challenge_method": "S256",
        }
    )
    results = []
    browser = driver()
    try:
        def check(name, fn):
            try:
                fn()
                results.append((name, None))
            except Exception as e:  # noqa: BLE001
                results.append((name, f"{e}\n{traceback.format_exc()}"))

        def page():
            browser.get(f"{BASE}/connect/authorize?{query}")
            WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.ID, "username"))
            focused = browser.execute_script("return document.activeElement.id")
            assert focused == "username", f"focus on {focused!r}"
            errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
            assert not errors, f"console errors: {errors}"
            framed = browser.execute_script(
                """
                const f = document.createElement('iframe');
                f.src = arguments[0];
                document.body.appendChild(f);
                return new Promise(r => setTimeout(() => {
                    let shown = true;
                    try { shown = !!f.contentDocument && f.contentDocument.body
                          && f.contentDocument.body.innerText.includes('Password'); }
                    catch (e) { shown = false; }
                    r(shown);
                }, 1500));
                """,
                browser.current_url,
            )
            assert not framed, "the sign-in page rendered in a frame"

        def sign_in():
            browser.get(f"{BASE}/connect/authorize?{query}")
            WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.ID, "username"))
            browser.find_element(By.ID, "username").send_keys(USERNAME)
            field = browser.find_element(By.ID, "password")
            field.send_keys(PASSWORD)
            field.send_keys(Keys.ENTER)
            WebDriverWait(browser, 10).until(lambda d: d.current_url.startswith(redirect))
            got = parse_qs(urlsplit(browser.current_url).query)
            assert got.get("code"), f"no code: {browser.current_url}"
            assert got.get("state") == ["st-1"], got
            assert got.get("iss") == [BASE], got

        check("page", page)
        check("sign-in", sign_in)
    finally:
        browser.quit()
        callback.shutdown()
    failed = 0
    for name, error in results:
        if error:
            failed += 1
            print(f"FAIL {name}: {error}")
        else:
            print(f"ok   {name}")
    print(f"signin: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    started = time.monotonic()
    code = main()
    print(f"({time.monotonic() - started:.1f} s)")
    sys.exit(code)
