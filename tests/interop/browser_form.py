"""A person at a browser, without the browser: follows tollgate's
authorization redirects with a cookie-keeping session, fills in the
sign-in form it is shown (every field the form carries, plus the username
and password), presses Allow on a consent page if one comes, and returns
the URL tollgate finally sends the browser to (the client's redirect URI,
with the code). The relying-party libraries under test do everything
else."""
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action", ""),
                               "method": attrs.get("method", "get").lower(),
                               "fields": {}, "buttons": []})
        elif self.forms and tag == "input" and attrs.get("name"):
            if attrs.get("type") in ("submit",):
                self.forms[-1]["buttons"].append((attrs["name"], attrs.get("value", "")))
            else:
                self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""
        elif self.forms and tag == "button" and attrs.get("name"):
            self.forms[-1]["buttons"].append((attrs["name"], attrs.get("value", "")))


def sign_in(url, username, password, redirect_prefix, browser=None, allow=True):
    """Returns the final redirect (a URL starting with redirect_prefix)."""
    browser = browser or requests.Session()
    response = browser.get(url, allow_redirects=False, timeout=10)
    for _ in range(10):
        while response.status_code in (301, 302, 303, 307):
            location = urljoin(response.url, response.headers["Location"])
            if location.startswith(redirect_prefix):
                return location
            response = browser.get(location, allow_redirects=False, timeout=10)
        assert response.status_code == 200, (response.status_code, response.text[:500])
        parser = _Forms()
        parser.feed(response.text)
        assert parser.forms, response.text[:500]
        form = parser.forms[0]
        data = dict(form["fields"])
        if "password" in data:
            data["username"] = username
            data["password"] = password
        else:  # consent: the Allow (or Deny) button
            wanted = "allow" if allow else "deny"
            name, value = next((n, v) for n, v in form["buttons"] if wanted in v.lower())
            data[name] = value
        # The answer to a form is the next page (consent) or a redirect.
        action = urljoin(response.url, form["action"])
        response = browser.post(action, data=data, allow_redirects=False, timeout=10)
    raise AssertionError("no redirect to the client after 10 pages")
