"""Google's Python client libraries (google-auth-oauthlib, google-auth) against Keyway.

The code below is what Google's "Using OAuth 2.0 for Web Server Applications" guide has a
Python app do; only the URLs differ (they come from Keyway's client_secret.json and KEYWAY_URL).
Nothing here works around Keyway: if a library call fails, Keyway is incompatible.

Environment (set by run.sh):
  KEYWAY_URL             https://localhost:PORT
  KEYWAY_CA              the CA file Keyway's self-signed certificate chains to
  KEYWAY_CLIENT_SECRETS  client_secret.json written by `keyway serve --demo`
  KEYWAY_USER            demo@example.com
  KEYWAY_PASSWORD        the demo user's password

Runs as a plain script (no test framework to install): each step prints "ok", "FAIL" or
"skip"; the steps of the main chain (exchange, refresh, tokeninfo, revoke) are skipped after
one of them fails, since each needs the one before; the last line is
"python: N passed, N failed, N skipped". Exit status 1 on any failure. The desktop-flow step
is skipped (not failed) when port 8080 is taken on this machine.
"""

import datetime
import errno
import http.client
import json
import os
import socket
import struct
import sys
import threading
import time
import traceback
import webbrowser
from urllib.parse import parse_qs, urlsplit

KEYWAY_URL = os.environ["KEYWAY_URL"].rstrip("/")
KEYWAY_CA = os.environ["KEYWAY_CA"]
CLIENT_SECRETS = os.environ["KEYWAY_CLIENT_SECRETS"]
USER = os.environ.get("KEYWAY_USER", "demo@example.com")
PASSWORD = os.environ["KEYWAY_PASSWORD"]

# requests (and so google-auth's transport and requests-oauthlib) trusts the CA bundle named
# here. An already-set REQUESTS_CA_BUNDLE would otherwise win over a session's `verify`.
os.environ["REQUESTS_CA_BUNDLE"] = KEYWAY_CA
# oauthlib refuses to parse an authorization response on http:// unless this is set. The
# token endpoint is https; only the redirect URI (the app's own http://localhost:8080
# callback, as in Google's guide) is plain http.
os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
# OAUTHLIB_RELAX_TOKEN_SCOPE is deliberately NOT set globally: the full grant must come back
# with exactly the requested scopes. Only the granular-consent step sets it (see there).
os.environ.pop("OAUTHLIB_RELAX_TOKEN_SCOPE", None)

import google.auth.exceptions  # noqa: E402
import google.auth.transport.requests  # noqa: E402
import google.oauth2.credentials  # noqa: E402
import requests  # noqa: E402
from google_auth_oauthlib.flow import Flow, InstalledAppFlow  # noqa: E402

from browser import Browser, checkbox_scopes  # noqa: E402

REDIRECT_URI = "http://localhost:8080/oauth2callback"
DRIVE_FILE = "https://www.googleapis.com/auth/drive.file"
SCOPES = ["email", "profile", DRIVE_FILE]
# Google's long names for the short scopes (tokeninfo may answer with either).
ALIASES = {
    "https://www.googleapis.com/auth/userinfo.email": "email",
    "https://www.googleapis.com/auth/userinfo.profile": "profile",
}


def scope_set(s):
    items = s.split() if isinstance(s, str) else list(s)
    return {ALIASES.get(x, x) for x in items}


def client_id():
    with open(CLIENT_SECRETS) as f:
        return json.load(f)["web"]["client_id"]


def run_flow(uncheck=(), **auth_params):
    """Google's guide, steps 1-5: build the flow, send the user to the authorization URL,
    take the redirect back, exchange the code. Returns (flow, the URL the browser landed on)."""
    flow = Flow.from_client_secrets_file(CLIENT_SECRETS, scopes=SCOPES, redirect_uri=REDIRECT_URI)
    auth_url, state = flow.authorization_url(**auth_params)
    assert auth_url.startswith(KEYWAY_URL + "/o/oauth2/auth?"), auth_url
    browser = Browser(KEYWAY_CA, USER, PASSWORD)
    landed = browser.authorize(auth_url, REDIRECT_URI, uncheck=uncheck)
    q = parse_qs(urlsplit(landed).query)
    assert q.get("state") == [state], f"state comes back unchanged: {landed}"
    assert "code" in q and "error" not in q, landed
    assert browser.consent_pages, "the consent page was shown"
    assert DRIVE_FILE in checkbox_scopes(browser.consent_pages[0]), "drive.file is an optional checkbox"
    flow.fetch_token(authorization_response=landed)
    return flow, landed


S = {}  # state shared by the steps, in order


def step_granular_consent():
    """The user unticks drive.file on the consent page. Keyway, like Google, then returns
    fewer scopes than requested, and oauthlib raises Warning("Scope has changed ...") unless
    OAUTHLIB_RELAX_TOKEN_SCOPE is set: Google's guide tells apps using granular consent to set
    it and to check `credentials.granted_scopes`. That is what this step does."""
    os.environ["OAUTHLIB_RELAX_TOKEN_SCOPE"] = "1"
    try:
        flow, landed = run_flow(uncheck=[DRIVE_FILE], access_type="offline", prompt="consent")
    finally:
        os.environ.pop("OAUTHLIB_RELAX_TOKEN_SCOPE", None)
    creds = flow.credentials
    assert creds.token, "an access token"
    assert creds.granted_scopes is not None, "the token response says which scopes were granted"
    granted = scope_set(creds.granted_scopes)
    assert granted == {"email", "profile"}, f"drive.file was not granted: {creds.granted_scopes}"
    assert scope_set(parse_qs(urlsplit(landed).query)["scope"][0]) == granted


class SkipStep(Exception):
    """A step that cannot run here (not a failure)."""


class _TestBrowser(webbrowser.BaseBrowser):
    """What `webbrowser` opens for run_local_server: a thread that signs in, allows, and then
    follows the redirect to the library's own local server, as a real browser would."""

    def __init__(self):
        super().__init__("keyway-interop")
        self.errors = []
        self.landed = None

    def open(self, url, new=0, autoraise=True):
        def drive():
            try:
                self.landed = Browser(KEYWAY_CA, USER, PASSWORD).authorize(url, "http://localhost:8080/")
                status = _get_and_reset(self.landed)  # the library's wsgiref server
                assert status == 200, f"the library's local server answered {status}"
            except Exception as e:  # noqa: BLE001 - reported by the step
                self.errors.append(e)

        threading.Thread(target=drive, daemon=True).start()
        return True


def _get_and_reset(url):
    """GET `url` from the library's one-shot local server, then close with a TCP reset
    (SO_LINGER 0) rather than a FIN. The server closes first otherwise and leaves
    127.0.0.1:8080 in TIME_WAIT for a minute, and google-auth-oauthlib's server binds without
    SO_REUSEADDR: the next run (the PostgreSQL one, seconds later) could not listen."""
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.connect()
    conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    try:
        conn.request("GET", f"{u.path}?{u.query}")
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def step_installed_app_flow():
    """Google's Python quickstart: InstalledAppFlow.run_local_server() listens on
    http://localhost:8080/ (one of the demo client's redirect URIs), opens the "browser" at
    Keyway's consent page and exchanges the code it receives."""
    browser = _TestBrowser()
    webbrowser.register("keyway-interop", None, browser)
    flow = InstalledAppFlow.from_client_secrets_file(CLIENT_SECRETS, scopes=SCOPES)
    try:
        creds = flow.run_local_server(
            host="localhost",
            port=8080,
            browser="keyway-interop",
            open_browser=True,
            authorization_prompt_message=None,
            timeout_seconds=30,
            access_type="offline",
            prompt="consent",
        )
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            # make_server() runs first: nothing was sent to Keyway yet.
            raise SkipStep(f"port 8080 is in use here ({e})") from e
        raise
    except Exception as e:
        if browser.errors:
            raise AssertionError(f"the browser failed: {browser.errors!r}") from e
        raise
    assert not browser.errors, browser.errors
    assert browser.landed.startswith("http://localhost:8080/?"), browser.landed
    assert creds.token and creds.refresh_token and creds.expiry is not None
    assert scope_set(creds.granted_scopes) == set(SCOPES), creds.granted_scopes
    # The quickstart then saves token.json and reloads it on the next run. google-auth's
    # loader ignores the file's token_uri and always sets Google's (a library limit, see
    # googleapis/google-auth-library-python#1062): with_token_uri() (google-auth >= 2.14) is
    # the library's own way to point loaded credentials elsewhere.
    saved = json.loads(creds.to_json())
    assert saved["token_uri"] == KEYWAY_URL + "/token", saved
    loaded = google.oauth2.credentials.Credentials.from_authorized_user_info(saved, SCOPES)
    assert loaded.token_uri == "https://oauth2.googleapis.com/token", loaded.token_uri
    again = loaded.with_token_uri(saved["token_uri"])
    old = again.token
    again.refresh(google.auth.transport.requests.Request())
    assert again.token and again.token != old and again.refresh_token == creds.refresh_token


def step_authorize_and_exchange():
    """authorization_url(access_type='offline', include_granted_scopes='true') as in the
    guide, all scopes kept, code exchanged by Flow.fetch_token (client_secret_basic)."""
    flow, landed = run_flow(access_type="offline", include_granted_scopes="true")
    creds = flow.credentials
    assert creds.token, "an access token"
    assert creds.refresh_token, "access_type=offline gives a refresh token"
    assert creds.expiry is not None, "credentials.expiry is set from expires_in"
    # google-auth keeps expiry as a naive UTC datetime.
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    left = (creds.expiry - now).total_seconds()
    assert 60 < left <= 3600 + 5, f"expires in about an hour: {left}s"
    assert creds.valid and not creds.expired
    assert creds.token_uri == KEYWAY_URL + "/token", creds.token_uri
    assert creds.client_id == client_id()
    assert scope_set(creds.granted_scopes) == set(SCOPES), creds.granted_scopes
    assert flow.oauth2session.token.get("token_type", "").lower() == "bearer", flow.oauth2session.token
    S["creds"] = creds
    S["first_token"] = creds.token


def step_refresh():
    """credentials.refresh(Request()): a new access token, the same refresh token."""
    creds = S["creds"]
    refresh_token = creds.refresh_token
    creds.refresh(google.auth.transport.requests.Request())
    assert creds.token and creds.token != S["first_token"], "a new access token"
    assert creds.refresh_token == refresh_token, "the refresh token is kept"
    assert creds.valid and not creds.expired
    assert creds.expiry is not None


def step_tokeninfo():
    """GET /tokeninfo?access_token=: Google's shape, every value a string."""
    creds = S["creds"]
    r = requests.get(KEYWAY_URL + "/tokeninfo", params={"access_token": creds.token}, timeout=30)
    assert r.status_code == 200, f"{r.status_code} {r.text}"
    info = r.json()
    for k, v in info.items():
        assert isinstance(v, str), f"tokeninfo {k!r} is {type(v).__name__}, Google sends strings: {info}"
    for k in ("azp", "aud", "sub", "scope", "exp", "expires_in", "email", "email_verified", "access_type"):
        assert k in info, f"tokeninfo has {k!r}: {info}"
    assert info["aud"] == client_id() and info["azp"] == client_id(), info
    assert scope_set(info["scope"]) == set(SCOPES), info
    assert info["email"] == USER and info["email_verified"] == "true", info
    assert info["access_type"] == "offline", info
    assert 0 < int(info["expires_in"]) <= 3600, info
    assert abs(int(info["exp"]) - (time.time() + int(info["expires_in"]))) < 60, info


def step_revoke():
    """Revocation exactly as Google's guide writes it: POST with the token in the query string
    and a form content type; 200. Revoking it again is 400 invalid_token."""
    creds = S["creds"]
    r = requests.post(
        KEYWAY_URL + "/revoke",
        params={"token": creds.token},
        headers={"content-type": "application/x-www-form-urlencoded"},
        timeout=30,
    )
    assert r.status_code == 200, f"{r.status_code} {r.text}"
    again = requests.post(
        KEYWAY_URL + "/revoke",
        params={"token": creds.token},
        headers={"content-type": "application/x-www-form-urlencoded"},
        timeout=30,
    )
    assert again.status_code == 400, f"{again.status_code} {again.text}"
    assert again.json().get("error") == "invalid_token", again.text
    r = requests.get(KEYWAY_URL + "/tokeninfo", params={"access_token": creds.token}, timeout=30)
    assert r.status_code == 400, f"a revoked token has no tokeninfo: {r.status_code} {r.text}"


def step_refresh_after_revoke():
    """Revoking the access token revokes its refresh token too: refresh raises RefreshError."""
    creds = S["creds"]
    try:
        creds.refresh(google.auth.transport.requests.Request())
    except google.auth.exceptions.RefreshError as e:
        assert "invalid_grant" in str(e), f"Google's error for a revoked refresh token: {e}"
    else:
        raise AssertionError("refresh after revocation succeeded")


# (step, depends on the steps before it in this list)
STEPS = [
    (step_granular_consent, False),
    (step_authorize_and_exchange, False),
    (step_refresh, True),
    (step_tokeninfo, True),
    (step_revoke, True),
    (step_refresh_after_revoke, True),
    # Last: the revocation above removed the grant, so this flow starts from scratch too.
    (step_installed_app_flow, False),
]


def main():
    passed = failed = skipped = 0
    broken = False
    for step, dependent in STEPS:
        name = step.__name__[len("step_"):]
        if dependent and broken:
            print(f"skip {name} (an earlier step failed)")
            skipped += 1
            continue
        if not dependent:
            broken = False
        try:
            step()
        except SkipStep as e:
            skipped += 1
            print(f"skip {name}: {e}")
        except Exception:  # noqa: BLE001 - report every failure the same way
            failed += 1
            broken = True
            print(f"FAIL {name}: {step.__doc__.strip().splitlines()[0]}")
            traceback.print_exc(file=sys.stdout)
        else:
            passed += 1
            print(f"ok   {name}")
        sys.stdout.flush()
    print(f"python: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
