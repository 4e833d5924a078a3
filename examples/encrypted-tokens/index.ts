/**
 * An API receiving encrypted access tokens (Auth0 API → Token Settings → JSON Web Encryption).
 * Tokens that are not encrypted are refused (`required: true`); the signed token inside is
 * verified as usual, with the tenant's JWKS.
 *
 *   npm run build:examples && node .build/examples/encrypted-tokens/index.js
 *
 * runs it against a local test issuer with a fresh key pair and prints curl lines to try; against
 * your tenant, the private key that decrypts comes from API_DECRYPTION_KEY (PEM), its kid (if you
 * gave one to Auth0) from API_DECRYPTION_KID:
 *
 *   AUTH0_DOMAIN=tenant.us.auth0.com AUTH0_AUDIENCE=https://api.example.com/ \
 *   API_DECRYPTION_KEY="$(cat private.pem)" API_DECRYPTION_KID=enc-2026 node .build/examples/encrypted-tokens/index.js
 */
import { pathToFileURL } from 'node:url'
import Fastify, { type FastifyInstance } from 'fastify'
import auth0Plugin, { type Auth0PluginOptions, type DecryptionKey } from 'fastify-auth0-api'
import { decryptionKeyPair } from 'fastify-auth0-api/testing'
import { serveExample } from '../serve.js'

export async function buildEncryptedTokens (keys: DecryptionKey[], options: Auth0PluginOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'warn' } })
  await app.register(auth0Plugin, { decryption: { keys, required: true }, ...options })

  app.get('/api/private', { preHandler: app.requireAuth() }, async (request) => ({ user: request.claims.sub }))
  return app
}

/** The key from the environment (a tenant), as the plugin takes it. */
function keyFromEnv (): DecryptionKey {
  const privateKey = process.env.API_DECRYPTION_KEY
  if (privateKey === undefined) throw new Error('set API_DECRYPTION_KEY to the PEM of the private key')
  const kid = process.env.API_DECRYPTION_KID
  return { privateKey, ...(kid !== undefined ? { kid } : {}) }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await serveExample(async (local) => {
    if (local === undefined) return { app: await buildEncryptedTokens([keyFromEnv()]) }
    // Locally: a fresh pair; its public half is what you would upload to Auth0.
    const pair = decryptionKeyPair({ kid: 'local-1' })
    const encrypt = { publicKey: pair.publicKey, kid: 'local-1' }
    return {
      app: await buildEncryptedTokens([{ privateKey: pair.privateKey, kid: 'local-1' }], local.options),
      tries: [
        { status: 200, what: 'an encrypted token (JWE, RSA-OAEP-256 + A256GCM)', path: '/api/private', token: await local.issuer.token({}, { encrypt }) },
        { status: 401, what: 'a plain signed token (encryption is required)', path: '/api/private', token: await local.issuer.token() },
        { status: 401, what: 'encrypted to another key', path: '/api/private', token: await local.issuer.token({}, { encrypt: { publicKey: decryptionKeyPair().publicKey, kid: 'local-1' } }) }
      ]
    }
  })
}
