/**
 * examples/mtls over real TLS: certificates made by openssl for this run, undici clients with and
 * without the certificate a token is bound to.
 */
import { createTestIssuer } from 'fastify-auth0-api/testing'
import t from 'tap'
import { Agent, request } from 'undici'
import { buildMtlsApi } from '../../examples/mtls/index.js'
import { makeCertificate } from '../helpers/certificates.js'

t.test('a certificate-bound token works on its certificate only; an unbound one anywhere', async (t) => {
  const [server, alice, bob] = await Promise.all([makeCertificate('api.test', { server: true }), makeCertificate('alice'), makeCertificate('bob')])
  const issuer = await createTestIssuer()
  const app = await buildMtlsApi(server, { issuerBaseURL: issuer.issuerBaseURL, audience: 'https://api.example.com/', env: {} })
  t.teardown(async () => { await app.close(); await issuer.close() })
  const base = await app.listen({ port: 0, host: '127.0.0.1' })
  const agents = [alice, bob, undefined].map((c) => new Agent({ connect: { ca: server.cert, ...(c !== undefined ? { cert: c.cert, key: c.key } : {}) } }))
  t.teardown(async () => { await Promise.all(agents.map(async (a) => { await a.close() })) })
  const [asAlice, asBob, anonymous] = agents as [Agent, Agent, Agent]
  const call = async (dispatcher: Agent, token: string): Promise<[number, unknown]> => {
    const res = await request(`${base}/api/private`, { dispatcher, headers: { authorization: `Bearer ${token}` } })
    return [res.statusCode, await res.body.json()]
  }
  const bound = await issuer.token({ sub: 'auth0|alice', cnf: { 'x5t#S256': alice.thumbprint } })
  t.same(await call(asAlice, bound), [200, { user: 'auth0|alice', certificate: alice.thumbprint }])
  t.same(await call(asBob, bound), [401, { detail: { error: 'invalid_token', error_description: 'client certificate does not match the token binding (x5t#S256)' } }])
  t.same(await call(anonymous, bound), [401, { detail: { error: 'invalid_token', error_description: 'certificate-bound token sent without a client certificate' } }])
  const plain = await issuer.token({ sub: 'auth0|bob' })
  t.same(await call(anonymous, plain), [200, { user: 'auth0|bob', certificate: null }])
})
