// oidc-provider set up as parlogin's interoperability tests need it: on 127.0.0.1 with a free
// port, client_secret_jwt only, PKCE and pushed authorization requests required, RP-initiated and
// back-channel logout on, two authentication context classes (acr), and the built-in development
// login and consent pages. It prints one JSON line, {"issuer": "http://127.0.0.1:<port>"}, once
// it listens.
//
// Environment:
//
//   OP_HOST      the host name of the issuer, default 127.0.0.1: another name (op.test) is for a
//                browser and an app that resolve it to 127.0.0.1
//   OP_TLS_CERT  PEM files of the certificate chain and key for OP_HOST: serve https, and the
//   OP_TLS_KEY   issuer is https://<OP_HOST>:<port>
//   OP_PROFILE   fapi2: oidc-provider's FAPI 2.0 profile (features.fapi, profile '2.0'), with what
//                the profile leaves to configuration: private_key_jwt only, with PS256, ES256 or
//                EdDSA; DPoP, with nonces required; ID tokens in PS256 or ES256, signed with
//                keys made at start (the development keystore's only key is RS256); PAR and
//                PKCE as always. Clients register their public keys (jwks, or a jwks_uri on
//                loopback) and dpop_bound_access_tokens.
//
// Clients are registered at run time, because a test learns its app's redirect URI only once the
// app listens: POST /test/clients with the client metadata as JSON. That route exists only in this
// harness and answers on the loopback interface only.
//
// Back-channel logout tokens go to the apps' backchannel_logout_uri on loopback, which
// oidc-provider refuses by default (see fetch below). What became of each is printed on stderr as
// a JSON line: {"event": "backchannel.success" or "backchannel.error", "client_id", "sid", ...}.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

import Provider from 'oidc-provider';

const host = process.env.OP_HOST || '127.0.0.1';
const tls = process.env.OP_TLS_CERT && process.env.OP_TLS_KEY;
const server = tls
  ? https.createServer({ cert: readFileSync(process.env.OP_TLS_CERT), key: readFileSync(process.env.OP_TLS_KEY) })
  : http.createServer();
await new Promise((resolve) => { server.listen(0, '127.0.0.1', resolve); });
const issuer = `${tls ? 'https' : 'http'}://${host}:${server.address().port}`;

// The authentication context classes: a password, or a password and a second factor. The login
// page is oidc-provider's development one (any login, any password), so the harness stands in for
// the second factor: a login asserts the strongest class that the authorization request's
// acr_values ask for, and urn:example:pwd when they ask for none.
const PWD = 'urn:example:pwd';
const MFA = 'urn:example:mfa';

// FAPI 2.0 (OP_PROFILE=fapi2): what oidc-provider's profile checks itself is little (the client
// assertion's aud must be the issuer, as a string; PKCE; no omitted redirect_uri; request objects
// with nbf and exp): the rest of FAPI 2.0 is this configuration.
const fapi2 = process.env.OP_PROFILE === 'fapi2';
const signingKey = (kid, type, options) => ({
  ...generateKeyPairSync(type, options).privateKey.export({ format: 'jwk' }), kid, use: 'sig',
});
const profile = fapi2 ? {
  features: {
    fapi: { enabled: true, profile: '2.0' },
    dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true },
  },
  clientAuthMethods: ['private_key_jwt'],
  responseTypes: ['code'],
  enabledJWA: {
    clientAuthSigningAlgValues: ['PS256', 'ES256', 'EdDSA'],
    idTokenSigningAlgValues: ['PS256', 'ES256'],
    requestObjectSigningAlgValues: ['PS256', 'ES256', 'EdDSA'],
    dPoPSigningAlgValues: ['ES256', 'EdDSA'],
  },
  jwks: {
    keys: [
      signingKey('op-es256', 'ec', { namedCurve: 'P-256' }),
      signingKey('op-ps256', 'rsa', { modulusLength: 2048 }),
    ],
  },
} : {
  features: {},
  clientAuthMethods: ['client_secret_jwt'],
  enabledJWA: { clientAuthSigningAlgValues: ['HS256', 'HS384', 'HS512'] },
};

const provider = new Provider(issuer, {
  // Cookies on 127.0.0.1 are shared across ports: keep clear of the app's names.
  cookies: {
    names: { session: 'op_session', interaction: 'op_interaction', resume: 'op_interaction_resume' },
    keys: [process.env.OP_COOKIE_KEY || 'parlogin interop cookie key'],
  },
  features: {
    devInteractions: { enabled: true },
    pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: true },
    rpInitiatedLogout: { enabled: true },
    backchannelLogout: { enabled: true },
    ...profile.features,
  },
  pkce: { required: () => true },
  clientAuthMethods: profile.clientAuthMethods,
  enabledJWA: profile.enabledJWA,
  ...(fapi2 && { jwks: profile.jwks, responseTypes: profile.responseTypes }),
  acrValues: [PWD, MFA],
  claims: {
    openid: ['sub'],
    profile: ['name'],
    email: ['email', 'email_verified'],
  },
  findAccount: (ctx, id) => ({
    accountId: id,
    claims: () => ({
      sub: id,
      name: id.charAt(0).toUpperCase() + id.slice(1),
      email: `${id}@example.com`,
      email_verified: true,
    }),
  }),
  // oidc-provider 9 sends its back-channel requests through a dispatcher that refuses
  // special-use addresses, loopback included ("hostname resolves to a special-use IP address"),
  // against SSRF. The apps under test listen on loopback: for them only, use a plain one.
  fetch: (url, options) => {
    if (['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname)) {
      delete options.dispatcher;
    }
    return globalThis.fetch(url, options);
  },
});

const report = (event, client, accountId, sid, err) => {
  console.error(JSON.stringify({
    event, client_id: client.clientId, sub: accountId, sid, error: err && String(err.cause || err.message),
  }));
};
provider.on('backchannel.success', (ctx, client, accountId, sid) => report('backchannel.success', client, accountId, sid));
provider.on('backchannel.error', (ctx, err, client, accountId, sid) => report('backchannel.error', client, accountId, sid, err));
// Why a request was refused: oidc-provider answers clients a generic error_description and keeps
// the reason in error_detail.
for (const event of ['pushed_authorization_request.error', 'authorization.error', 'grant.error', 'userinfo.error']) {
  provider.on(event, (ctx, err) => {
    console.error(JSON.stringify({
      event, client_id: ctx.oidc?.client?.clientId, error: err.error, detail: err.error_detail,
    }));
  });
}

const handle = provider.callback();

async function readBody(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body;
}

async function registerClient(req, res) {
  try {
    const metadata = JSON.parse(await readBody(req));
    await provider.Client.validate(metadata);
    await provider.Client.adapter.upsert(metadata.client_id, metadata);
    res.writeHead(201).end();
  } catch (err) {
    res.writeHead(400, { 'content-type': 'text/plain' }).end(String(err.error_description || err.message));
  }
}

// finishLogin replaces the development login's submission (POST /interaction/<uid> of a login
// prompt), which asserts no acr: it signs in the login submitted, with the acr described above
// (oidc-provider puts it in the ID token when acr_values asked for one). A test may add
// auth_age=<seconds> to the form, to sign in as if the user had authenticated that long ago
// (auth_time), where a real test would have to wait.
async function finishLogin(req, res, details) {
  const form = new URLSearchParams(await readBody(req));
  const requested = (details.params.acr_values || '').split(' ');
  const acr = requested.includes(MFA) ? MFA : PWD;
  await provider.interactionFinished(req, res, {
    login: {
      accountId: form.get('login'),
      acr,
      ts: Math.floor(Date.now() / 1000) - Number(form.get('auth_age') || 0),
    },
  }, { mergeWithLastSubmission: false });
}

server.on('request', async (req, res) => {
  if (req.method === 'POST' && req.url === '/test/clients') {
    registerClient(req, res);
    return;
  }
  if (req.method === 'POST' && /^\/interaction\/[\w-]+$/.test(req.url)) {
    const details = await provider.interactionDetails(req, res).catch(() => undefined);
    if (details?.prompt.name === 'login' && req.url === `/interaction/${details.uid}`) {
      finishLogin(req, res, details).catch((err) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err.message));
      });
      return;
    }
  }
  handle(req, res);
});

console.log(JSON.stringify({ issuer }));
