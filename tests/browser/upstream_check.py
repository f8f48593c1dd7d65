"""Sign-in through an upstream provider in a real browser: headless
Chromium, driven by Selenium, follows tollgate's "Sign in with ..." link to
node-oidc-provider's development pages (tests/upstream/provider.mjs),
signs in there and comes back through tollgate to the client.

  python upstream_check.py BASE
  (BASE e.g. http://127.0.0.1:5001; the file must register the public
  client `browser-app` with the redirect URI http://127.0.0.1/cb, and the
  provider `corp` admitting corp.example; no [[users]])

Checks, each reported on its own line, then `upstream: N passed, N failed`:

  admitted   the sign-in page offers only the provider (no password form
             without [[users]]); alice of corp.example signs in at the
             provider and lands on the redirect URI with `code`, `state`
             and `iss`.
  refused    bob of other.example gets tollgate's page naming the rule
             (allowed_email_domains), not his domain, and no redirect.
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

    def check(name, fn):
        browser = driver()
        try:
            fn(browser)
            results.append((name, None))
        except Exception as e:  # noqa: BLE001
            results.append((name, f"{e}\n{traceback.format_exc()}\nat {browser.current_url}"))
        finally:
            browser.quit()

    def at_provider(browser, login):
        """From tollgate's sign-in page through the provider's pages."""
        browser.get(f"{BASE}/connect/authorize?{query}")
        WebDriverWait(browser, 10).until(
            lambda d: d.find_elements(By.PARTIAL_LINK_TEXT, "Sign in with")
        )
        assert not browser.find_elements(By.ID, "password"), "a password form without users"
        browser.find_element(By.PARTIAL_LINK_TEXT, "Sign in with").click()
        WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.NAME, "login"))
        browser.find_element(By.NAME, "login").send_keys(login)
        field = browser.find_element(By.NAME, "password")
        field.send_keys("any")
        field.send_keys(Keys.ENTER)
        # The provider's consent page, then back through tollgate.
        WebDriverWait(browser, 10).until(
            lambda d: d.current_url.startswith(BASE)
            or d.current_url.startswith(redirect)
            or d.find_elements(By.CSS_SELECTOR, "input[value=consent]")
        )
        if browser.find_elements(By.CSS_SELECTOR, "input[value=consent]"):
            browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        WebDriverWait(browser, 10).until(
            lambda d: d.current_url.startswith(BASE) or d.current_url.startswith(redirect)
        )

    def admitted(browser):
        at_provider(browser, "alice")
        WebDriverWait(browser, 10).until(lambda d: d.current_url.startswith(redirect))
        got = parse_qs(urlsplit(browser.current_url).query)
        assert got.get("code"), f"no code: {browser.current_url}"
        assert got.get("state") == ["st-1"], got
        assert got.get("iss") == [BASE], got

    def refused(browser):
        at_provider(browser, "bob")
        assert browser.current_url.startswith(BASE), browser.current_url
        text = browser.find_element(By.TAG_NAME, "body").text
        assert "allowed_email_domains" in text, text
        assert "other.example" not in text, text

    check("admitted", admitted)
    check("refused", refused)
    callback.shutdown()
    failed = 0
    for name, error in results:
        if error:
            failed += 1
            print(f"FAIL {name}: {error}")
        else:
            print(f"ok   {name}")
    print(f"upstream: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    started = time.monotonic()
    code = main()
    print(f"({time.monotonic() - started:.1f} s)")
    sys.exit(code)
