"""Prepares what the load needs, through each server's real authorization flow over HTTP forms.

Run by bench/run with the venv's Python (requests). Subcommands:

  keyway-setup BASE CLIENT_SECRET_JSON EMAIL PASSWORD OUT
      Signs the demo user in and consents, as a browser does (GET the authorization URL,
      follow 303s, fill /signin, submit /consent with "Allow"), with prompt=consent and
      access_type=offline; exchanges the code at POST /token. Writes OUT (JSON): the client's
      id and secret, the redirect URI and scope, the refresh and access tokens, and the
      signed-in browser's kw_session cookie (for the flow and code-minting loads).

  keyway-signins BASE SETUP_JSON N OUT
      N pending sign-ins, each in a fresh browser: GET the authorization URL without a cookie
      (a new session and pending flow; 303 to /signin?req=...), then GET /signin for the form's
      CSRF token. Writes one line per sign-in: cookie, req, csrf (tab-separated), for
      wrk/signin.lua, which then only POSTs /signin.

  oidc-setup BASE CLIENT_ID CLIENT_SECRET REDIRECT_URI OUT
      The same against oidc-provider: GET /auth (scope "openid offline_access",
      prompt=consent), its development login form (any login), its consent form, the code
      exchanged at POST /token. Writes OUT with the refresh and access tokens.
"""

import json
import sys
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests

# Non-sensitive scopes: an unverified demo project asks for them without the unverified-app
# warning. No "openid": Keyway issues no ID token yet, and the rows compare token grants.
SCOPE = "email profile https://www.googleapis.com/auth/drive.file"


class _Forms(HTMLParser):
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


def post_form(html):
    p = _Forms()
    p.feed(html)
    forms = [f for f in p.forms if f["method"] == "post"]
    if not forms:
        raise SystemExit(f"a page with no form: {html[:500]}")
    return forms[0]


def fields(form, fill, click):
    """The pairs a browser sends: hidden/text inputs (or `fill`), checked boxes, and the
    clicked button (`click` is its value; None clicks the first unnamed submit)."""
    pairs = []
    for tag, a in form["fields"]:
        name = a.get("name")
        kind = a.get("type", "submit" if tag == "button" else "text").lower()
        if kind in ("submit", "button"):
            if name and a.get("value", "") == click:
                pairs.append((name, a.get("value", "")))
            continue
        if not name:
            continue
        if kind == "checkbox":
            if "checked" in a:
                pairs.append((name, a.get("value", "on")))
        elif name in fill:
            pairs.append((name, fill[name]))
        else:
            pairs.append((name, a.get("value", "")))
    return pairs


def walk(http, url, redirect_uri, fill, click, max_steps=16):
    """Follows the flow from `url` to the redirect URI, filling every POST form it meets;
    returns the query parameters the client's callback receives."""
    r = http.get(url, allow_redirects=False, timeout=30)
    for _ in range(max_steps):
        if r.status_code in (301, 302, 303, 307, 308):
            url = urljoin(url, r.headers["location"])
            if url.startswith(redirect_uri):
                return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
            r = http.get(url, allow_redirects=False, timeout=30)
            continue
        if r.status_code != 200:
            raise SystemExit(f"{url}: HTTP {r.status_code}: {r.text[:500]}")
        form = post_form(r.text)
        url = urljoin(url, form["action"] or url)
        r = http.post(url, data=fields(form, fill, click), allow_redirects=False, timeout=30)
    raise SystemExit(f"the flow did not reach {redirect_uri}")


def token(http, base, form):
    r = http.post(urljoin(base, "/token"), data=form, timeout=30)
    if r.status_code != 200:
        raise SystemExit(f"POST /token: HTTP {r.status_code}: {r.text[:500]}")
    return r.json()


def keyway_auth_url(base, client_id, redirect_uri, **extra):
    q = {"client_id": client_id, "redirect_uri": redirect_uri, "response_type": "code", "scope": SCOPE, "state": "bench"}
    q.update(extra)
    return urljoin(base, "/o/oauth2/v2/auth") + "?" + urlencode(q)


def keyway_setup(base, secret_json, email, password, out):
    web = json.load(open(secret_json))["web"]
    client_id, client_secret = web["client_id"], web["client_secret"]
    redirect_uri = "http://localhost:8080/oauth2callback"
    http = requests.Session()
    url = keyway_auth_url(base, client_id, redirect_uri, access_type="offline", prompt="consent")
    q = walk(http, url, redirect_uri, {"email": email, "password": password}, "allow")
    t = token(http, base, {
        "grant_type": "authorization_code", "code": q["code"], "redirect_uri": redirect_uri,
        "client_id": client_id, "client_secret": client_secret,
    })
    cookie = http.cookies.get("kw_session")
    if not (t.get("refresh_token") and cookie):
        raise SystemExit(f"no refresh token or session cookie: {t}")
    json.dump({
        "client_id": client_id, "client_secret": client_secret, "redirect_uri": redirect_uri,
        "scope": SCOPE, "refresh_token": t["refresh_token"], "access_token": t["access_token"],
        "cookie": cookie, "email": email, "password": password,
    }, open(out, "w"), indent=1)


def keyway_signins(base, setup_json, n, out):
    s = json.load(open(setup_json))
    url = keyway_auth_url(base, s["client_id"], s["redirect_uri"])
    with open(out, "w") as f:
        for _ in range(int(n)):
            http = requests.Session()
            r = http.get(url, allow_redirects=False, timeout=30)
            loc = urljoin(url, r.headers.get("location", ""))
            if r.status_code != 303 or urlsplit(loc).path != "/signin":
                raise SystemExit(f"expected a 303 to /signin, got {r.status_code} {loc}")
            page = http.get(loc, allow_redirects=False, timeout=30)
            form = dict((a.get("name"), a.get("value", "")) for _, a in post_form(page.text)["fields"] if a.get("name"))
            f.write(f"{http.cookies.get('kw_session')}\t{form['req']}\t{form['csrf']}\n")


def oidc_setup(base, client_id, client_secret, redirect_uri, out):
    http = requests.Session()
    q = {"client_id": client_id, "redirect_uri": redirect_uri, "response_type": "code",
         "scope": "openid offline_access", "prompt": "consent", "state": "bench"}
    url = urljoin(base, "/auth") + "?" + urlencode(q)
    got = walk(http, url, redirect_uri, {"login": "bench-user", "password": "any"}, None)
    t = token(http, base, {
        "grant_type": "authorization_code", "code": got["code"], "redirect_uri": redirect_uri,
        "client_id": client_id, "client_secret": client_secret,
    })
    if not t.get("refresh_token"):
        raise SystemExit(f"no refresh token: {t}")
    json.dump({
        "client_id": client_id, "client_secret": client_secret, "redirect_uri": redirect_uri,
        "refresh_token": t["refresh_token"], "access_token": t["access_token"],
    }, open(out, "w"), indent=1)


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"keyway-setup": keyway_setup, "keyway-signins": keyway_signins, "oidc-setup": oidc_setup}[cmd](*args)
