/**
 * RFC 3986 §6.2.2–6.2.3 normalisation of `htu` and request URLs, `X-Forwarded-Prefix` rules, and
 * the URL for `fastify.auth0.verify()`: pure functions, checked value by value.
 */
import t from 'tap'
import { forwardedPrefix, normalizeHttpUrl, parseAuthority, verifyRequestUrl } from '../../lib/dpop/htu.js'
import { InternalAuthError, InvalidRequestError } from '../../lib/index.js'

t.test('normalizeHttpUrl', async (t) => {
  const same: Array<[string, string]> = [
    ['http://api.example.com/a', 'http://api.example.com/a'],
    ['HTTP://API.Example.COM/a', 'http://api.example.com/a'],
    ['http://api.example.com:80/a', 'http://api.example.com/a'],
    ['https://api.example.com:443/', 'https://api.example.com/'],
    ['http://h:/x', 'http://h/x'],
    ['http://h:0080/x', 'http://h/x'],
    ['https://h:80/x', 'https://h:80/x'],
    ['http://h:443/x', 'http://h:443/x'],
    ['http://h', 'http://h/'],
    ['http://h?q', 'http://h/'],
    ['http://h/a?x=1#frag', 'http://h/a'],
    ['http://h/a#frag', 'http://h/a'],
    ['http://h/a/./b/../c', 'http://h/a/c'],
    ['http://h/a/b/c/./../../g', 'http://h/a/g'],
    ['http://h/a/.', 'http://h/a/'],
    ['http://h/a/..', 'http://h/'],
    ['http://h/..', 'http://h/'],
    ['http://h/../a', 'http://h/a'],
    ['http://h//a', 'http://h//a'],
    ['http://h/a//../b', 'http://h/a/b'],
    ['http://h/%7Euser/%7e', 'http://h/~user/~'],
    ['http://h/%41%2d%5F', 'http://h/A-_'],
    ['http://h/a%2fb/%3a', 'http://h/a%2Fb/%3A'],
    ['http://h/%2e%2E/a', 'http://h/a'],
    ['http://h/a/', 'http://h/a/'],
    ['http://h/A', 'http://h/A'],
    ["http://h/!$&'()*+,;=:@", "http://h/!$&'()*+,;=:@"],
    ['http://[::1]:8080/x', 'http://[::1]:8080/x'],
    ['http://[::FFFF:1.2.3.4]/', 'http://[::ffff:1.2.3.4]/'],
    ['http://under_score.example/', 'http://under_score.example/'],
    ['http://127.0.0.1:3000/x', 'http://127.0.0.1:3000/x'],
    ['http://h:65535/x', 'http://h:65535/x'],
    ['http://h:08080/x', 'http://h:8080/x'],
    ['https://h:0443/x', 'https://h/x'],
    ['http://h/a/b/..', 'http://h/a/'],
    ['http://h/a/b/../', 'http://h/a/'],
    ['http://h/a/./', 'http://h/a/'],
    ['http://h/./a', 'http://h/a'],
    ['http://h/', 'http://h/']
  ]
  for (const [input, output] of same) t.equal(normalizeHttpUrl(input), output, input)
  const invalid = [
    'ftp://h/', 'urn:x', 'http:/h/a', 'http:h', '//h/a', '/a', '', 'http://', 'http://:80/',
    'http://user@h/', 'http://h:65536/', 'http://h:8a/', 'http://h/a b', 'http://h/a\tb', 'http://h/%zz', 'http://h/%4',
    'http://h/\u00e9', 'http://h/a|b', 'http://h/a{b}', 'http://h/a\\b', 'http://h/a"b', 'http://h%41/', 'http://[v1.x]/', 'http://[1.2.3.4]/',
    'http://h/a\nb',
    // The scheme starts the URL: nothing may come before it.
    '1http://h/a', '+http://h/a', '.http://h/a',
    // Whitespace, controls and non-ASCII are refused anywhere, query and fragment included.
    'http://h/?q x', 'http://h/a?x ', 'http://h/a#\u00e9', 'http://h/a?\u0000', ' http://h/a'
  ]
  for (const input of invalid) t.equal(normalizeHttpUrl(input), undefined, JSON.stringify(input))
})

t.test('parseAuthority (Host header grammar)', async (t) => {
  t.equal(parseAuthority('API.example.com', 'http'), 'api.example.com')
  t.equal(parseAuthority('api.example.com:80', 'http'), 'api.example.com')
  t.equal(parseAuthority('api.example.com:80', ''), 'api.example.com:80', 'no scheme: no default port')
  t.equal(parseAuthority('api.example.com:', 'https'), 'api.example.com')
  for (const bad of ['api.example.com/admin?', 'a b', 'a@b', 'a:b:c', '', ':80', 'a:-1', '[::1', 'a,b']) {
    t.equal(parseAuthority(bad, 'http'), undefined, JSON.stringify(bad))
  }
})

t.test('forwardedPrefix', async (t) => {
  t.equal(forwardedPrefix(undefined), '')
  t.equal(forwardedPrefix(''), '')
  t.equal(forwardedPrefix('  '), '')
  t.equal(forwardedPrefix('/'), '')
  t.equal(forwardedPrefix('api'), '/api')
  t.equal(forwardedPrefix('/api/v1/'), '/api/v1')
  t.equal(forwardedPrefix(' /api '), '/api')
  t.equal(forwardedPrefix('/a%20b'), '/a%20b', 'other escapes are fine')
  for (const bad of ['/../a', '/a/..', '..', '//a', '/a//b', '/a:b', 'http://evil', '/%2e%2e', '/%2E', '/a%2eb', '/a\u0000', '/a%00', '/a,/b', '/a b', '/a?b', '/a#b', '/a\\b', '/%zz']) {
    t.throws(() => forwardedPrefix(bad), new InvalidRequestError('forwarded_prefix_invalid', 'invalid X-Forwarded-Prefix header', { scheme: 'dpop' }), JSON.stringify(bad))
  }
  try {
    forwardedPrefix('/..')
  } catch (err) {
    t.match(err, { statusCode: 400, error: 'invalid_request', scheme: 'dpop' }, 'a 400 on the DPoP challenge')
  }
})

t.test('verifyRequestUrl (fastify.auth0.verify)', async (t) => {
  t.equal(verifyRequestUrl('https://API.example.com/ws?token=x', undefined), 'https://api.example.com/ws')
  t.equal(verifyRequestUrl('/ws?x=1', 'https://api.example.com/base'), 'https://api.example.com/base/ws')
  // The query of a request is not part of the URL a proof names, whatever it holds.
  t.equal(verifyRequestUrl('/ws?q=a b&r=\u00e9', 'https://api.example.com/base'), 'https://api.example.com/base/ws')
  t.throws(() => verifyRequestUrl('ftp://api.example.com/ws', undefined), new InvalidRequestError('request_url_invalid', 'request URL is not an absolute http(s) URL', { scheme: 'dpop' }))
  t.throws(() => verifyRequestUrl('api.example.com/ws', 'https://api.example.com'), new InvalidRequestError('request_url_invalid', 'request URL is not an absolute http(s) URL', { scheme: 'dpop' }))
  t.throws(() => verifyRequestUrl('/a|b', 'https://api.example.com'), new InvalidRequestError('request_target_invalid', 'request path is not a valid URI path', { scheme: 'dpop' }))
  let err: unknown
  try { verifyRequestUrl('/ws', undefined) } catch (e) { err = e }
  t.type(err, InternalAuthError)
  t.match(err, { statusCode: 500, reason: 'dpop_request_url_unknown' })
  t.match(((err as Error).cause as Error).message, /needs the absolute request URL \(or the publicBaseURL option\)/)
})
