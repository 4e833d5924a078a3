/**
 * Proves the interop fixtures themselves: a real oidc-provider issues the tokens, a real
 * oauth4webapi client fetches and presents them, and a bare node:http server on loopback shows
 * exactly what arrives. No plugin code is involved here.
 */
import { createHash } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import {
  calculateJwkThumbprint,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  EmbeddedJWK,
  jwtVerify,
  type JWTPayload
} from 'jose'
import * as oauth from 'oauth4webapi'
import { startAuthorizationServer } from '../fixtures/authorization-server.js'
import { callProtected, clientCredentialsToken, discover, dpopHandle } from '../fixtures/oauth-client.js'

const audience = 'https://api.example.com/'

interface Seen { method: string, url: string, headers: IncomingHttpHeaders }

/** A bare resource server: records each request and lets the test answer it. */
async function startResourceServer (answer: (req: IncomingMessage, res: ServerResponse, n: number) => void): Promise<{ origin: string, seen: Seen[], close: () => Promise<void> }> {
  const seen: Seen[] = []
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers })
    answer(req, res, seen.length)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    async close () {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

function json (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
}

const sha256 = (value: string): string => createHash('sha256').update(value).digest('base64url')

const as = await startAuthorizationServer({ audience: [audience, 'https://other.example.com/'], scopes: ['read:messages', 'write:messages'] })
t.teardown(async () => await as.close())
const metadata = await discover(as.issuer)
const jwks = createRemoteJWKSet(new URL(metadata.jwks_uri ?? ''))

const rs = await startResourceServer((req, res) => json(res, 200, { ok: true, method: req.method }))
t.teardown(async () => await rs.close())

t.test('oidc-provider 9 runs on this Node and stays quiet', async (t) => {
  t.ok(process.versions.node, `node ${process.versions.node}`)
  t.same(as.serverErrors, [])
})

t.test('discovery', async (t) => {
  t.match(as.issuer, /^http:\/\/127\.0\.0\.1:\d+$/, 'issuer has no trailing slash by default')
  // Raw document, to see the issuer string exactly as served (oauth4webapi compares URLs loosely).
  const raw = await (await fetch(as.discoveryUrl)).json() as Record<string, unknown>
  t.equal(raw.issuer, as.issuer, 'discovery issuer is the exact string, no slash added')
  t.equal(metadata.issuer, as.issuer)
  t.equal(metadata.jwks_uri, `${as.issuer}/jwks`)
  t.equal(metadata.token_endpoint, `${as.issuer}/token`)
  t.ok(metadata.grant_types_supported?.includes('client_credentials'))
  t.ok(metadata.dpop_signing_alg_values_supported?.includes('ES256'))

  const keys = (await (await fetch(metadata.jwks_uri ?? '')).json() as { keys: Array<Record<string, unknown>> }).keys
  t.equal(keys.length, 1, 'only our key is published')
  t.match(keys[0], { kty: 'RSA', alg: 'RS256', use: 'sig', kid: as.signingKey.kid })
  t.notOk('d' in (keys[0] ?? {}), 'no private member in the JWKS')
})

t.test('trailing-slash issuer (Auth0 style)', async (t) => {
  const slash = await startAuthorizationServer({ audience, trailingSlash: true })
  t.teardown(async () => await slash.close())
  t.match(slash.issuer, /^http:\/\/127\.0\.0\.1:\d+\/$/)
  const raw = await (await fetch(slash.discoveryUrl)).json() as Record<string, unknown>
  t.equal(raw.issuer, slash.issuer, 'discovery keeps the slash')
  t.equal(raw.jwks_uri, `${slash.issuer}jwks`, 'endpoints have no doubled slash')
  const meta = await discover(slash.issuer)
  const { accessToken } = await clientCredentialsToken({ as: meta, clientId: slash.clientId, clientSecret: slash.clientSecret, resource: audience })
  t.equal(decodeJwt(accessToken).iss, slash.issuer, 'iss keeps the slash')
})

t.test('client_credentials + resource gives a Bearer JWT access token', async (t) => {
  const token = await clientCredentialsToken({ as: metadata, clientId: as.clientId, clientSecret: as.clientSecret, resource: audience, scope: 'read:messages' })
  t.equal(token.tokenType, 'Bearer')
  t.equal(token.scope, 'read:messages')
  t.equal(token.expiresIn, 600)
  t.equal(token.nonceRetried, false)

  const header = decodeProtectedHeader(token.accessToken)
  t.same(header, { alg: 'RS256', typ: 'at+jwt', kid: as.signingKey.kid }, 'RFC 9068 typ, kid of our key')

  const { payload } = await jwtVerify(token.accessToken, jwks, { issuer: metadata.issuer, audience, typ: 'at+jwt', algorithms: ['RS256'] })
  t.same(Object.keys(payload).sort(), ['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'scope', 'sub'], 'exactly these claims')
  t.equal(payload.iss, metadata.issuer, 'iss is the discovered issuer, byte for byte')
  t.equal(payload.aud, audience, 'aud is a plain string, not an array')
  t.equal(payload.scope, 'read:messages')
  t.equal(payload.sub, as.clientId, 'client_credentials: sub is the client_id')
  t.equal(payload.client_id, as.clientId)
  t.type(payload.jti, 'string')
  t.equal((payload.exp ?? 0) - (payload.iat ?? 0), 600)
  t.ok(Math.abs((payload.iat ?? 0) - Date.now() / 1000) < 5, 'iat is now')
  t.notOk('cnf' in payload, 'unbound token has no cnf')
  t.notOk('nbf' in payload, 'no nbf')
  t.comment(`example header: ${JSON.stringify(header)}`)
  t.comment(`example payload: ${JSON.stringify(payload)}`)
})

t.test('scopes: unknown ones are dropped, none granted means no scope claim', async (t) => {
  const some = await clientCredentialsToken({ as: metadata, clientId: as.clientId, clientSecret: as.clientSecret, resource: audience, scope: 'write:messages delete:everything read:messages' })
  t.equal(decodeJwt(some.accessToken).scope, 'write:messages read:messages', 'request order kept, unknown dropped')
  const none = await clientCredentialsToken({ as: metadata, clientId: as.clientId, clientSecret: as.clientSecret, resource: audience, scope: 'delete:everything' })
  t.notOk('scope' in decodeJwt(none.accessToken), 'no scope claim at all')
  t.equal(none.scope, undefined)
  const other = await clientCredentialsToken({ as: metadata, clientId: as.clientId, clientSecret: as.clientSecret, resource: 'https://other.example.com/', scope: 'read:messages' })
  t.equal(decodeJwt(other.accessToken).aud, 'https://other.example.com/', 'another accepted resource: a token for the wrong API')
})

t.test('resource indicators: unknown resource refused, none gives an opaque token', async (t) => {
  await t.rejects(
    clientCredentialsToken({ as: metadata, clientId: as.clientId, clientSecret: as.clientSecret, resource: 'https://unknown.example.com/' }),
    { name: 'ResponseBodyError', error: 'invalid_target' }
  )
  const opaque = await clientCredentialsToken({ as: metadata, clientId: as.clientId, clientSecret: as.clientSecret })
  t.equal(opaque.accessToken.split('.').length, 1, 'no resource: opaque reference token, not a JWT')
  // oidc-provider answers a failed client_secret_basic with 401 + `WWW-Authenticate: Basic …`,
  // and oauth4webapi checks challenges before the body: a challenge error, not a body error.
  await t.rejects(
    clientCredentialsToken({ as: metadata, clientId: as.clientId, clientSecret: 'wrong', resource: audience }),
    { name: 'WWWAuthenticateChallengeError', status: 401, cause: [{ scheme: 'basic', parameters: { error: 'invalid_client' } }] }
  )
})

t.test('DPoP-bound token: cnf.jkt is the RFC 7638 thumbprint of the proof key', async (t) => {
  const key = await dpopHandle()
  t.equal(key.publicJwk.kty, 'EC')
  t.equal(key.publicJwk.crv, 'P-256')
  t.equal(key.jkt, await calculateJwkThumbprint(key.publicJwk))
  t.equal(key.jkt, await key.handle.calculateThumbprint(), 'oauth4webapi agrees')

  const token = await clientCredentialsToken({ as: metadata, clientId: as.clientId, clientSecret: as.clientSecret, resource: audience, scope: 'read:messages', dpop: key })
  t.equal(token.tokenType, 'DPoP', 'token_type as the server sends it')
  const { payload } = await jwtVerify(token.accessToken, jwks, { issuer: metadata.issuer, audience, typ: 'at+jwt' })
  t.same(payload.cnf, { jkt: key.jkt })
  t.same(Object.keys(payload).sort(), ['aud', 'client_id', 'cnf', 'exp', 'iat', 'iss', 'jti', 'scope', 'sub'])
})

t.test('DPoP nonce at the token endpoint: the client retries once', async (t) => {
  const nonceAs = await startAuthorizationServer({ audience, dpopNonce: true })
  t.teardown(async () => await nonceAs.close())
  const meta = await discover(nonceAs.issuer)
  const key = await dpopHandle()
  const token = await clientCredentialsToken({ as: meta, clientId: nonceAs.clientId, clientSecret: nonceAs.clientSecret, resource: audience, dpop: key })
  t.equal(token.nonceRetried, true, 'first answer was use_dpop_nonce')
  t.equal(token.tokenType, 'DPoP')
  t.same(decodeJwt(token.accessToken).cnf, { jkt: key.jkt })
  const again = await clientCredentialsToken({ as: meta, clientId: nonceAs.clientId, clientSecret: nonceAs.clientSecret, resource: audience, dpop: key })
  t.equal(again.nonceRetried, false, 'the handle reuses the cached nonce')
  t.same(nonceAs.serverErrors, [])
})

t.test('callProtected with a Bearer token', async (t) => {
  const { accessToken } = await clientCredentialsToken({ as: metadata, clientId: as.clientId, clientSecret: as.clientSecret, resource: audience })
  const before = rs.seen.length
  const res = await callProtected(`${rs.origin}/api/private`, accessToken)
  t.equal(res.status, 200)
  t.same(res.body, { ok: true, method: 'GET' })
  t.equal(res.nonceRetried, false)
  t.equal(res.challenges, undefined)
  const req = rs.seen[before]
  t.equal(req?.headers.authorization, `Bearer ${accessToken}`)
  t.equal(req?.headers.dpop, undefined, 'no proof without a key')
})

t.test('callProtected with DPoP: the proof as it arrives', async (t) => {
  const key = await dpopHandle()
  const { accessToken } = await clientCredentialsToken({ as: metadata, clientId: as.clientId, clientSecret: as.clientSecret, resource: audience, dpop: key })
  const before = rs.seen.length
  const res = await callProtected(`${rs.origin}/api/data?x=1#frag`, accessToken, { dpop: key, method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' })
  t.equal(res.status, 200)
  t.same(res.body, { ok: true, method: 'POST' })

  const req = rs.seen[before]
  t.equal(req?.url, '/api/data?x=1', 'fragment never sent')
  t.equal(req?.headers.authorization, `DPoP ${accessToken}`, 'scheme DPoP when a proof is sent')
  const proof = req?.headers.dpop
  if (typeof proof !== 'string') throw new Error('no DPoP header')
  const { protectedHeader, payload } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'] })
  t.equal(protectedHeader.typ, 'dpop+jwt')
  t.equal(protectedHeader.alg, 'ES256')
  t.same(protectedHeader.jwk, { kty: 'EC', crv: 'P-256', x: key.publicJwk.x, y: key.publicJwk.y }, 'public members only')
  t.equal(await calculateJwkThumbprint(protectedHeader.jwk ?? {}), key.jkt, 'proof key thumbprint = cnf.jkt')
  t.equal(payload.htm, 'POST')
  t.equal(payload.htu, `${rs.origin}/api/data`, 'htu: origin + path, query and fragment dropped')
  t.equal(payload.ath, sha256(accessToken), 'ath = base64url(SHA-256(token))')
  t.type(payload.jti, 'string')
  t.type(payload.iat, 'number')
  t.notOk('nonce' in payload, 'no nonce before the server asks')
  t.same(Object.keys(payload).sort(), ['ath', 'htm', 'htu', 'iat', 'jti'])
})

t.test('callProtected retries once on use_dpop_nonce with the server nonce', async (t) => {
  const proofs: JWTPayload[] = []
  const nonceRs = await startResourceServer((req, res, n) => {
    proofs.push(decodeJwt(String(req.headers.dpop)))
    if (n === 1) {
      return json(res, 401, { detail: { error: 'use_dpop_nonce', error_description: 'nonce required' } }, {
        'www-authenticate': 'DPoP error="use_dpop_nonce", error_description="nonce required"',
        'dpop-nonce': 'n1'
      })
    }
    if (proofs.at(-1)?.nonce !== 'n1') return json(res, 400, { bad: 'nonce' })
    json(res, 200, { ok: true })
  })
  t.teardown(async () => await nonceRs.close())
  const key = await dpopHandle()
  const { accessToken } = await clientCredentialsToken({ as: metadata, clientId: as.clientId, clientSecret: as.clientSecret, resource: audience, dpop: key })

  const res = await callProtected(`${nonceRs.origin}/api/private`, accessToken, { dpop: key })
  t.equal(res.status, 200)
  t.same(res.body, { ok: true })
  t.equal(res.nonceRetried, true)
  t.equal(nonceRs.seen.length, 2, 'exactly one retry')
  t.notOk('nonce' in (proofs[0] ?? {}))
  t.equal(proofs[1]?.nonce, 'n1', 'the retried proof carries the nonce')
  t.not(proofs[1]?.jti, proofs[0]?.jti, 'a fresh jti for the retry')

  const next = await callProtected(`${nonceRs.origin}/api/private`, accessToken, { dpop: key })
  t.equal(next.nonceRetried, false)
  t.equal(proofs[2]?.nonce, 'n1', 'the nonce stays cached per origin for later calls')
})

t.test('callProtected gives up after one retry, and never retries without a key', async (t) => {
  const always = await startResourceServer((_req, res) => json(res, 401, { detail: { error: 'use_dpop_nonce' } }, {
    'www-authenticate': 'DPoP error="use_dpop_nonce"',
    'dpop-nonce': 'n2'
  }))
  t.teardown(async () => await always.close())
  const key = await dpopHandle()
  const res = await callProtected(`${always.origin}/x`, 'token', { dpop: key })
  t.equal(res.status, 401)
  t.equal(res.nonceRetried, true)
  t.equal(always.seen.length, 2)
  t.same(res.challenges, [{ scheme: 'dpop', parameters: { error: 'use_dpop_nonce' } }])

  const bearer = await callProtected(`${always.origin}/x`, 'token')
  t.equal(bearer.status, 401)
  t.equal(bearer.nonceRetried, false)
  t.equal(always.seen.length, 3)
})

t.test('oauth4webapi parsing of a multi-challenge WWW-Authenticate line', async (t) => {
  const www = 'Bearer realm="api", error="invalid_token", error_description="bad \\"x\\"", DPoP algs="ES256 PS256", error="invalid_token"'
  const errRs = await startResourceServer((req, res) => {
    if (req.url === '/ok-but-challenged') {
      res.writeHead(200, { 'www-authenticate': 'Bearer realm="api"', 'content-type': 'text/plain' })
      return res.end('fine')
    }
    if (req.url === '/garbage') {
      res.writeHead(401, { 'www-authenticate': '=,=' })
      return res.end()
    }
    json(res, 401, { detail: { error: 'invalid_token', error_description: 'bad' } }, { 'www-authenticate': www })
  })
  t.teardown(async () => await errRs.close())

  const res = await callProtected(`${errRs.origin}/api`, 'token')
  t.equal(res.status, 401)
  t.same(res.body, { detail: { error: 'invalid_token', error_description: 'bad' } })
  t.equal(res.headers.get('www-authenticate'), www)
  t.same(res.challenges, [
    { scheme: 'bearer', parameters: { realm: 'api', error: 'invalid_token', error_description: 'bad "x"' } },
    { scheme: 'dpop', parameters: { algs: 'ES256 PS256', error: 'invalid_token' } }
  ], 'schemes lowercased, quoted values unescaped, two challenges')

  const ok = await callProtected(`${errRs.origin}/ok-but-challenged`, 'token')
  t.equal(ok.status, 200, 'a 200 with WWW-Authenticate is still surfaced as a challenge')
  t.same(ok.challenges, [{ scheme: 'bearer', parameters: { realm: 'api' } }])
  t.equal(ok.body, 'fine')

  const garbage = await callProtected(`${errRs.origin}/garbage`, 'token')
  t.equal(garbage.status, 401)
  t.equal(garbage.challenges, undefined, 'an unparseable header is ignored, not thrown')

  t.ok(oauth.isDPoPNonceError(new oauth.WWWAuthenticateChallengeError('x', {
    cause: [{ scheme: 'dpop', parameters: { error: 'use_dpop_nonce' } }],
    response: new Response(null, { status: 401 })
  })), 'isDPoPNonceError keys on scheme "dpop" + error')
})
