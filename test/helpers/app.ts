/**
 * Shared test set-up: a real test issuer on 127.0.0.1 and a real Fastify app with the plugin.
 * Nothing is mocked; `inject` sends real requests through Fastify's full lifecycle.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import auth0Plugin, { type Auth0PluginOptions } from '../../lib/index.js'
import { createTestIssuer, type TestIssuer, type TestIssuerOptions } from '../../lib/testing/index.js'
import { oracleEveryReply } from './expect.js'

export const AUDIENCE = 'https://api.example.com/'

export interface Harness {
  app: FastifyInstance
  issuer: TestIssuer
  /** `Authorization` header for a freshly minted token with these claims. */
  bearer (claims?: Record<string, unknown>): Promise<{ authorization: string }>
}

/**
 * Starts an issuer and an app with routes:
 *   GET /public, GET /private (any valid token), GET /messages ('read:messages'),
 *   GET /optional (optional auth: echoes claims or null).
 * `t.teardown` closes both.
 */
export async function harness (
  t: { teardown (fn: () => unknown): void },
  options: Partial<Auth0PluginOptions> = {},
  issuerOptions: TestIssuerOptions = {}
): Promise<Harness> {
  const issuer = await createTestIssuer(issuerOptions)
  const app = Fastify()
  // Every reply, looked at or not, goes through the WWW-Authenticate grammar oracle.
  oracleEveryReply(app, t)
  await app.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: AUDIENCE, env: {}, ...options })
  app.get('/public', async () => ({ message: 'public' }))
  app.get('/private', { preHandler: app.requireAuth() }, async (request) => ({ sub: request.claims.sub, scheme: request.auth?.scheme }))
  app.get('/messages', { preHandler: app.requireAuth('read:messages') }, async (request) => ({ sub: request.claims.sub }))
  app.get('/optional', { preHandler: app.requireAuth({ optional: true }) }, async (request) => ({ claims: request.claims ?? null }))
  await app.ready()
  t.teardown(async () => {
    await app.close()
    await issuer.close()
  })
  return {
    app,
    issuer,
    bearer: async (claims) => ({ authorization: `Bearer ${await issuer.token(claims)}` })
  }
}
