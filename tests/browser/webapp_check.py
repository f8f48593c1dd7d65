"""People in a real browser: headless Chromium, driven by Selenium, signs
alice in to the sample web app (examples/webapp) through tollgate's own
sign-in and consent pages, with JavaScript off, and checks what she sees.

  python webapp_check.py WEBAPP_URL USERNAME PASSWORD

Checks, each on its own line, then `webapp: N passed, N failed`:

  signin-page   /secure leads to tollgate's sign-in page: a title, one h1,
                a label for each field, focus on the username field, no
                JavaScript needed (it is off).
  wrong         from here on a phone-sized window (380 px: nothing wider than
                it) and the keyboard only: username, Tab, a wrong password,
                Enter shows one plain message, and the form again.
  consent       her password and Enter (the focus is on it); the consent page names the client, the
                host it sends her back to, and the scopes; Enter on Allow.
  claims        the web app shows the id token's claims: her `sub`.
  call-api      /call-api shows the sample API's answer for her token.
  home          tollgate's own page (its `/`) says she is signed in there,
                with a "Sign out" link that Tab reaches first, and the
                developers' links; nothing wider than 380 px.
  signout       /signout ends both sessions: /secure asks to sign in again,
                and tollgate's page says she is not signed in.

With $SCREENSHOTS set, the sign-in, consent and home pages are saved there
as signin.png, consent.png and home.png (the handbook's pictures:
UPDATE_DOCS=1 in run.sh). Failures leave screenshots in $ARTIFACTS.
"""

import os
import shutil
import sys
import tempfile
import traceback
from urllib.parse import urlsplit

os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager: never download

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

APP = sys.argv[1].rstrip("/")
TOLLGATE = None  # tollgate's origin, learnt from the sign-in page's URL
USERNAME, PASSWORD = sys.argv[2], sys.argv[3]
artifacts = os.environ.get("ARTIFACTS") or tempfile.mkdtemp(prefix="webapp-check-")
screenshots = os.environ.get("SCREENSHOTS")
os.makedirs(artifacts, exist_ok=True)
results = []


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
    profile = tempfile.mkdtemp(prefix="webapp-check-profile-")
    for flag in [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", "--window-size=900,800",
    ]:
        options.add_argument(flag)
    # The pages must work without JavaScript.
    options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    return webdriver.Chrome(service=Service(driver), options=options), profile


def wait(d, condition, seconds=20):
    # A page replaced while it is looked at is looked at again.
    return WebDriverWait(d, seconds, poll_frequency=0.1,
                         ignored_exceptions=[StaleElementReferenceException]).until(condition)


def save(d, name, folder):
    if folder:
        os.makedirs(folder, exist_ok=True)
        d.save_screenshot(os.path.join(folder, f"{name}.png"))


def check(name, fn, d):
    try:
        detail = fn(d) or ""
        report(name, True, detail)
        return True
    except Exception as e:  # noqa: BLE001 - every failure is reported
        save(d, f"failed-{name}", artifacts)
        report(name, False, f"{type(e).__name__}: {e}".splitlines()[0][:300])
        traceback.print_exc()
        return False


def password_field(d):
    return d.find_element(By.CSS_SELECTOR, "input[type=password]")


def signin_page(d):
    d.get(f"{APP}/secure")
    wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "input[type=password]"))
    assert d.title.strip(), "the page has no title"
    assert len(d.find_elements(By.TAG_NAME, "h1")) == 1, "one h1"
    assert d.find_element(By.TAG_NAME, "html").get_attribute("lang"), "html lang"
    for field in d.find_elements(By.CSS_SELECTOR, "input:not([type=hidden])"):
        fid = field.get_attribute("id")
        assert fid and d.find_elements(By.CSS_SELECTOR, f"label[for='{fid}']"), \
            f"no label for {field.get_attribute('name')}"
    active = d.switch_to.active_element
    assert active.get_attribute("type") != "password", "focus starts on the username"
    save(d, "signin", screenshots)
    # tollgate's own origin, for its home page later.
    parts = urlsplit(d.current_url)
    global TOLLGATE
    TOLLGATE = f"{parts.scheme}://{parts.netloc}"
    return d.title


def fits(d):
    """Nothing of the page is wider than a phone's window."""
    width = d.find_element(By.TAG_NAME, "body").rect["width"]
    for element in d.find_elements(By.CSS_SELECTOR, "main, form, input, button"):
        right = element.rect["x"] + element.rect["width"]
        assert right <= width + 1, f"{element.tag_name} ends at {right}px of {width}px"


def wrong_password(d):
    # From here on: a phone-sized window and the keyboard only (the focus
    # starts on the username; Tab moves to the password; Enter submits).
    d.set_window_size(380, 800)
    fits(d)
    ActionChains(d).send_keys(USERNAME, Keys.TAB, "not-" + PASSWORD, Keys.ENTER).perform()
    # The alert region is always there (empty until there is something to say).
    alert = wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "[role=alert] p"))
    message = alert[0].text.strip()
    assert message, "an empty alert"
    assert PASSWORD not in d.page_source.replace(USERNAME, ""), "the password echoed"
    return message


def sign_in_and_consent(d):
    # Her username is kept and the focus is on the password: type, Enter.
    assert d.find_element(By.NAME, "username").get_attribute("value") == USERNAME
    assert d.switch_to.active_element.get_attribute("type") == "password", "focus on the password"
    ActionChains(d).send_keys(PASSWORD, Keys.ENTER).perform()
    buttons = wait(d, lambda d: [b for b in d.find_elements(By.CSS_SELECTOR, "button, input[type=submit]")
                                 if "allow" in (b.text + (b.get_attribute("value") or "")).lower()])
    text = d.find_element(By.TAG_NAME, "main").text if d.find_elements(By.TAG_NAME, "main") else d.page_source
    assert "localhost" in text, "the consent page shows the client's host"
    fits(d)
    assert "allow" in d.switch_to.active_element.text.lower(), "focus on Allow"
    d.set_window_size(900, 800)
    save(d, "consent", screenshots)
    ActionChains(d).send_keys(Keys.ENTER).perform()
    return "allowed, by the keyboard"


def claims(d):
    wait(d, lambda d: d.current_url.startswith(f"{APP}/secure") and USERNAME in d.page_source)
    assert "email" in d.page_source, "the profile claims"
    return d.current_url


def call_api(d):
    d.get(f"{APP}/call-api")
    wait(d, lambda d: "answered 200" in d.page_source)
    assert USERNAME in d.page_source, "the API saw her token"
    return "200"


def home(d):
    # tollgate's own page, opened by hand: who is signed in there, and the
    # way out; links for developers. Keyboard: Tab reaches "Sign out".
    d.get(f"{TOLLGATE}/")
    wait(d, lambda d: d.find_elements(By.TAG_NAME, "h1"))
    main_text = d.find_element(By.TAG_NAME, "main").text
    assert f"signed in as {USERNAME}" in main_text, main_text
    assert len(d.find_elements(By.TAG_NAME, "h1")) == 1, "one h1"
    links = {a.text: a.get_attribute("href") for a in d.find_elements(By.TAG_NAME, "a")}
    for label in ["Sign out", "Discovery document", "API reference"]:
        assert label in links, f"no link {label!r}: {links}"
    d.set_window_size(380, 800)
    fits(d)
    d.get(f"{TOLLGATE}/")
    wait(d, lambda d: d.find_elements(By.TAG_NAME, "h1"))
    ActionChains(d).send_keys(Keys.TAB).perform()
    assert d.switch_to.active_element.text == "Sign out", "Tab reaches Sign out first"
    d.set_window_size(900, 800)
    save(d, "home", screenshots)
    return links["Sign out"]


def signout(d):
    d.get(f"{APP}/signout")
    wait(d, lambda d: d.current_url.rstrip("/") == APP or "signed out" in d.page_source.lower())
    d.get(f"{APP}/secure")
    wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "input[type=password]"))
    d.get(f"{TOLLGATE}/")
    wait(d, lambda d: "not signed in" in d.find_element(By.TAG_NAME, "main").text)
    return "signed out at both"


def main():
    d, profile = browser()
    try:
        steps = [("signin-page", signin_page), ("wrong", wrong_password),
                 ("consent", sign_in_and_consent), ("claims", claims),
                 ("call-api", call_api), ("home", home), ("signout", signout)]
        for name, fn in steps:
            if not check(name, fn, d):
                break
    finally:
        d.quit()
        shutil.rmtree(profile, ignore_errors=True)
    passed = sum(1 for r in results if r[1])
    failed = len(results) - passed
    print(f"webapp: {passed} passed, {failed} failed")
    sys.exit(0 if failed == 0 and passed == 7 else 1)


main()
