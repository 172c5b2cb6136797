// Google's Node.js client library (google-auth-library's OAuth2Client) against Keyway.
//
// The calls below are the ones Google's "Using OAuth 2.0 for Web Server Applications" guide
// has a Node app make; only the endpoint URLs differ (the `endpoints` option). Nothing here
// works around Keyway: if a library call fails, Keyway is incompatible.
//
// Environment (set by run.sh):
//   KEYWAY_URL             https://localhost:PORT
//   KEYWAY_CA              the CA Keyway's self-signed certificate chains to; run.sh also sets
//                          NODE_EXTRA_CA_CERTS to it (read by Node at start-up, used by both the
//                          https module, which the library's transport gaxios uses through
//                          node-fetch, and Node 20's built-in fetch, used for the pages here)
//   KEYWAY_CLIENT_SECRETS  client_secret.json written by `keyway serve --demo`
//   KEYWAY_USER, KEYWAY_PASSWORD  the demo user
//   NODE_PATH              the node_modules google-auth-library is installed in
//
// Run with `node --test test_node.js`. The steps share one client and run in order; a step
// after a failed one is skipped.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { OAuth2Client } = require('google-auth-library');

const KEYWAY_URL = process.env.KEYWAY_URL.replace(/\/+$/, '');
const USER = process.env.KEYWAY_USER || 'demo@example.com';
const PASSWORD = process.env.KEYWAY_PASSWORD;
const secrets = JSON.parse(fs.readFileSync(process.env.KEYWAY_CLIENT_SECRETS, 'utf8')).web;
const REDIRECT_URI = 'http://localhost:8080/oauth2callback';
const DRIVE_FILE = 'https://www.googleapis.com/auth/drive.file';
const SCOPES = ['email', 'profile', DRIVE_FILE];
const ALIASES = {
  'https://www.googleapis.com/auth/userinfo.email': 'email',
  'https://www.googleapis.com/auth/userinfo.profile': 'profile',
};
const scopeSet = (list) => new Set(list.map((s) => ALIASES[s] || s));

// ---------------------------------------------------------------------------------------------
// The browser: follows 303s, keeps cookies, fills the sign-in form, clicks "Allow".
// Node 20's fetch with redirect: 'manual' returns the 303 itself (Location readable), and
// trusts NODE_EXTRA_CA_CERTS like every other TLS connection Node makes.

function formOf(html) {
  const form = /<form[^>]*method="post"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  assert.ok(form, `a page with a form: ${html.slice(0, 2000)}`);
  const action = /action="([^"]*)"/i.exec(form[0])[1];
  const fields = [];
  for (const m of form[1].matchAll(/<(input|button)\b([^>]*)>/gi)) {
    const attrs = {};
    for (const a of m[2].matchAll(/([\w-]+)(?:="([^"]*)")?/g)) attrs[a[1].toLowerCase()] = a[2] ?? '';
    fields.push({ tag: m[1].toLowerCase(), attrs });
  }
  return { action, fields };
}

const unescape = (s) =>
  s.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

// The pairs a browser sends when the button with value `clicked` is pressed.
function submission(form, clicked, fill = {}, uncheck = []) {
  const body = new URLSearchParams();
  for (const { tag, attrs } of form.fields) {
    const name = attrs.name;
    if (!name) continue;
    const type = (attrs.type || (tag === 'button' ? 'submit' : 'text')).toLowerCase();
    const value = unescape(attrs.value ?? '');
    if (type === 'submit' || type === 'button') {
      if (value === clicked) body.append(name, value);
    } else if (type === 'checkbox') {
      if ('checked' in attrs && !uncheck.includes(value)) body.append(name, value);
    } else {
      body.append(name, name in fill ? fill[name] : value);
    }
  }
  return body;
}

class Browser {
  constructor() {
    this.cookies = new Map();
    this.consentForms = [];
  }

  async request(url, body) {
    const headers = {};
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(url, { method: body ? 'POST' : 'GET', headers, body, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      this.cookies.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
    }
    return res;
  }

  async authorize(authUrl, { uncheck = [] } = {}) {
    let url = authUrl;
    let res = await this.request(url);
    for (let i = 0; i < 12; i++) {
      if ([301, 302, 303, 307, 308].includes(res.status)) {
        url = new URL(res.headers.get('location'), url).toString();
        if (url.startsWith(REDIRECT_URI)) return new URL(url);
        res = await this.request(url);
        continue;
      }
      const html = await res.text();
      assert.equal(res.status, 200, `${url}: ${html.slice(0, 2000)}`);
      const form = formOf(html);
      const action = new URL(form.action || url, url).toString();
      const path = new URL(url).pathname;
      let body;
      if (path === '/signin') {
        body = submission(form, null, { email: USER, password: PASSWORD });
      } else if (path === '/consent') {
        this.consentForms.push(form);
        body = submission(form, 'allow', {}, uncheck);
      } else {
        assert.fail(`${url}: unexpected page in the flow: ${html.slice(0, 2000)}`);
      }
      res = await this.request(action, body);
    }
    assert.fail(`no redirect to ${REDIRECT_URI} (at ${url})`);
  }
}

// ---------------------------------------------------------------------------------------------

const client = new OAuth2Client({
  clientId: secrets.client_id,
  clientSecret: secrets.client_secret,
  redirectUri: REDIRECT_URI,
  endpoints: {
    oauth2AuthBaseUrl: `${KEYWAY_URL}/o/oauth2/v2/auth`,
    oauth2TokenUrl: `${KEYWAY_URL}/token`,
    oauth2RevokeUrl: `${KEYWAY_URL}/revoke`,
    tokenInfoUrl: `${KEYWAY_URL}/tokeninfo`,
    oauth2FederatedSignonPemCertsUrl: `${KEYWAY_URL}/oauth2/v1/certs`,
    oauth2FederatedSignonJwkCertsUrl: `${KEYWAY_URL}/oauth2/v3/certs`,
  },
});
const S = {}; // shared by the steps, in order
const emitted = []; // every 'tokens' event
client.on('tokens', (t) => emitted.push({ ...t }));
let broken = false;

function step(name, fn) {
  test(name, async (t) => {
    if (broken) return t.skip('an earlier step failed');
    try {
      await fn();
    } catch (e) {
      broken = true;
      if (e && e.response) {
        // A GaxiosError: show what Keyway answered.
        e.message += `\n  ${e.config?.method} ${e.config?.url} -> ${e.response.status} ${JSON.stringify(e.response.data)}`;
      }
      throw e;
    }
  });
}

step('generateAuthUrl points at Keyway with Google\'s parameters', () => {
  S.state = `node-${Date.now()}`;
  S.authUrl = client.generateAuthUrl({ access_type: 'offline', scope: SCOPES, prompt: 'consent', state: S.state });
  const u = new URL(S.authUrl);
  assert.equal(`${u.origin}${u.pathname}`, `${KEYWAY_URL}/o/oauth2/v2/auth`);
  assert.equal(u.searchParams.get('client_id'), secrets.client_id);
  assert.equal(u.searchParams.get('scope'), SCOPES.join(' '));
});

step('the user signs in and allows: the redirect carries code, scope, state and iss', async () => {
  const browser = new Browser();
  const landed = await browser.authorize(S.authUrl);
  assert.equal(landed.searchParams.get('error'), null, landed.toString());
  assert.equal(landed.searchParams.get('state'), S.state);
  assert.ok(landed.searchParams.get('code'), landed.toString());
  assert.ok(landed.searchParams.get('iss'), `iss is sent: ${landed}`);
  assert.deepEqual(scopeSet(landed.searchParams.get('scope').split(' ')), new Set(SCOPES));
  assert.equal(browser.consentForms.length, 1, 'prompt=consent shows the consent page');
  S.code = landed.searchParams.get('code');
});

step('getToken(code) returns access and refresh tokens', async () => {
  const { tokens } = await client.getToken(S.code);
  assert.ok(tokens.access_token, 'access_token');
  assert.ok(tokens.refresh_token, 'access_type=offline with prompt=consent gives a refresh_token');
  assert.equal(tokens.token_type, 'Bearer');
  assert.equal(typeof tokens.expiry_date, 'number');
  const left = tokens.expiry_date - Date.now();
  assert.ok(left > 60_000 && left <= 3_600_000 + 5_000, `expires in about an hour: ${left} ms`);
  assert.deepEqual(scopeSet(tokens.scope.split(' ')), new Set(SCOPES));
  assert.equal(emitted.length, 1, "getToken emits 'tokens'");
  client.setCredentials(tokens);
  S.tokens = tokens;
});

step("refreshAccessToken(): a new access token, 'tokens' fires, the refresh token is kept", async () => {
  const before = emitted.length;
  const { credentials } = await client.refreshAccessToken();
  assert.ok(credentials.access_token && credentials.access_token !== S.tokens.access_token, 'a new access token');
  assert.equal(credentials.refresh_token, S.tokens.refresh_token, 'the client keeps its refresh token');
  assert.equal(emitted.length, before + 1, "'tokens' fired on refresh");
  const ev = emitted[emitted.length - 1];
  assert.equal(ev.access_token, credentials.access_token);
  assert.equal(ev.refresh_token, undefined, 'a refresh response carries no refresh_token, like Google');
  assert.ok(ev.expiry_date > Date.now());
  S.refreshed = credentials.access_token;
});

step('getAccessToken() refreshes an expired access token by itself', async () => {
  client.setCredentials({ ...client.credentials, expiry_date: Date.now() - 1000 });
  const before = emitted.length;
  const { token } = await client.getAccessToken();
  assert.ok(token && token !== S.refreshed, 'a fresh access token');
  assert.equal(emitted.length, before + 1, "'tokens' fired");
  assert.equal(client.credentials.refresh_token, S.tokens.refresh_token);
  S.current = token;
});

step('getTokenInfo(access_token) returns the scopes and the expiry', async () => {
  const info = await client.getTokenInfo(S.current);
  assert.deepEqual(scopeSet(info.scopes), new Set(SCOPES));
  assert.equal(typeof info.expiry_date, 'number');
  assert.ok(!Number.isNaN(info.expiry_date), 'expires_in is a number (or a numeric string, as Google sends)');
  const left = info.expiry_date - Date.now();
  assert.ok(left > 60_000 && left <= 3_600_000 + 5_000, `expires in about an hour: ${left} ms`);
  assert.equal(info.aud, secrets.client_id);
  assert.equal(info.azp, secrets.client_id);
  assert.equal(info.email, USER);
  assert.equal(info.access_type, 'offline');
  assert.ok(info.sub, 'sub');
});

step('revokeToken(access_token) succeeds', async () => {
  const res = await client.revokeToken(S.current);
  assert.equal(res.status, 200);
});

step('after revocation: refresh, tokeninfo, a second revoke and the used code all fail', async () => {
  await assert.rejects(client.refreshAccessToken(), (e) => {
    assert.equal(e.response?.status, 400, String(e));
    assert.equal(e.response.data.error, 'invalid_grant');
    return true;
  });
  await assert.rejects(client.getTokenInfo(S.current), (e) => {
    assert.equal(e.response?.status, 400, String(e));
    return true;
  });
  await assert.rejects(client.revokeToken(S.current), (e) => {
    assert.equal(e.response?.status, 400, String(e));
    assert.equal(e.response.data.error, 'invalid_token');
    return true;
  });
  // Checked last: Keyway, per RFC 6749 §4.1.2, revokes the tokens of a code used twice.
  await assert.rejects(client.getToken(S.code), (e) => {
    assert.equal(e.response?.status, 400, String(e));
    assert.equal(e.response.data.error, 'invalid_grant');
    return true;
  });
});
