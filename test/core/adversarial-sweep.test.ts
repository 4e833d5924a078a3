/**
 * Adversarial input sweep: every combination of malformed credentials, wrongly typed JWS members,
 * broken DPoP proofs, Host injections and hostile proxy headers, JWE headers and contents, HMAC and
 * asymmetric tokens sent to the other kind of verifier, token sources (query, form body and cookie
 * in every combination, repeated, oversize, oddly spelled, in other media types, on every method)
 * and client-certificate headers (malformed, huge, badly URL-encoded, repeated, from an untrusted
 * peer), must get a well-formed 4xx (or the 200 it deserves), never a 500, never a body of another
 * shape, never the token echoed.
 */
import t from 'tap'
import Fastify from 'fastify'
import auth0Plugin from '../../lib/index.js'
import { createPublicKey, X509Certificate, type JsonWebKey } from 'node:crypto'
import formbody from '@fastify/formbody'
import { createTestIssuer, decryptionKeyPair, dpopKey, proof } from '../../lib/testing/index.js'
import { checkRefusal } from '../helpers/www-authenticate.js'
import { produceJwe } from '../fixtures/jwe-producer.js'
import { expectGrammar } from '../helpers/expect.js'
import { signHmac, signRaw } from '../helpers/jws.js'
import { makeCertificate } from '../helpers/certificates.js'
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

/** One reply judged as the first sweep does, and by the challenge grammar oracle (RFC 6750 §3 characters). */
function judge (r: { statusCode: number, body: string, headers: Record<string, unknown> }, what: string, bad: string[], secrets: string[]): void {
  let shapeOk = r.statusCode === 200
  if (!shapeOk) { try { const b = JSON.parse(r.body); shapeOk = Object.keys(b).join() === 'detail' && Object.keys(b.detail).join() === 'error,error_description' && /^[a-z_]+$/.test(b.detail.error) } catch {} }
  if (r.statusCode >= 500 || !shapeOk) bad.push(`${r.statusCode} ${what.slice(0, 150)} ${r.body.slice(0, 150)}`)
  expectGrammar({ ok: (value: unknown, message?: string) => { if (value !== true) bad.push(`grammar: ${what.slice(0, 100)} ${message ?? ''}`); return value === true } } as never, r)
  for (const secret of secrets) if (r.body.includes(secret) || String(r.headers['www-authenticate'] ?? '').includes(secret)) bad.push(`echoed: ${what.slice(0, 100)}`)
}

t.test('JWE headers and contents: never a 500, every challenge well-formed', async (t) => {
  const issuer = await createTestIssuer()
  const app = Fastify()
  t.teardown(async () => { await app.close(); await issuer.close() })
  const pair = decryptionKeyPair()
  const named = decryptionKeyPair()
  await app.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: 'https://api.example.com/', env: {}, decryption: { keys: [{ privateKey: pair.privateKey }, { privateKey: named.privateKey, kid: 'k1' }], encryption: ['A256GCM', 'A128CBC-HS256'] } })
  app.get('/p', { preHandler: app.requireAuth() }, async () => ({ ok: 1 }))
  const b64 = (o: unknown): string => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64url')
  const inner = await issuer.token()
  const real = produceJwe(inner, pair.publicKey).split('.')
  const rests = [real.slice(1).join('.'), ['', ...real.slice(2)].join('.'), 'a.b.c.d', `${real[1] as string}.${real[2] as string}..${real[4] as string}`, 'AAAA.AAAA.AAAA.AAAA']
  const algs: unknown[] = ['RSA-OAEP-256', 'RSA-OAEP-512', 'dir', 'RSA1_5', 'RSA-OAEP', 'PBES2-HS256+A128KW', 'A256KW', 'A128GCMKW', 'ECDH-ES', 'ECDH-ES+A256KW', 'none', '', 5, null, ['RSA-OAEP-256'], {}, undefined, '__proto__']
  const encs: unknown[] = ['A256GCM', 'A128CBC-HS256', 'A128GCM', '', 5, undefined, 'constructor']
  const extras: Array<Record<string, unknown>> = [{}, { zip: 'DEF' }, { crit: ['exp'] }, { crit: [] }, { cty: 'JWT' }, { cty: 'json' }, { cty: 5 }, { kid: 'k1' }, { kid: 'nope' }, { kid: 5 }, { kid: '__proto__' }, { p2c: 1e12, p2s: 'AAAA' }, { epk: { kty: 'EC' } }, { jku: 'http://127.0.0.1:1/' }]
  const tokens: string[] = []
  for (const alg of algs) for (const enc of encs) for (const extra of extras) tokens.push(`${b64({ alg, enc, ...extra })}.${rests[tokens.length % rests.length] as string}`)
  tokens.push(`${b64('null')}.${rests[0] as string}`, `${b64([1])}.${rests[0] as string}`, `e30x.${rests[0] as string}`, `${Buffer.from([0xff]).toString('base64url')}.${rests[0] as string}`)
  // Real encryptions of hostile contents: what matters is the signed token inside.
  const claims = { iss: issuer.issuer, aud: 'https://api.example.com/', sub: 'x', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 60 }
  for (const content of [JSON.stringify(claims), `${b64({ alg: 'none' })}.${b64(claims)}.`, `${b64({ alg: 'none' })}.${b64(claims)}.c2ln`, `${b64({ alg: 'HS256' })}.${b64(claims)}.c2ln`,
    'a.b.c.d.e', 'x', '', '...', inner + inner, produceJwe(inner, pair.publicKey), `${b64({ alg: 'RS256', crit: ['x'] })}.${b64(claims)}.c2ln`]) {
    for (const options of [{}, { enc: 'A128CBC-HS256' }, { header: { kid: 'k1' } }, { alg: 'RSA1_5' }]) tokens.push(produceJwe(content, pair.publicKey, options))
  }
  tokens.push(produceJwe(inner, named.publicKey, { header: { kid: 'k1' } }), produceJwe(inner, named.publicKey))
  let n = 0
  const bad: string[] = []
  for (const token of tokens) {
    for (const authorization of [`Bearer ${token}`, `DPoP ${token}`]) {
      const r = await app.inject({ url: '/p', headers: { authorization } })
      n++
      judge(r, authorization, bad, [token.slice(-20), inner.slice(-20)])
    }
  }
  t.ok(n > 3000, `${n} requests sent`)
  t.same(bad, [], 'no 500, no odd body, no bad challenge, no echoed token')
  t.equal((await app.inject({ url: '/p', headers: { authorization: `Bearer ${produceJwe(inner, named.publicKey, { header: { kid: 'k1' } })}` } })).statusCode, 200, 'a real one passes')
})

t.test('HMAC verifier against asymmetric, unsigned and mis-keyed tokens (and the reverse): never a 500', async (t) => {
  const hs = await createTestIssuer({ alg: 'HS256' })
  const rs = await createTestIssuer()
  const hmacApp = Fastify()
  const rsaApp = Fastify()
  t.teardown(async () => { await hmacApp.close(); await rsaApp.close(); await hs.close(); await rs.close() })
  const pair = decryptionKeyPair()
  await hmacApp.register(auth0Plugin, { issuerBaseURL: hs.issuerBaseURL, audience: 'https://api.example.com/', env: {}, secret: hs.secret, algorithms: ['HS256', 'HS512'], decryption: { keys: [{ privateKey: pair.privateKey }] } })
  await rsaApp.register(auth0Plugin, { issuerBaseURL: rs.issuerBaseURL, audience: 'https://api.example.com/', env: {} })
  for (const app of [hmacApp, rsaApp]) app.get('/p', { preHandler: app.requireAuth() }, async () => ({ ok: 1 }))
  const pem = createPublicKey({ key: rs.currentKey.publicJwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string
  const keys: Array<string | Buffer> = [hs.secret as string, pem, JSON.stringify(rs.currentKey.publicJwk), '', 'x', Buffer.alloc(64)]
  const tokens: string[] = []
  for (const iss of [hs.issuer, rs.issuer]) {
    const claims = { iss, aud: 'https://api.example.com/', sub: 'x', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 60 }
    for (const alg of ['HS256', 'HS384', 'HS512', 'RS256', 'ES256', 'none', 'hs256', 'HS1']) {
      for (const kid of [undefined, rs.currentKey.kid, 5, '']) {
        for (const key of keys) tokens.push(signHmac({ alg, ...(kid !== undefined ? { kid } : {}) }, claims, key))
      }
    }
    tokens.push(await rs.token({ iss }), await signRaw({ alg: 'ES256' }, claims, (await rs.foreignKey('ES256')).privateKey, 'ES256'))
  }
  tokens.push(await hs.token(), await rs.token(), await hs.token({}, { encrypt: { publicKey: pair.publicKey } }), await rs.token({ iss: hs.issuer }, { encrypt: { publicKey: pair.publicKey } }))
  let n = 0
  let accepted = 0
  const bad: string[] = []
  for (const token of tokens) {
    for (const app of [hmacApp, rsaApp]) {
      const r = await app.inject({ url: '/p', headers: { authorization: `Bearer ${token}` } })
      n++
      if (r.statusCode === 200) accepted++
      judge(r, token, bad, [token.slice(-20)])
    }
  }
  t.ok(n > 700, `${n} requests sent`)
  t.same(bad, [], 'no 500, no odd body, no bad challenge, no echoed token')
  // Exactly the honest ones. HMAC app: HS256 MACed with the secret, naming its issuer, with each of
  // the 4 kid variants (a kid names nothing there), 4 (signHmac MACs with SHA-256 whatever the
  // header says, so its "HS512" tokens are forgeries); hs.token(), plain and encrypted, 2. RSA app:
  // the issuer's own tokens, 2. Nothing else, from either side.
  t.equal(accepted, 8, 'only tokens MACed with the secret (HMAC app) or signed by the issuer (RSA app) pass')
})

/**
 * Fastify's own refusals of a body it cannot parse (415 unsupported or invalid media type, 400 bad
 * form, 413 too large) are answered before any hook runs, in Fastify's shape: not ours to judge,
 * but counted, and never a 5xx.
 */
function fastifyBodyRefusal (r: { statusCode: number, body: string }): boolean {
  if (r.statusCode !== 400 && r.statusCode !== 413 && r.statusCode !== 415) return false
  try { return /^FST_ERR_CTP_/.test((JSON.parse(r.body) as { code?: string }).code ?? '') } catch { return false }
}

t.test('token sources: query, body and cookie combinations, repeats, odd syntax, other media types, huge values', async (t) => {
  const issuer = await createTestIssuer()
  const app = Fastify()
  t.teardown(async () => { await app.close(); await issuer.close() })
  await app.register(formbody)
  await app.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: 'https://api.example.com/', env: {}, tokenSources: ['header', 'query', 'body', { cookie: 'at' }] })
  const methods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE'] as const
  app.route({ method: [...methods], url: '/p', preHandler: app.requireAuth(), handler: async (request) => ({ source: request.auth?.source ?? 'header' }) })
  const good = await issuer.token()
  const secrets = [good.slice(-20)]
  const huge = 'A'.repeat(70_000)
  const queries = ['', `?access_token=${good}`, `?access_token=${good}&access_token=${good}`, `?access_token=${good}&access_token=`, `?access%5Ftoken=${good}`,
    `?access_token=${huge}`, '?access_token=%', '?access_token=%E0%A4%A', '?access_token=%00', `?access_token[]=${good}`, '?access_token=a+b', '?access_token=a%20b',
    `?access_token=${good}#x`, '?&&&access_token&&', '?access_token', '?access_token=', '?__proto__=1&constructor=2', `?ACCESS_TOKEN=${good}`, `?access_token=${good}%0A`,
    `?access_token="${good}"`, `?a=${huge}`, '?' + 'access_token=x&'.repeat(2000)]
  const cookies: Array<string | string[] | undefined> = [undefined, `at=${good}`, `at=${good}; at=${good}`, `at="${good}"`, 'at', '=at', 'at=;', ';;;', `at=${huge}`,
    ` at = ${good} `, 'at=%20', ['at=a', 'at=b'], [`at=${good}`], `AT=${good}`, `xat=${good}; atx=${good}`, 'at=a=b', 'at="', 'at=""', 'at=\u00ff\u00fe', `at=${good};`,
    `x=1; at=${good}; y="2"`, 'at=a,b', `a=${huge}`, '\u0000at=x']
  const form = (fields: string): { payload: string, headers: Record<string, string> } => ({ payload: fields, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  const bodies: Array<{ payload?: string, headers: Record<string, string> } | undefined> = [undefined, form(`access_token=${good}`), form(`access_token=${good}&access_token=${good}`),
    form(`access_token[]=${good}`), form(''), form('access_token='), form(`access_token=${huge}`), form('access_token=%'), form(`a=1&access_token=${good}&b`),
    form(`access%5Ftoken=${good}`), form('__proto__=x&access_token=1'), form('x'.repeat(200_000)),
    { payload: `access_token=${good}`, headers: { 'content-type': 'APPLICATION/X-WWW-FORM-URLENCODED; charset=latin1' } },
    { payload: `access_token=${good}`, headers: { 'content-type': 'application/x-www-form-urlencoded, text/plain' } },
    { payload: `access_token=${good}`, headers: { 'content-type': 'text/plain' } },
    { payload: JSON.stringify({ access_token: good }), headers: { 'content-type': 'application/json' } },
    { payload: JSON.stringify([good]), headers: { 'content-type': 'application/json' } },
    { payload: `--b\r\ncontent-disposition: form-data; name="access_token"\r\n\r\n${good}\r\n--b--`, headers: { 'content-type': 'multipart/form-data; boundary=b' } },
    { payload: `access_token=${good}`, headers: { 'content-type': 'application/x-www-form-urlencoded-evil' } },
    { payload: `access_token=${good}`, headers: { 'content-type': ';' } },
    { headers: { 'content-type': 'application/x-www-form-urlencoded' } },
    { headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '0' } }]
  const authorizations = [undefined, `Bearer ${good}`, 'Basic dXNlcjpwYXNz', 'Bearer a b', `DPoP ${good}`]
  let n = 0
  let accepted = 0
  let fastifyOwn = 0
  const bad: string[] = []
  const send = async (method: typeof methods[number], query: string, cookie: string | string[] | undefined, body: typeof bodies[number], authorization: string | undefined, twice = false): Promise<void> => {
    const headers: Record<string, string | string[]> = { ...body?.headers }
    if (cookie !== undefined) headers.cookie = cookie
    if (authorization !== undefined) headers.authorization = authorization
    const r = await app.inject({ method, url: `/p${query}`, headers, ...(body?.payload !== undefined ? { payload: body.payload } : {}) })
    n++
    if (r.statusCode === 200) accepted++
    const what = `${method} ${query.slice(0, 60)} cookie=${String(cookie).slice(0, 40)} ${JSON.stringify(body?.headers ?? {})} ${String(body?.payload).slice(0, 30)} ${String(authorization).slice(0, 20)}`
    if (fastifyBodyRefusal(r)) { fastifyOwn++; return }
    // The token by two methods (RFC 6750 §2): a 400, whatever else the request holds.
    if (twice && r.statusCode !== 400) bad.push(`two methods not refused: ${r.statusCode} ${what}`)
    // HEAD replies have no body: only the status and the challenge are judged.
    if (method === 'HEAD') { if (r.statusCode >= 500) bad.push(`${r.statusCode} ${what}`); expectGrammar({ ok: (v: unknown, m?: string) => { if (v !== true) bad.push(`grammar: ${what} ${m ?? ''}`); return v === true } } as never, { statusCode: r.statusCode, headers: r.headers }); return }
    judge(r, what, bad, secrets)
  }
  // Every query × cookie × body once, the method and the Authorization header in rotation.
  let i = 0
  for (const query of queries) for (const cookie of cookies) for (const body of bodies) {
    await send(methods[i % methods.length] as typeof methods[number], query, cookie, body, authorizations[Math.floor(i / methods.length) % authorizations.length])
    i++
  }
  // Every method × body × Authorization header with each single source.
  for (const method of methods) for (const body of bodies) for (const authorization of authorizations) {
    for (const [query, cookie] of [['', undefined], [`?access_token=${good}`, undefined], ['', `at=${good}`]] as const) {
      await send(method, query, cookie, body, authorization, authorization === `Bearer ${good}` && (query !== '' || cookie !== undefined))
    }
  }
  t.ok(n > 12000, `${n} requests sent`)
  t.ok(accepted > 100, `${accepted} accepted`)
  t.ok(fastifyOwn > 0, `${fastifyOwn} refused by Fastify's body parsing before any hook`)
  t.same(bad, [], 'no 500, no odd body, no bad challenge, no echoed token')
})

t.test('certificate headers: malformed, huge, broken URL-encoding, repeated, from an untrusted peer', async (t) => {
  const issuer = await createTestIssuer()
  const app = Fastify({ trustProxy: '127.0.0.1' })
  t.teardown(async () => { await app.close(); await issuer.close() })
  await app.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: 'https://api.example.com/', env: {}, mtls: { header: 'x-client-cert' }, tokenSources: ['header', 'query'] })
  app.get('/p', { preHandler: app.requireAuth() }, async (request) => ({ x5t: request.auth?.x5t }))
  const alice = await makeCertificate('alice')
  const bob = await makeCertificate('bob')
  const bound = await issuer.token({ cnf: { 'x5t#S256': alice.thumbprint } })
  const plain = await issuer.token()
  const both = await issuer.token({ cnf: { 'x5t#S256': alice.thumbprint, jkt: 'x'.repeat(43) } })
  const oddCnf = [await issuer.token({ cnf: { 'x5t#S256': 5 } }), await issuer.token({ cnf: { 'x5t#S256': '' } }), await issuer.token({ cnf: 'x' }), await issuer.token({ cnf: { 'x5t#S256': [alice.thumbprint] } })]
  const der = new X509Certificate(alice.cert).raw
  const body = alice.cert.replace(/-----[A-Z ]+-----|\s/g, '')
  const values: Array<string | string[] | undefined> = [undefined, alice.escaped, bob.escaped, '', ' ', 'null', '%', '%ZZ', '%E0%A4%A', alice.escaped.slice(0, -3),
    alice.escaped + '%', encodeURIComponent(alice.escaped), alice.escaped.replace(/%2B/g, '+'), alice.escaped.replace(/%0A/g, ''), alice.cert.replace(/\n/g, ' '),
    encodeURIComponent(alice.cert + bob.cert), [alice.escaped, bob.escaped], [alice.escaped, alice.escaped], `${alice.escaped},${alice.escaped}`,
    encodeURIComponent(`-----BEGIN CERTIFICATE-----\n${'A'.repeat(1_000_000)}\n-----END CERTIFICATE-----`), encodeURIComponent('-----BEGIN CERTIFICATE-----\n' + ' '.repeat(100_000)),
    '%'.repeat(100_000), encodeURIComponent(`-----BEGIN CERTIFICATE-----\n${body}=\n-----END CERTIFICATE-----`), encodeURIComponent(`-----BEGIN CERTIFICATE-----\n${body.slice(1)}\n-----END CERTIFICATE-----`),
    body, der.toString('base64'), der.toString('base64url'), encodeURIComponent(`-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----`),
    encodeURIComponent(alice.key), encodeURIComponent(`-----BEGIN CERTIFICATE-----\n${'\u00e9'.repeat(10)}\n-----END CERTIFICATE-----`), '%C0%80', '%ED%A0%80', '%00',
    encodeURIComponent('-----BEGIN CERTIFICATE-----\n' + '-----END CERTIFICATE-----\n'.repeat(5000))]
  let n = 0
  let accepted = 0
  const bad: string[] = []
  for (const value of values) {
    for (const remoteAddress of ['127.0.0.1', '203.0.113.9']) {
      for (const [how, token] of [['header', bound], ['header', plain], ['header', both], ['query', bound], ['header', oddCnf[n % oddCnf.length] as string]] as const) {
        const headers: Record<string, string | string[]> = how === 'header' ? { authorization: `Bearer ${token}` } : {}
        if (value !== undefined) headers['x-client-cert'] = value
        for (const forwarded of [undefined, '198.51.100.1, 127.0.0.1']) {
          const r = await app.inject({ url: how === 'query' ? `/p?access_token=${token}` : '/p', remoteAddress, headers: { ...headers, ...(forwarded !== undefined ? { 'x-forwarded-for': forwarded } : {}) } })
          n++
          if (r.statusCode === 200) {
            accepted++
            // A bound token passes only with alice's certificate, read from the trusted peer.
            if (token === bound && !(remoteAddress === '127.0.0.1' && r.json().x5t === alice.thumbprint)) bad.push(`accepted without the certificate: ${remoteAddress} ${String(value).slice(0, 60)}`)
          }
          judge(r, `${remoteAddress} ${how} ${String(value).slice(0, 80)}`, bad, [token.slice(-20), body.slice(20, 60)])
        }
      }
    }
  }
  t.ok(n > 600, `${n} requests sent`)
  t.ok(accepted > 100, `${accepted} accepted`)
  t.same(bad, [], 'no 500, no odd body, no bad challenge, no echoed token or certificate')
  // The untrusted peer's header is ignored: the bound token is refused as sent with no certificate.
  const r = await app.inject({ url: '/p', remoteAddress: '203.0.113.9', headers: { authorization: `Bearer ${bound}`, 'x-client-cert': alice.escaped } })
  t.equal(r.statusCode, 401)
  t.equal(r.json().detail.error_description, 'certificate-bound token sent without a client certificate')
})
