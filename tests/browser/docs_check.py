"""The docs page in a real browser: headless Chromium, driven by Selenium,
does what a newcomer does on BASE/docs and checks that it works.

  python docs_check.py BASE [CLIENT_ID CLIENT_SECRET]
  (BASE e.g. http://127.0.0.1:5001; the client defaults to the quickstart's)

Checks, each reported on its own line, then `docs: N passed, N failed`:

  render      Swagger UI renders the document: title, no error panel, no
              JavaScript error in the console.
  operations  it lists the token, discovery, JWKS and health operations.
  authorize   "Authorize" takes the client's id and secret as HTTP Basic
              (client_secret_basic) and the dialog closes.
  try-it-out  POST /connect/token: expand, "Try it out", "Execute" with the
              form exactly as Swagger UI pre-fills it; the response shown is
              200 with an access token.
  loopback    every request the page made (Chrome DevTools performance log:
              every Network.requestWillBeSent) went to BASE's loopback
              address; nothing left the machine.

Chromium and chromedriver are found on PATH (`chromium`, `chromedriver`,
Debian's packages) or through $CHROMIUM and $CHROMEDRIVER. Screenshots
and the page's request list go to $ARTIFACTS (default: a temporary folder)
when a check fails.
"""

import base64
import ipaddress
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from urllib.parse import urlsplit

os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager: never download

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

BASE = sys.argv[1].rstrip("/")
CLIENT_ID = sys.argv[2] if len(sys.argv) > 2 else "client"
CLIENT_SECRET = sys.argv[3] if len(sys.argv) > 3 else "secret"
DOCS = f"{BASE}/docs"
BASE_HOST = urlsplit(BASE).hostname

# The operations a newcomer looks for (more may be listed).
REQUIRED_OPERATIONS = [
    ("POST", "/connect/token"),
    ("GET", "/.well-known/openid-configuration"),
    ("GET", "/.well-known/oauth-authorization-server"),
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/healthz"),
]

# Schemes that never leave the browser.
LOCAL_SCHEMES = {"data", "blob", "about", "chrome", "devtools"}

artifacts = os.environ.get("ARTIFACTS") or tempfile.mkdtemp(prefix="docs-check-")
os.makedirs(artifacts, exist_ok=True)
results = []  # (name, ok, detail)


def report(name, ok, detail=""):
    results.append((name, ok, detail))
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)


def browser():
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    driver = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver")
    if not chromium or not driver:
        sys.exit("chromium and chromedriver are needed (Debian: apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    profile = tempfile.mkdtemp(prefix="docs-check-profile-")
    for flag in [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        # Without these Chromium phones home (component updates, sync,
        # field trials) and the closed network refuses it.
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1400,2400",
    ]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    return webdriver.Chrome(service=Service(driver), options=options), profile


class Page:
    """The page's network events and console, gathered as the test goes."""

    def __init__(self, driver):
        self.d = driver
        self.requests = []  # dicts: url, method, headers, postData, documentURL
        self.responses = {}  # requestId -> status
        self.console = []
        self._ids = {}

    def drain(self):
        for entry in self.d.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            params = message.get("params", {})
            if message["method"] == "Network.requestWillBeSent":
                request = dict(params["request"])
                request["documentURL"] = params.get("documentURL", "")
                request["requestId"] = params.get("requestId")
                self.requests.append(request)
            elif message["method"] == "Network.responseReceived":
                self.responses[params.get("requestId")] = params["response"]["status"]
            elif message["method"] == "Network.webSocketCreated":
                self.requests.append({"url": params["url"], "method": "WEBSOCKET", "documentURL": ""})
        self.console.extend(self.d.get_log("browser"))


def wait(driver, condition, seconds=20):
    return WebDriverWait(driver, seconds, poll_frequency=0.1).until(condition)


def shot(driver, name):
    path = os.path.join(artifacts, f"{name}.png")
    try:
        driver.save_screenshot(path)
    except Exception:  # noqa: BLE001 - a screenshot is a diagnostic only
        return ""
    return path


def leaves_loopback(url):
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return False
    host = parts.hostname or ""
    if host == BASE_HOST:
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True  # a name, not an address: it would be resolved


def check_render(d, page):
    wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, ".swagger-ui .info .title"))
    wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock-summary"))
    time.sleep(0.5)  # let late renders and console messages arrive
    title = d.find_element(By.CSS_SELECTOR, ".swagger-ui .info .title").text
    problems = []
    if "tollgate" not in title:
        problems.append(f"title is {title!r}")
    for panel in d.find_elements(By.CSS_SELECTOR, ".swagger-ui .errors-wrapper"):
        if panel.text.strip():
            problems.append("Swagger UI error panel: " + panel.text.strip().replace("\n", " / "))
    if d.find_elements(By.CSS_SELECTOR, ".swagger-ui .loading-container .loading"):
        problems.append("still loading")
    page.drain()
    report("render", not problems, "; ".join(problems) or f"Swagger UI, title {title.splitlines()[0]!r}")


def operations(d):
    listed = []
    for summary in d.find_elements(By.CSS_SELECTOR, ".opblock .opblock-summary"):
        method = summary.find_element(By.CSS_SELECTOR, ".opblock-summary-method").text.strip()
        path = summary.find_element(By.CSS_SELECTOR, ".opblock-summary-path").get_attribute("data-path")
        listed.append((method, path))
    return listed


def check_operations(d):
    listed = operations(d)
    missing = [f"{m} {p}" for m, p in REQUIRED_OPERATIONS if (m, p) not in listed]
    report(
        "operations",
        not missing,
        (f"missing {missing}; " if missing else "") + "listed: " + ", ".join(f"{m} {p}" for m, p in listed),
    )


def check_authorize(d):
    d.find_element(By.CSS_SELECTOR, ".scheme-container button.authorize").click()
    modal = wait(d, lambda d: d.find_element(By.CSS_SELECTOR, ".dialog-ux .modal-ux"))
    username = modal.find_element(By.CSS_SELECTOR, "input[name=username]")
    password = modal.find_element(By.CSS_SELECTOR, "input[name=password]")
    username.send_keys(CLIENT_ID)
    password.send_keys(CLIENT_SECRET)
    modal.find_element(By.CSS_SELECTOR, ".auth-btn-wrapper button.authorize").click()
    # Authorized: Swagger UI swaps the button for "Logout".
    wait(d, lambda d: any(b.text.strip() == "Logout" for b in d.find_elements(By.CSS_SELECTOR, ".modal-ux .auth-btn-wrapper button")))
    modal.find_element(By.CSS_SELECTOR, ".auth-btn-wrapper button.btn-done").click()
    wait(d, lambda d: not d.find_elements(By.CSS_SELECTOR, ".dialog-ux .modal-ux"))
    report("authorize", True, f"HTTP Basic as {CLIENT_ID!r}, dialog closed")


def token_block(d):
    for block in d.find_elements(By.CSS_SELECTOR, ".opblock"):
        summary = block.find_element(By.CSS_SELECTOR, ".opblock-summary")
        path = summary.find_element(By.CSS_SELECTOR, ".opblock-summary-path").get_attribute("data-path")
        if path == "/connect/token":
            return block
    raise AssertionError("POST /connect/token is not listed")


def prefilled(block):
    """What Swagger UI put in the request form, field by field."""
    fields = {}
    for row in block.find_elements(By.CSS_SELECTOR, ".opblock-section-request-body tr[data-property-name]"):
        name = row.get_attribute("data-property-name")
        controls = row.find_elements(By.CSS_SELECTOR, "td.parameters-col_description input:not([type=checkbox]), td.parameters-col_description select, td.parameters-col_description textarea")
        value = controls[0].get_attribute("value") if controls else None
        boxes = row.find_elements(By.CSS_SELECTOR, "input[type=checkbox]")
        send_empty = boxes[0].is_selected() if boxes else None
        fields[name] = {"value": value, "send_empty_value": send_empty}
    return fields


def check_try_it_out(d, page):
    block = token_block(d)
    block.find_element(By.CSS_SELECTOR, ".opblock-summary-control").click()
    wait(d, lambda d: block.find_elements(By.CSS_SELECTOR, "button.try-out__btn"))
    block.find_element(By.CSS_SELECTOR, "button.try-out__btn").click()
    wait(d, lambda d: block.find_elements(By.CSS_SELECTOR, "button.execute"))
    time.sleep(0.3)
    fields = prefilled(block)
    print("     pre-filled form: " + json.dumps(fields), flush=True)
    page.drain()
    before = len(page.requests)
    block.find_element(By.CSS_SELECTOR, "button.execute").click()
    status_cell = wait(
        d,
        lambda d: block.find_element(By.CSS_SELECTOR, ".live-responses-table tbody tr.response td.response-col_status"),
        30,
    )
    wait(d, lambda d: block.find_elements(By.CSS_SELECTOR, ".live-responses-table .response-col_description pre"))
    time.sleep(0.3)
    page.drain()
    status = status_cell.text.strip()
    body_text = block.find_element(By.CSS_SELECTOR, ".live-responses-table .response-col_description pre").text
    sent = [r for r in page.requests[before:] if r.get("method") == "POST" and urlsplit(r["url"]).path == "/connect/token"]
    wire = ""
    if sent:
        r = sent[-1]
        auth = {k.lower(): v for k, v in (r.get("headers") or {}).items()}.get("authorization", "")
        shown_auth = auth
        if auth.lower().startswith("basic "):
            try:
                shown_auth = "Basic " + base64.b64decode(auth[6:]).decode().split(":", 1)[0] + ":***"
            except Exception:  # noqa: BLE001
                pass
        wire = f"sent Authorization={shown_auth or '(none)'} body={r.get('postData', '')!r}"
    problems = []
    body = None
    try:
        body = json.loads(body_text)
    except ValueError:
        problems.append(f"response body is not JSON: {body_text[:200]!r}")
    if status != "200":
        shown = json.dumps(body) if body is not None else body_text.strip()
        problems.append(f"response shown is {status}: {shown[:300]}")
    elif not (isinstance(body, dict) and isinstance(body.get("access_token"), str) and body["access_token"].count(".") == 2):
        problems.append(f"no access_token in {body_text[:300]!r}")
    elif body.get("token_type") not in ("Bearer", "DPoP"):
        problems.append(f"token_type {body.get('token_type')!r}")
    if not sent:
        problems.append("no POST /connect/token seen in the performance log")
    detail = "; ".join(problems) if problems else f"200, token_type {body['token_type']}, scope {body.get('scope')!r}"
    report("try-it-out", not problems, detail + (f" ({wire})" if wire else ""))
    if problems:
        print(f"     screenshot: {shot(d, 'try-it-out')}", flush=True)


def check_loopback(page):
    page.drain()
    urls = [r["url"] for r in page.requests]
    outside = sorted({u for u in urls if leaves_loopback(u)})
    network = sorted({u.split("?")[0] for u in urls if urlsplit(u).scheme not in LOCAL_SCHEMES})
    ours = [r for r in page.requests if not r.get("documentURL", "").startswith("chrome://")]
    report(
        "loopback",
        bool(network) and not outside,
        (f"requests leaving loopback: {outside}; " if outside else "")
        + f"{len(ours)} requests by the page, to the network: {network}",
    )


def check_console(page):
    """JavaScript errors fail `render`; failed loads are listed only (the
    favicon's 404 is the browser's own request, and a refused token
    request already fails `try-it-out`)."""
    severe = [e for e in page.console if e.get("level") == "SEVERE"]
    scripts = [e["message"] for e in severe if e.get("source") in ("javascript", "console-api")]
    for e in page.console:
        if e.get("level") in ("SEVERE", "WARNING"):
            print(f"     console {e['level'].lower()} ({e.get('source')}): {e['message'][:300]}", flush=True)
    if scripts:
        report("console", False, f"{len(scripts)} script errors: {scripts[:3]}")


def main():
    d, profile = browser()
    page = Page(d)
    steps = [
        ("render", lambda: check_render(d, page)),
        ("operations", lambda: check_operations(d)),
        ("authorize", lambda: check_authorize(d)),
        ("try-it-out", lambda: check_try_it_out(d, page)),
    ]
    try:
        page.drain()  # the browser's own start page is not the docs page
        page.requests.clear()
        page.console.clear()
        d.get(DOCS)
        skip = None
        for name, step in steps:
            if skip:
                report(name, False, f"not run: {skip} failed")
                continue
            try:
                step()
            except Exception as e:  # noqa: BLE001 - every failure is reported, then the next check runs
                if not isinstance(e, (AssertionError, TimeoutException)):
                    traceback.print_exc()
                first = str(e).strip().splitlines()[0] if str(e).strip() else ""
                report(name, False, f"{type(e).__name__} {first} (screenshot: {shot(d, name)})")
                if name in ("render", "authorize"):  # the later steps need it
                    skip = name
        check_loopback(page)
        check_console(page)
        if not all(ok for _, ok, _ in results):
            with open(os.path.join(artifacts, "requests.json"), "w") as f:
                json.dump(page.requests, f, indent=1)
            print(f"     artifacts: {artifacts}", flush=True)
    finally:
        d.quit()
        shutil.rmtree(profile, ignore_errors=True)
    passed = sum(1 for _, ok, _ in results if ok)
    failed = len(results) - passed
    print(f"docs: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
