/**
 * An API receiving encrypted access tokens (Auth0 API → Token Settings → JSON Web Encryption): the
 * private key that decrypts them comes from API_DECRYPTION_KEY (PEM), its kid from
 * API_DECRYPTION_KID. Tokens that are not encrypted are refused (`required: true`). The signed token
 * inside is verified as usual, with the tenant's JWKS.
 *
 *   AUTH0_DOMAIN=tenant.us.auth0.com AUTH0_AUDIENCE=https://api.example.com/ \
 *   API_DECRYPTION_KEY="$(cat private.pem)" API_DECRYPTION_KID=enc-2026 node .build/examples/encrypted-tokens/index.js
 */
import { pathToFileURL } from 'node:url'
import Fastify, { type FastifyInstance } from 'fastify'
import auth0Plugin, { type Auth0PluginOptions, type DecryptionKey } from 'fastify-auth0-api'

export async function buildEncryptedTokens (keys: DecryptionKey[], options: Auth0PluginOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'warn' } })
  await app.register(auth0Plugin, { decryption: { keys, required: true }, ...options })

  app.get('/api/private', { preHandler: app.requireAuth() }, async (request) => ({ user: request.claims.sub }))
  return app
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const privateKey = process.env.API_DECRYPTION_KEY
  if (privateKey === undefined) throw new Error('set API_DECRYPTION_KEY to the PEM of the private key')
  const kid = process.env.API_DECRYPTION_KID
  const app = await buildEncryptedTokens([{ privateKey, ...(kid !== undefined ? { kid } : {}) }])
  console.log(`Listening on ${await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' })}`)
}
