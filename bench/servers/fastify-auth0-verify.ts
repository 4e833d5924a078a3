/** fastify-auth0-verify: @fastify/jwt + fastify-jwt-jwks, issuer and audience pinned. */
import Fastify from 'fastify'
import auth0Verify from 'fastify-auth0-verify'
import { announce, readServerEnv } from './common.js'

const env = readServerEnv()
const app = Fastify({ logger: false })
await app.register(auth0Verify, { domain: env.issuer, issuer: env.issuer, audience: env.audience })
const authenticate = (app as unknown as { authenticate: (req: unknown, reply: unknown) => Promise<void> }).authenticate
app.get('/protected', { onRequest: authenticate }, async (req) => ({ sub: (req.user as { sub?: string }).sub }))
await app.listen({ host: '127.0.0.1', port: env.port })
announce(app.server)
