// The peer for bench/run: node oidc-provider (the version pinned in package.json), one
// confidential client allowed the authorization_code and refresh_token grants and
// offline_access, an in-memory adapter, development interactions (a login form that takes
// any login and password, and a consent form), introspection enabled.
//
// Usage: node server.js PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI
//
// The adapter is a plain Map per model with a grant index, O(1) per operation and never
// evicting. oidc-provider's bundled MemoryAdapter is a 1000-entry LRU whose per-grant index
// grows by one entry per issued access token and is rescanned (Math.max over all of them) on
// every insert: under a refresh load the peer would slow down as the run goes on, and its
// refresh token could be evicted. This adapter keeps the peer at its best.

import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
if (!redirectUri) {
  console.error('usage: node server.js PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI');
  process.exit(2);
}

const stores = new Map(); // model -> Map(id -> { payload, expiresAt })
const grants = new Map(); // grantId -> Set of [model, id]
const uids = new Map(); // session uid -> id
const userCodes = new Map(); // user code -> id

class BenchAdapter {
  constructor(model) {
    this.model = model;
    if (!stores.has(model)) stores.set(model, new Map());
    this.map = stores.get(model);
  }

  async upsert(id, payload, expiresIn) {
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
    this.map.set(id, { payload, expiresAt });
    if (payload.grantId) {
      let members = grants.get(payload.grantId);
      if (!members) grants.set(payload.grantId, (members = new Set()));
      members.add(`${this.model}\u0000${id}`);
    }
    if (this.model === 'Session' && payload.uid) uids.set(payload.uid, id);
    if (payload.userCode) userCodes.set(payload.userCode, id);
  }

  async find(id) {
    const entry = this.map.get(id);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.map.delete(id);
      return undefined;
    }
    return entry.payload;
  }

  async findByUid(uid) {
    const id = uids.get(uid);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = userCodes.get(userCode);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const entry = this.map.get(id);
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    const entry = this.map.get(id);
    this.map.delete(id);
    if (entry?.payload.grantId) grants.get(entry.payload.grantId)?.delete(`${this.model}\u0000${id}`);
  }

  async revokeByGrantId(grantId) {
    const members = grants.get(grantId);
    if (!members) return;
    for (const member of members) {
      const [model, id] = member.split('\u0000');
      stores.get(model)?.delete(id);
    }
    grants.delete(grantId);
  }
}

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-rs256', alg: 'RS256', use: 'sig' };

const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  adapter: BenchAdapter,
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [redirectUri],
      token_endpoint_auth_method: 'client_secret_post',
      introspection_endpoint_auth_method: 'client_secret_post',
    },
  ],
  jwks: { keys: [jwk] },
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  features: {
    devInteractions: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
  },
  pkce: { required: () => false },
  // Refresh tokens do not rotate (as at Keyway and Google).
  rotateRefreshToken: false,
  ttl: {
    AccessToken: 3600,
    AuthorizationCode: 600,
    RefreshToken: 14 * 24 * 3600,
    IdToken: 3600,
    Grant: 14 * 24 * 3600,
    Session: 14 * 24 * 3600,
    Interaction: 3600,
  },
  async findAccount(ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return { sub, email: `${sub}@example.com`, email_verified: true };
      },
    };
  },
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
});
// Quiet: no per-request logging.
provider.on('server_error', (ctx, err) => console.error('server_error', err));

provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
