/**
 * An https API that accepts RFC 8705 certificate-bound access tokens (Auth0 Highly Regulated
 * Identity: APIs with `proof_of_possession: { mechanism: 'mtls' }`). The server asks every client
 * for a certificate (`requestCert`); a token with `cnf["x5t#S256"]` is accepted only on a
 * connection whose client certificate has that thumbprint. The chain is not validated (the
 * binding is what counts, as Auth0 documents): `rejectUnauthorized: false` lets self-signed
 * client certificates through to that check. Unbound tokens work as usual.
 *
 *   TLS_KEY_FILE=server-key.pem TLS_CERT_FILE=server-cert.pem \
 *   AUTH0_DOMAIN=tenant.us.auth0.com AUTH0_AUDIENCE=https://api.example.com/ node .build/examples/mtls/index.js
 *   curl --cert client.pem --key client-key.pem -H "Authorization: Bearer $TOKEN" https://127.0.0.1:3000/api/private
 *
 * Behind nginx terminating TLS instead: `mtls: { header: 'x-client-cert' }`, Fastify's
 * `trustProxy` set to nginx's address, and `proxy_set_header X-Client-Cert $ssl_client_escaped_cert;`.
 */
import { readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import Fastify, { type FastifyInstance } from 'fastify'
import auth0Plugin, { type Auth0PluginOptions } from 'fastify-auth0-api'
import { serveExample } from '../serve.js'

export interface ServerTls {
  key: string | Buffer
  cert: string | Buffer
}

export async function buildMtlsApi (tls: ServerTls, options: Auth0PluginOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    https: { key: tls.key, cert: tls.cert, requestCert: true, rejectUnauthorized: false },
    logger: { level: process.env.LOG_LEVEL ?? 'warn' }
  })
  await app.register(auth0Plugin, { mtls: true, ...options })

  app.get('/api/private', { preHandler: app.requireAuth() }, async (request) => ({
    user: request.claims.sub,
    // The thumbprint of the client certificate the token is bound to (absent for unbound tokens).
    certificate: request.auth?.x5t ?? null
  }))
  return app
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // TLS files are needed in any case (no tenant: a local test issuer signs the tokens; mint a bound
  // one with `issuer.token({ cnf: { 'x5t#S256': thumbprint } })` from fastify-auth0-api/testing).
  const tls = { key: readFileSync(process.env.TLS_KEY_FILE ?? 'server-key.pem'), cert: readFileSync(process.env.TLS_CERT_FILE ?? 'server-cert.pem') }
  await serveExample(async (local) => ({ app: await buildMtlsApi(tls, local?.options) }))
}
