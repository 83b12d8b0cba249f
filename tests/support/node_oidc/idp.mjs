// The OpenID Connect provider of the AssumeRoleWithWebIdentity tests: npm's
// oidc-provider (OpenID Certified), served over https on loopback with a certificate
// of the test's CA. Configured by the JSON file named on the command line:
//   issuer, port, cert, key (PEM file paths), jwks ({keys: [private JWKs]}),
//   clients ([{client_id, client_secret, claims}]): each client gets JWT access tokens
//   through the client_credentials grant, for the audience its `resource` names
//   (https://sts.amazonaws.com -> aud "sts.amazonaws.com"), with `claims` added.
// Prints "listening" once it accepts connections.
import fs from 'node:fs';
import https from 'node:https';

import Provider from 'oidc-provider';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const clientClaims = Object.fromEntries(config.clients.map((c) => [c.client_id, c.claims || {}]));

const provider = new Provider(config.issuer, {
  clients: config.clients.map((c) => ({
    client_id: c.client_id,
    client_secret: c.client_secret,
    grant_types: ['client_credentials', 'authorization_code'],
    response_types: ['code'],
    redirect_uris: ['https://client.example/callback'],
    token_endpoint_auth_method: 'client_secret_post',
  })),
  jwks: config.jwks,
  cookies: { keys: ['iamd-test-idp-cookie-key-not-secret'] },
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'https://sts.amazonaws.com',
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource) => ({
        scope: 'openid',
        audience: resource.replace(/^https:\/\//, ''),
        accessTokenFormat: 'jwt',
        accessTokenTTL: 600,
        jwt: { sign: { alg: config.alg || 'RS256' } },
      }),
    },
  },
  extraTokenClaims: (ctx, token) => clientClaims[token.clientId] || {},
  findAccount: (ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
  claims: { openid: ['sub'] },
});

for (const event of ['server_error', 'grant.error']) {
  provider.on(event, (ctx, error) => console.error(event, error));
}

const server = https.createServer(
  { cert: fs.readFileSync(config.cert), key: fs.readFileSync(config.key) },
  provider.callback(),
);
server.listen(config.port, '127.0.0.1', () => {
  console.log('listening');
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
