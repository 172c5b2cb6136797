"""Drives Keyway's sign-in and consent pages the way a browser does, over plain HTTP forms.

The pages use no scripts: every step is a 303 redirect or an HTML form. `Browser.authorize`
starts at an authorization URL that a client library built, follows redirects, fills the
sign-in form, submits the consent form (clicking "Allow", optionally unticking scope
checkboxes) and returns the URL the browser was finally sent to: the client's redirect URI
with `code`, `scope`, `state` and `iss`, exactly what the library's callback would receive.
"""

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import requests


class _Forms(HTMLParser):
    """Collects the forms of a page: action, method and the inputs/buttons in each."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "method": a.get("method", "get").lower(), "fields": []})
        elif tag in ("input", "button") and self.forms:
            self.forms[-1]["fields"].append((tag, a))

    handle_startendtag = handle_starttag


def parse_forms(html):
    p = _Forms()
    p.feed(html)
    return p.forms


def submit_fields(form, clicked, fill=None, uncheck=()):
    """The (name, value) pairs a browser sends when `clicked` (a button's value) is pressed:
    hidden and text inputs, ticked checkboxes (unless listed in `uncheck`), the clicked button."""
    fill = fill or {}
    pairs = []
    for tag, a in form["fields"]:
        name = a.get("name")
        if not name:
            continue
        kind = a.get("type", "submit" if tag == "button" else "text").lower()
        if kind in ("submit", "button"):
            if a.get("value", "") == clicked:
                pairs.append((name, a.get("value", "")))
        elif kind == "checkbox":
            if "checked" in a and a.get("value") not in uncheck:
                pairs.append((name, a.get("value", "on")))
        elif name in fill:
            pairs.append((name, fill[name]))
        else:
            pairs.append((name, a.get("value", "")))
    return pairs


class Browser:
    """A cookie-keeping HTTP client that trusts Keyway's CA and never follows redirects by itself."""

    def __init__(self, ca, email, password):
        self.http = requests.Session()
        self.http.verify = ca
        self.email = email
        self.password = password
        self.consent_pages = []  # the consent forms seen, for assertions

    def _get(self, url):
        return self.http.get(url, allow_redirects=False, verify=self.http.verify, timeout=30)

    def _post(self, url, data):
        return self.http.post(url, data=data, allow_redirects=False, verify=self.http.verify, timeout=30)

    def authorize(self, auth_url, redirect_uri, uncheck=(), max_steps=12):
        """Goes from `auth_url` to the redirect URI; returns the full URL the browser lands on."""
        url = auth_url
        r = self._get(url)
        for _ in range(max_steps):
            if r.status_code in (301, 302, 303, 307, 308):
                url = urljoin(url, r.headers["location"])
                if url.startswith(redirect_uri):
                    return url
                r = self._get(url)
                continue
            if r.status_code != 200:
                raise AssertionError(f"{url}: HTTP {r.status_code}: {r.text[:2000]}")
            path = urlsplit(url).path
            forms = [f for f in parse_forms(r.text) if f["method"] == "post"]
            if not forms:
                raise AssertionError(f"{url}: a page with no form: {r.text[:2000]}")
            form = forms[0]
            action = urljoin(url, form["action"] or url)
            if path == "/signin":
                data = submit_fields(form, None, fill={"email": self.email, "password": self.password})
            elif path == "/consent":
                self.consent_pages.append(form)
                data = submit_fields(form, "allow", uncheck=uncheck)
            else:
                raise AssertionError(f"{url}: unexpected page in the flow: {r.text[:2000]}")
            r = self._post(action, data)
        raise AssertionError(f"no redirect to {redirect_uri} after {max_steps} steps (at {url})")


def checkbox_scopes(form):
    """The scopes the consent form offers as checkboxes (the optional ones)."""
    return [a.get("value") for tag, a in form["fields"] if a.get("type") == "checkbox" and a.get("name") == "scope"]
