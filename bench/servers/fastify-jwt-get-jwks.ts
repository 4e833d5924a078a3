/**
 * @fastify/jwt with get-jwks, as get-jwks's README wires it, in its secure form: the issuer
 * allow-listed before any fetch, `iss` and `aud` pinned, RS256 only.
 */
import Fastify, { type FastifyRequest } from 'fastify'
import fastifyJwt, { type TokenOrHeader } from '@fastify/jwt'
import buildGetJwks from 'get-jwks'
import { announce, readServerEnv } from './common.js'

const env = readServerEnv()
const getJwks = buildGetJwks({ issuersWhitelist: [env.issuer], providerDiscovery: false })
const app = Fastify({ logger: false })
await app.register(fastifyJwt, {
  decode: { complete: true },
  secret: async (_request: FastifyRequest, token: TokenOrHeader) => {
    const { header, payload } = token as { header: { kid?: string, alg?: string }, payload: { iss?: string } }
    return await getJwks.getPublicKey({ kid: header.kid, alg: header.alg, domain: payload.iss })
  },
  verify: { allowedIss: env.issuer, allowedAud: env.audience, algorithms: ['RS256'] }
})
app.get('/protected', {
  onRequest: async (req) => { await req.jwtVerify() }
}, async (req) => ({ sub: (req.user as { sub?: string }).sub }))
await app.listen({ host: '127.0.0.1', port: env.port })
announce(app.server)
