/**
 * Adversarial input sweep: every combination of malformed credentials, wrongly typed JWS members,
 * broken DPoP proofs, Host injections and hostile proxy headers must get a well-formed 4xx (or the
 * 200 it deserves), never a 500, never a body of another shape, never the token echoed.
 */
import t from 'tap'
import Fastify from 'fastify'
import auth0Plugin from '../../lib/index.js'
import { createTestIssuer, dpopKey, proof } from '../../lib/testing/index.js'
import { checkRefusal } from '../helpers/www-authenticate.js'
t.test('no client input reaches a 500 or an unexpected reply', async (t) => {
  const issuer = await createTestIssuer()
  const app = Fastify({ trustProxy: true })
  t.teardown(async () => { await app.close(); await issuer.close() })
  await app.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: 'https://api.example.com/', env: {}, dpop: { nonce: true } })
  app.get('/p', { preHandler: app.requireAuth({ scopes: ['a'], match: 'any', claim: 'permissions' }) }, async () => ({ ok: 1 }))
  const good = await issuer.token({ permissions: ['a'] })
  const key = await dpopKey()
  const bound = await issuer.token({ permissions: ['a'] }, { dpopKey: key })
  const seg = good.split('.')
  const b64 = (o: unknown) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64url')
  const weird = ['', ' ', 'Bearer', 'Bearer ', 'bearer x.y.z', 'Bearer ' + 'a'.repeat(20000), 'DPoP ' + bound, 'Bearer \u0000', 'Bearer a,b',
    `Bearer ${b64({ alg: 'RS256' })}.${b64([])}.${seg[2]}`, `Bearer ${b64({ alg: 'RS256', kid: {} })}.${seg[1]}.${seg[2]}`,
    `Bearer ${b64({ alg: 'RS256', kid: 'x', crit: 5 })}.${seg[1]}.${seg[2]}`, `Bearer ${b64({ alg: ['RS256'] })}.${seg[1]}.${seg[2]}`,
    `Bearer ${b64({ alg: 'RS256', b64: false, crit: ['b64'] })}.${seg[1]}.${seg[2]}`, `Bearer ${b64('null')}.${seg[1]}.${seg[2]}`,
    `Bearer ${seg[0]}.${b64({ iss: issuer.issuer, aud: 5, exp: 'x', iat: {}, sub: [] })}.${seg[2]}`, `Bearer ${seg[0]}.${b64({ iss: issuer.issuer, permissions: 'a' })}.${seg[2]}`,
    `Bearer ${seg[0]}.${b64({ iss: [issuer.issuer] })}.${seg[2]}`, `Bearer ${seg[0]}.${b64('\ud800')}.${seg[2]}`, `Bearer ${good}`, `DPoP ${good}`]
  const url = 'http://localhost:80/p'
  const dpops: Array<string | string[] | undefined> = [undefined, 'x', 'a.b.c', await proof({ key, url, accessToken: bound }), await proof({ key, url, accessToken: bound, header: { jwk: { kty: 'EC' } } }),
    await proof({ key, url, accessToken: bound, header: { jwk: 5 } }), await proof({ key, url, accessToken: bound, claims: { htu: 5, htm: [], iat: 'x', jti: {} } }),
    await proof({ key, url, accessToken: bound, header: { typ: 5 } }), await proof({ key, url, accessToken: bound, claims: { nonce: {} } }), ['a', 'b']]
  const hosts = [undefined, 'localhost', 'evil.com/admin?', '[::1]:99999', 'a b', '', 'xn--', '%00']
  let n = 0; const bad: string[] = []
  for (const authorization of weird) for (const dpop of dpops) for (const host of hosts) for (const xf of [undefined, { 'x-forwarded-host': 'a/b', 'x-forwarded-proto': 'javascript', 'x-forwarded-prefix': '/%2e%2e' }]) {
    const headers: Record<string, string | string[]> = { authorization }
    if (dpop !== undefined) headers.dpop = dpop
    if (host !== undefined) headers.host = host
    Object.assign(headers, xf ?? {})
    const r = await app.inject({ url: '/p', headers })
    n++
    let shapeOk = r.statusCode === 200
    if (!shapeOk) { try { const b = JSON.parse(r.body); shapeOk = Object.keys(b).join() === 'detail' && Object.keys(b.detail).join() === 'error,error_description' && /^[a-z_]+$/.test(b.detail.error) } catch {} }
    if (r.statusCode >= 500 || !shapeOk) bad.push(`${r.statusCode} ${JSON.stringify(headers).slice(0, 150)} ${r.body.slice(0, 150)}`)
    if (r.body.includes(seg[2]!.slice(0, 20))) bad.push('token echoed')
    // Every reply through the WWW-Authenticate grammar oracle (status, header, body agree).
    let body: unknown
    try { body = JSON.parse(r.body) } catch {}
    try { checkRefusal({ statusCode: r.statusCode, headers: r.headers, body }) } catch (err) { bad.push(`oracle: ${(err as Error).message}`) }
  }
  t.ok(n > 3000, `${n} requests sent`)
    t.same(bad, [], 'no 500, no odd body, no echoed token, no challenge outside its grammar')
})
