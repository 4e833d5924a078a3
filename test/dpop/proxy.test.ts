/**
 * The request URL behind `htu`, over a real socket: Host validation (the Host-injection bypass of
 * other SDKs), repeated headers, HTTP/1.0 without Host, absolute-form targets, and reverse proxies
 * (trustProxy with X-Forwarded-Host / -Proto / -Prefix, untrusted peers, publicBaseURL).
 */
import t from 'tap'
import { proof } from '../../lib/testing/index.js'
import { body, dpopHarness, type DpopHarness } from './helpers.js'
import { rawRequest, type RawResponse } from './raw-http.js'
import { expectGrammar } from '../helpers/expect.js'

const challenge400 = (description: string): string => `Bearer realm="api", DPoP error="invalid_request", error_description="${description}", algs="ES256"`

/** A DPoP GET over the socket: `htu` is the URL the proof names; `headers` are extra lines. */
async function dpopGet (h: DpopHarness, port: number, target: string, htu: string, headers: string[], version = '1.1'): Promise<RawResponse> {
  const token = await h.boundToken()
  const dpop = await proof({ key: h.key, url: htu, accessToken: token })
  return await rawRequest(port, `GET ${target} HTTP/${version}`, [`Authorization: DPoP ${token}`, `DPoP: ${dpop}`, ...headers])
}

function refused (t: Tap, res: RawResponse, description: string): void {
  t.equal(res.status, 400, 'status')
  t.same(res.json(), body('invalid_request', description), 'body')
  t.equal(res.headers['www-authenticate'], challenge400(description), 'challenge')
  expectGrammar(t, { statusCode: res.status, headers: res.headers, body: res.body })
}

function htuMismatch (t: Tap, res: RawResponse): void {
  t.equal(res.status, 401, 'status')
  t.same(res.json(), body('invalid_dpop_proof', 'DPoP proof htu does not match the request URL'), 'body')
  t.equal(res.headers['www-authenticate'], 'Bearer realm="api", DPoP error="invalid_dpop_proof", error_description="DPoP proof htu does not match the request URL", algs="ES256"', 'challenge')
  expectGrammar(t, { statusCode: res.status, headers: res.headers, body: res.body })
}

interface Tap { equal (a: unknown, b: unknown, ...m: any[]): boolean, same (a: unknown, b: unknown, ...m: any[]): boolean, ok (a: unknown, ...m: any[]): boolean }

t.test('no proxy trust (default)', async (t) => {
  const h = await dpopHarness(t)
  const port = await h.listen()

  await t.test('Host and path build the URL', async (t) => {
    const res = await dpopGet(h, port, '/private?page=2', 'http://api.example.com/private', ['Host: api.example.com'])
    t.equal(res.status, 200, 'query of the request ignored')
  })
  await t.test('Host names the port: htu must too', async (t) => {
    t.equal((await dpopGet(h, port, '/private', 'http://api.example.com:8443/private', ['Host: api.example.com:8443'])).status, 200)
    htuMismatch(t, await dpopGet(h, port, '/private', 'http://api.example.com/private', ['Host: api.example.com:8443']))
  })
  await t.test('default port in Host, upper-case host: same URL', async (t) => {
    t.equal((await dpopGet(h, port, '/private', 'http://api.example.com/private', ['Host: API.Example.com:80'])).status, 200)
  })
  await t.test('Host injection: a Host carrying a path is refused, not parsed', async (t) => {
    // With `${protocol}://${host}${url}` this proof for /admin would validate on /private.
    const res = await dpopGet(h, port, '/private', 'http://api.example.com/admin', ['Host: api.example.com/admin?'])
    refused(t, res, 'invalid Host header')
  })
  await t.test('other invalid Hosts', async (t) => {
    for (const host of ['evil@api.example.com', 'api.example.com:99999', 'api.example.com#x', 'api example.com', '[::1']) {
      refused(t, await dpopGet(h, port, '/private', 'http://api.example.com/private', [`Host: ${host}`]), 'invalid Host header')
    }
  })
  await t.test('IPv6 literal Host', async (t) => {
    t.equal((await dpopGet(h, port, '/private', 'http://[::1]:8080/private', ['Host: [::1]:8080'])).status, 200)
  })
  await t.test('the Host rules apply to DPoP only: a Bearer request does not read Host', async (t) => {
    const token = await h.bearerToken()
    const res = await rawRequest(port, 'GET /private HTTP/1.1', [`Authorization: Bearer ${token}`, 'Host: api.example.com/admin?'])
    t.equal(res.status, 200)
  })
  await t.test('two Host header lines', async (t) => {
    refused(t, await dpopGet(h, port, '/private', 'http://a.example.com/private', ['Host: a.example.com', 'Host: b.example.com']), 'more than one Host header')
  })
  await t.test('HTTP/1.0 without Host', async (t) => {
    refused(t, await dpopGet(h, port, '/private', 'http://api.example.com/private', [], '1.0'), 'Host header missing')
  })
  await t.test('absolute-form request target', async (t) => {
    refused(t, await dpopGet(h, port, 'http://api.example.com/private', 'http://api.example.com/private', ['Host: api.example.com']), 'request target must be an absolute path')
  })
  await t.test('request path outside URI grammar', async (t) => {
    refused(t, await dpopGet(h, port, '/files/a|b', 'http://api.example.com/files/a%7Cb', ['Host: api.example.com']), 'request path is not a valid URI path')
  })
  await t.test('percent-escapes and dot segments normalised on both sides', async (t) => {
    t.equal((await dpopGet(h, port, '/files/%7euser/%2Fx', 'http://api.example.com/files/~user/./a/../%2fx', ['Host: api.example.com'])).status, 200)
    t.equal((await dpopGet(h, port, '/files/%41', 'http://api.example.com/files/A', ['Host: api.example.com'])).status, 200, '%41 is A')
    htuMismatch(t, await dpopGet(h, port, '/files/%2F', 'http://api.example.com/files//', ['Host: api.example.com']))
  })
  await t.test('two DPoP header lines', async (t) => {
    const token = await h.boundToken()
    const a = await proof({ key: h.key, url: 'http://api.example.com/private', accessToken: token })
    const res = await rawRequest(port, 'GET /private HTTP/1.1', ['Host: api.example.com', `Authorization: DPoP ${token}`, `DPoP: ${a}`, `DPoP: ${a}`])
    refused(t, res, 'more than one DPoP header')
  })
  await t.test('forwarding headers from an untrusted peer are ignored', async (t) => {
    const forwarded = ['Host: internal:3000', 'X-Forwarded-Host: public.example.com', 'X-Forwarded-Proto: https', 'X-Forwarded-Prefix: /api']
    t.equal((await dpopGet(h, port, '/private', 'http://internal:3000/private', forwarded)).status, 200)
    htuMismatch(t, await dpopGet(h, port, '/private', 'https://public.example.com/api/private', forwarded))
    t.equal((await dpopGet(h, port, '/private', 'http://internal:3000/private', ['Host: internal:3000', 'X-Forwarded-Prefix: /../admin'])).status, 200, 'an invalid prefix is not even read')
  })
})

t.test('trustProxy: true', async (t) => {
  const h = await dpopHarness(t, {}, { trustProxy: true })
  const port = await h.listen()
  const proxied = (extra: string[] = []): string[] => ['Host: internal:3000', 'X-Forwarded-Host: public.example.com', 'X-Forwarded-Proto: https', ...extra]

  await t.test('X-Forwarded-Host and -Proto build the URL', async (t) => {
    t.equal((await dpopGet(h, port, '/private', 'https://public.example.com/private', proxied())).status, 200)
    htuMismatch(t, await dpopGet(h, port, '/private', 'http://internal:3000/private', proxied()))
  })
  await t.test('X-Forwarded-Prefix restores a stripped prefix', async (t) => {
    t.equal((await dpopGet(h, port, '/private', 'https://public.example.com/api/v1/private', proxied(['X-Forwarded-Prefix: /api/v1/']))).status, 200)
    t.equal((await dpopGet(h, port, '/private', 'https://public.example.com/api/private', proxied(['X-Forwarded-Prefix: api']))).status, 200, 'leading slash added')
    t.equal((await dpopGet(h, port, '/private', 'https://public.example.com/private', proxied(['X-Forwarded-Prefix: /']))).status, 200, '"/" is no prefix')
    htuMismatch(t, await dpopGet(h, port, '/private', 'https://public.example.com/private', proxied(['X-Forwarded-Prefix: /api'])))
  })
  await t.test('dangerous prefixes are refused', async (t) => {
    for (const prefix of ['/../admin', '/a/..', '//evil.example.com', '/a:b', '/%2e%2e/admin', '/%2E', '/a%00', '/a,/b', '/a b', '/a?b', '/a\\b']) {
      refused(t, await dpopGet(h, port, '/private', 'https://public.example.com/private', proxied([`X-Forwarded-Prefix: ${prefix}`])), 'invalid X-Forwarded-Prefix header')
    }
  })
  await t.test('invalid X-Forwarded-Host', async (t) => {
    const res = await dpopGet(h, port, '/private', 'https://evil.example.com/admin', ['Host: internal:3000', 'X-Forwarded-Host: evil.example.com/admin?', 'X-Forwarded-Proto: https'])
    refused(t, res, 'invalid X-Forwarded-Host header')
  })
  await t.test('the raw Host is still validated', async (t) => {
    refused(t, await dpopGet(h, port, '/private', 'https://public.example.com/private', ['Host: a/b', 'X-Forwarded-Host: public.example.com', 'X-Forwarded-Proto: https']), 'invalid Host header')
  })
  await t.test('X-Forwarded-Proto other than http(s)', async (t) => {
    refused(t, await dpopGet(h, port, '/private', 'https://public.example.com/private', proxied(['X-Forwarded-Proto: javascript']).filter((l) => l !== 'X-Forwarded-Proto: https')), 'invalid X-Forwarded-Proto header')
    t.equal((await dpopGet(h, port, '/private', 'https://public.example.com/private', ['Host: internal:3000', 'X-Forwarded-Host: public.example.com', 'X-Forwarded-Proto: HTTPS'])).status, 200, 'case-insensitive')
  })
  await t.test('several proxies: Fastify uses the last X-Forwarded-Host entry', async (t) => {
    const headers = ['Host: internal:3000', 'X-Forwarded-Host: spoofed.example.com, public.example.com', 'X-Forwarded-Proto: https']
    t.equal((await dpopGet(h, port, '/private', 'https://public.example.com/private', headers)).status, 200)
    htuMismatch(t, await dpopGet(h, port, '/private', 'https://spoofed.example.com/private', headers))
  })
})

t.test('trustProxy as an address list: only a trusted peer\'s headers count', async (t) => {
  const trusted = await dpopHarness(t, {}, { trustProxy: '127.0.0.1' })
  const trustedPort = await trusted.listen()
  const headers = ['Host: internal:3000', 'X-Forwarded-Host: public.example.com', 'X-Forwarded-Proto: https', 'X-Forwarded-Prefix: /api']
  t.equal((await dpopGet(trusted, trustedPort, '/private', 'https://public.example.com/api/private', headers)).status, 200, 'loopback peer trusted')

  const other = await dpopHarness(t, {}, { trustProxy: ['10.0.0.1'] })
  const otherPort = await other.listen()
  t.equal((await dpopGet(other, otherPort, '/private', 'http://internal:3000/private', headers)).status, 200, 'loopback peer not trusted: Host, no prefix')
  htuMismatch(t, await dpopGet(other, otherPort, '/private', 'https://public.example.com/api/private', headers))
})

t.test('publicBaseURL', async (t) => {
  const h = await dpopHarness(t, { publicBaseURL: 'https://Public.Example.com/base/' }, { trustProxy: true })
  const port = await h.listen()
  await t.test('base + raw path, whatever the forwarding headers say', async (t) => {
    const headers = ['Host: internal:3000', 'X-Forwarded-Host: other.example.com', 'X-Forwarded-Proto: http', 'X-Forwarded-Prefix: /x']
    t.equal((await dpopGet(h, port, '/private?q=1', 'https://public.example.com/base/private', headers)).status, 200)
    htuMismatch(t, await dpopGet(h, port, '/private', 'http://other.example.com/x/private', headers))
  })
  await t.test('a bad Host is still refused', async (t) => {
    refused(t, await dpopGet(h, port, '/private', 'https://public.example.com/base/private', ['Host: a.example.com/admin?']), 'invalid Host header')
  })
  await t.test('from AUTH0_PUBLIC_BASE_URL', async (t) => {
    const fromEnv = await dpopHarness(t, { env: { AUTH0_PUBLIC_BASE_URL: 'https://env.example.com' } })
    const res = await fromEnv.send({ path: '/private', token: await fromEnv.boundToken(), proof: 'x' })
    t.equal(res.statusCode, 401, 'reaches the proof checks')
    const token = await fromEnv.boundToken()
    const ok = await fromEnv.send({ path: '/private', token, proof: await proof({ key: fromEnv.key, url: 'https://env.example.com/private', accessToken: token }) })
    t.equal(ok.statusCode, 200)
  })
  await t.test('a base URL that does not normalise stops start-up', async (t) => {
    await t.rejects(dpopHarness(t, { publicBaseURL: 'https://example.com/a|b' }), /publicBaseURL \(AUTH0_PUBLIC_BASE_URL\) must be an http\(s\) URL/)
  })
})
