// An application's test in plain JavaScript with node:test (no tap): the testing kit needs no
// particular runner. Vitest and Jest (ESM mode) use the same calls. Run by testing-kit.test.ts.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import Fastify from 'fastify'
import auth0Plugin from 'fastify-auth0-api'
import { createTestIssuer } from 'fastify-auth0-api/testing'

let issuer
let app

before(async () => {
  issuer = await createTestIssuer()
  app = Fastify()
  await app.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: 'https://api.example.com/', env: {} })
  app.get('/api/messages', { preHandler: app.requireAuth('read:messages') }, async (request) => ({ user: request.claims.sub }))
})

after(async () => {
  await app.close()
  await issuer.close()
})

test('a token with the scope gets through', async () => {
  const res = await app.inject({ url: '/api/messages', headers: { authorization: `Bearer ${await issuer.token({ scope: 'read:messages' })}` } })
  assert.equal(res.statusCode, 200)
  assert.deepEqual(res.json(), { user: 'test-user' })
})

test('a token without it is refused with 403', async () => {
  const res = await app.inject({ url: '/api/messages', headers: { authorization: `Bearer ${await issuer.token()}` } })
  assert.equal(res.statusCode, 403)
  assert.match(res.headers['www-authenticate'], /scope="read:messages"/)
})
