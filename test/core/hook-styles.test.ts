/**
 * The hook `requireAuth` returns is a Fastify callback-style hook (no promise when the answer is
 * ready at once), and also works awaited by hand with two arguments (inside an app's own async
 * hook), and as an `onRequest` hook. Each way must authenticate, refuse and reply identically.
 */
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import t from 'tap'
import auth0Plugin from '../../lib/index.js'
import { createTestIssuer } from '../../lib/testing/index.js'
import { AUDIENCE } from '../helpers/app.js'

t.test('preHandler, onRequest and awaited by hand: same replies, cold and warm', async (t) => {
  const issuer = await createTestIssuer()
  const app = Fastify()
  await app.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: AUDIENCE, env: {} })
  const echo = async (request: FastifyRequest): Promise<unknown> => ({ sub: request.claims.sub })
  app.get('/pre', { preHandler: app.requireAuth('read:messages') }, echo)
  app.get('/on-request', { onRequest: app.requireAuth('read:messages') }, echo)
  const byHand = app.requireAuth('read:messages')
  let handCalls = 0
  app.get('/by-hand', {
    preHandler: async function (request: FastifyRequest, reply: FastifyReply) {
      handCalls++
      const settled = byHand.call(this, request, reply)
      t.ok(settled instanceof Promise, 'called with two arguments, it returns a promise')
      await settled
    }
  }, echo)
  await app.ready()
  t.teardown(async () => {
    await app.close()
    await issuer.close()
  })

  const good = `Bearer ${await issuer.token({ scope: 'read:messages' })}`
  const unscoped = `Bearer ${await issuer.token()}`
  const cases: Array<[string, string | undefined, number]> = [
    // The first request of each kind fetches keys (the asynchronous path); later ones do not.
    ['cold, valid', good, 200],
    ['warm, valid', good, 200],
    ['warm, valid again (cached token)', good, 200],
    ['no credentials', undefined, 401],
    ['insufficient scope', unscoped, 403],
    ['malformed header', 'Bearer a b', 400]
  ]
  for (const path of ['/pre', '/on-request', '/by-hand']) {
    for (const [name, authorization, status] of cases) {
      const res = await app.inject({ url: path, headers: authorization === undefined ? {} : { authorization } })
      t.equal(res.statusCode, status, `${path}: ${name}`)
      if (status === 200) t.same(res.json(), { sub: 'test-user' })
      else t.type(res.json().detail.error, 'string')
    }
  }
  t.equal(handCalls, cases.length)
})
