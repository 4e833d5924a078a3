/**
 * lib/http/token-sources.ts on its own: how a `tokenSources` option resolves (or the exact message
 * refusing it), which value each source reads from a plain request object, the precise refusal
 * (class, reason, description, scheme, status) for each way a sourced token can be wrong, and how
 * a logged URL loses its query token. test/transports/token-sources.test.ts proves it over HTTP.
 */
import t, { type Test } from 'tap'
import { HEADER_ONLY, readSourcedCredentials, redactQueryToken, resolveTokenSources, type ResolvedTokenSources, type SourceRequest } from '../../lib/http/token-sources.js'
import { FOREIGN_SCHEME } from '../../lib/http/authorization.js'
import { AuthError, InternalAuthError, InvalidRequestError, InvalidTokenError } from '../../lib/errors.js'
import { refusal } from '../helpers/refusal.js'

const MAX = 16
const FORM = 'application/x-www-form-urlencoded'

/** What `fail` throws, so a test tells the option's refusal from any other throw. */
class Failed extends Error {}
const fail = (message: string): never => { throw new Failed(message) }

const resolve = (value: unknown): ResolvedTokenSources => resolveTokenSources(value, 'tokenSources', fail)

/** The message `resolveTokenSources` fails with; no failure, or another throw, fails the test. */
function failure (value: unknown, name = 'tokenSources'): string {
  try {
    resolveTokenSources(value, name, fail)
  } catch (err) {
    if (err instanceof Failed) return err.message
    throw err
  }
  throw new Error('expected a failure')
}

const USAGE = "tokenSources must be a non-empty array of 'header', 'query', 'body' and { cookie: name }"
const COOKIE_NAME = 'tokenSources: cookie must be a cookie name (an RFC 6265 token)'

/** Every source, the cookie named `at`. */
const ALL = resolve(['header', 'query', 'body', { cookie: 'at' }])

/** A plain request: GET /, no headers; `authorizationCount` follows the Authorization header. */
function request (over: Partial<SourceRequest> = {}): SourceRequest {
  const headers = over.headers ?? {}
  return { method: 'GET', url: '/', authorizationCount: headers.authorization === undefined ? 0 : 1, ...over, headers }
}

/** A form request: the form media type and a Content-Length, with the given (parsed) body. */
function form (body: unknown, method = 'POST', headers: SourceRequest['headers'] = {}): SourceRequest {
  return request({ method, headers: { 'content-type': FORM, 'content-length': '20', ...headers }, body })
}

const read = (req: SourceRequest, sources: ResolvedTokenSources = ALL, max = MAX): ReturnType<typeof readSourcedCredentials> => readSourcedCredentials(req, sources, max)

/** The refusal of a sourced token: always on the Bearer scheme. */
function expectBearerRefusal (t: Test, err: AuthError, klass: typeof InvalidRequestError | typeof InvalidTokenError, reason: string, description: string, label: string): void {
  t.ok(err instanceof klass, `${label}: ${klass.name}`)
  t.equal(err.reason, reason, label)
  t.equal(err.error, klass === InvalidTokenError ? 'invalid_token' : 'invalid_request', label)
  t.equal(err.error_description, description, label)
  t.equal(err.scheme, 'bearer', label)
  t.equal(err.statusCode, klass === InvalidTokenError ? 401 : 400, label)
}

function expectRepeated (t: Test, fn: () => unknown, where: string, label: string): void {
  expectBearerRefusal(t, refusal(fn), InvalidRequestError, 'access_token_repeated', `access_token sent more than once in the ${where}`, label)
}

function expectMalformed (t: Test, fn: () => unknown, label: string): void {
  expectBearerRefusal(t, refusal(fn), InvalidRequestError, 'access_token_malformed', 'access_token contains characters not allowed in a bearer token', label)
}

function expectBodyNotParsed (t: Test, fn: () => unknown, label: string): void {
  const err = refusal(fn)
  t.ok(err instanceof InternalAuthError, `${label}: InternalAuthError`)
  t.equal(err.reason, 'body_not_parsed', label)
  t.equal(err.error, 'internal_server_error', label)
  t.equal(err.error_description, 'internal error', label)
  t.equal(err.scheme, undefined, label)
  t.equal(err.statusCode, 500, label)
}

t.test('resolveTokenSources: the header alone is the frozen HEADER_ONLY itself', async (t) => {
  t.strictSame(HEADER_ONLY, { headerOnly: true, header: true, query: false, body: false, cookie: undefined, methods: ['header'] })
  t.ok(Object.isFrozen(HEADER_ONLY))
  t.ok(Object.isFrozen(HEADER_ONLY.methods))
  t.equal(resolve(['header']), HEADER_ONLY, 'the same object, not a copy')
})

t.test('resolveTokenSources: any other list is a fresh frozen object, methods in the order header, body, query', async (t) => {
  const cases: Array<[unknown[], ResolvedTokenSources]> = [
    [['query', 'body', 'header'], { headerOnly: false, header: true, query: true, body: true, cookie: undefined, methods: ['header', 'body', 'query'] }],
    [['header', 'query', 'body', { cookie: 'at' }], { headerOnly: false, header: true, query: true, body: true, cookie: 'at', methods: ['header', 'body', 'query'] }],
    [['header', { cookie: 'at' }], { headerOnly: false, header: true, query: false, body: false, cookie: 'at', methods: ['header'] }],
    [['header', 'query'], { headerOnly: false, header: true, query: true, body: false, cookie: undefined, methods: ['header', 'query'] }],
    [['body', 'header'], { headerOnly: false, header: true, query: false, body: true, cookie: undefined, methods: ['header', 'body'] }],
    [['query', 'body'], { headerOnly: false, header: false, query: true, body: true, cookie: undefined, methods: ['body', 'query'] }],
    [['query'], { headerOnly: false, header: false, query: true, body: false, cookie: undefined, methods: ['query'] }],
    [['body'], { headerOnly: false, header: false, query: false, body: true, cookie: undefined, methods: ['body'] }],
    [[{ cookie: 'at' }], { headerOnly: false, header: false, query: false, body: false, cookie: 'at', methods: [] }]
  ]
  for (const [value, expected] of cases) {
    const label = JSON.stringify(value)
    const resolved = resolve(value)
    t.strictSame(resolved, expected, label)
    t.not(resolved, HEADER_ONLY, label)
    t.ok(Object.isFrozen(resolved), label)
    t.ok(Object.isFrozen(resolved.methods), label)
  }
})

t.test('resolveTokenSources: a source listed twice is refused, named, under the caller\'s name', async (t) => {
  t.equal(failure(['header', 'header']), "tokenSources lists 'header' twice")
  t.equal(failure(['query', 'query']), "tokenSources lists 'query' twice")
  t.equal(failure(['body', 'body']), "tokenSources lists 'body' twice")
  t.equal(failure(['header', 'query', 'body', 'query']), "tokenSources lists 'query' twice", 'not next to each other')
  t.equal(failure(['body', 'header', 'query', 'body']), "tokenSources lists 'body' twice")
  t.equal(failure(['query', 'header', 'body', 'header']), "tokenSources lists 'header' twice")
  t.equal(failure(['body', 'body'], 'route tokenSources'), "route tokenSources lists 'body' twice")
})

t.test('resolveTokenSources: anything but a non-empty array of the four kinds of entry is refused with the usage', async (t) => {
  for (const value of [undefined, null, 'header', { cookie: 'at' }, [], [''], ['Header'], ['cookie'], [null], [1], [['header']], [{}], [{ cookie: 'at', path: '/' }], [{ name: 'at' }]]) {
    t.equal(failure(value), USAGE, JSON.stringify(value))
  }
  t.equal(failure([], 'route tokenSources'), "route tokenSources must be a non-empty array of 'header', 'query', 'body' and { cookie: name }")
})

t.test('resolveTokenSources: a cookie name is an RFC 6265 token, and only one cookie is allowed', async (t) => {
  const tchars = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
  t.equal(resolve([{ cookie: tchars }]).cookie, tchars, 'every tchar')
  t.equal(resolve([{ cookie: 'a' }]).cookie, 'a')
  for (const name of ['', 'a b', 'a=b', 'a;b', 'a,b', '"at"', 'a\tb', 'é', 'at\n']) {
    t.equal(failure([{ cookie: name }]), COOKIE_NAME, JSON.stringify(name))
  }
  for (const name of [undefined, null, 1, ['at'], { name: 'at' }]) {
    t.equal(failure([{ cookie: name }]), COOKIE_NAME, JSON.stringify(name) ?? 'undefined')
  }
  t.equal(failure([{ cookie: 'a' }, { cookie: 'b' }]), 'tokenSources lists more than one cookie')
  t.equal(failure([{ cookie: 'a' }, 'header', { cookie: 'a' }]), 'tokenSources lists more than one cookie', 'even the same name')
  t.equal(failure([{ cookie: 'a b' }], 'route tokenSources'), 'route tokenSources: cookie must be a cookie name (an RFC 6265 token)')
})

t.test('redactQueryToken: every spelling of access_token in the query, and nothing else', async (t) => {
  t.equal(redactQueryToken('/p?access_token=abc'), '/p?access_token=[redacted]')
  t.equal(redactQueryToken('/p?x=1&access_token=abc&y=2'), '/p?x=1&access_token=[redacted]&y=2')
  t.equal(redactQueryToken('/p?access_token=a&access_token=b'), '/p?access_token=[redacted]&access_token=[redacted]')
  t.equal(redactQueryToken('/p?access%5Ftoken=abc'), '/p?access%5Ftoken=[redacted]', 'an encoded name')
  t.equal(redactQueryToken('/p?access%5ftoken=abc&x=access_token'), '/p?access%5ftoken=[redacted]&x=access_token', 'a value is not a name')
  t.equal(redactQueryToken('/p?access_token'), '/p?access_token=[redacted]', 'a name without =')
  t.equal(redactQueryToken('/p?access_token='), '/p?access_token=[redacted]')
})

t.test('redactQueryToken: a URL without an access_token query parameter comes back unchanged', async (t) => {
  for (const url of ['/p', '/', '/p?', '/p?x=1&y', '/p?xaccess_token=1&access_tokens=2', '/p?x=access_token', '/p&access_token=abc', 'access_token=abc', '/p/access_token=abc']) {
    t.equal(redactQueryToken(url), url, url)
  }
})

t.test('the header: its credentials, with source header', async (t) => {
  t.strictSame(read(request({ headers: { authorization: 'Bearer abc' } })), { scheme: 'bearer', token: 'abc', source: 'header' })
  t.strictSame(read(request({ headers: { authorization: 'DPoP abc' } })), { scheme: 'dpop', token: 'abc', source: 'header' })
  t.equal(read(request()), undefined, 'no source carries a token')
  t.equal(read(request({ headers: { authorization: '' } })), undefined, 'an empty header')
  t.equal(read(request({ headers: { authorization: 'Bearer abc' } }), resolve(['query', { cookie: 'at' }])), undefined, 'not read when not a source')
  const err = refusal(() => read(request({ headers: { authorization: 'Bearer abc' }, authorizationCount: 2 })))
  t.equal(err.reason, 'authorization_header_repeated', 'the header\'s own refusals')
})

t.test('a foreign scheme (Basic) is no token: FOREIGN_SCHEME only when no other source carries one', async (t) => {
  const basic = { authorization: 'Basic dXNlcjpwYXNz' }
  t.equal(read(request({ headers: basic })), FOREIGN_SCHEME)
  t.equal(read(request({ headers: basic, url: '/p?access_token=' })), FOREIGN_SCHEME, 'an empty query token is none')
  t.strictSame(read(request({ headers: basic, url: '/p?access_token=abc' })), { scheme: 'bearer', token: 'abc', source: 'query' })
  t.strictSame(read(request({ headers: { ...basic, cookie: 'at=abc' } })), { scheme: 'bearer', token: 'abc', source: 'cookie' })
  t.strictSame(read(form({ access_token: 'abc' }, 'POST', basic)), { scheme: 'bearer', token: 'abc', source: 'body' })
  t.equal(read(request({ headers: basic }), resolve(['query'])), undefined, 'the header is not a source: not even foreign')
  const err = refusal(() => read(request({ headers: { ...basic, cookie: 'at=abc' }, url: '/p?access_token=abc' })))
  t.equal(err.reason, 'token_sources_multiple', 'the foreign header counts for nothing, the other two are two')
})

t.test('the query: access_token decoded as a form, up to a fragment', async (t) => {
  t.strictSame(read(request({ url: '/p?access_token=abc' })), { scheme: 'bearer', token: 'abc', source: 'query' })
  t.strictSame(read(request({ url: '/p?x=1&access_token=abc&y' })), { scheme: 'bearer', token: 'abc', source: 'query' })
  t.strictSame(read(request({ url: '/p?access%5Ftoken=abc' })), { scheme: 'bearer', token: 'abc', source: 'query' }, 'an encoded name')
  t.strictSame(read(request({ url: '/p?access_token=a%2Bb%3D' })), { scheme: 'bearer', token: 'a+b=', source: 'query' }, 'an encoded value')
  t.strictSame(read(request({ url: '/p?access_token=abc#frag' })), { scheme: 'bearer', token: 'abc', source: 'query' }, 'the fragment is not part of it')
  t.strictSame(read(request({ url: '/p?access_token=abc#&access_token=def' })), { scheme: 'bearer', token: 'abc', source: 'query' }, 'nor a second value behind it')
  for (const url of ['/p', '/p?', '/p?#access_token=abc', '/p?x=1', '/p?access_token=', '/p?access_token', '/p?x=1#&access_token=abc', '/p&access_token=abc', '/access_token=abc']) {
    t.equal(read(request({ url })), undefined, url)
  }
  t.equal(read(request({ url: '/p?access_token=abc' }), resolve(['header', 'body', { cookie: 'at' }])), undefined, 'not read when not a source')
})

t.test('the query: access_token twice, however spelt, is refused on the Bearer scheme', async (t) => {
  for (const url of ['/p?access_token=a&access_token=b', '/p?access_token=a&access_token=a', '/p?access_token=a&access%5Ftoken=b', '/p?access_token=&access_token=b', '/p?access_token&access_token']) {
    expectRepeated(t, () => read(request({ url })), 'query', url)
  }
})

t.test('a form body: the access_token member of a parsed object', async (t) => {
  t.strictSame(read(form({ access_token: 'abc' })), { scheme: 'bearer', token: 'abc', source: 'body' })
  t.strictSame(read(form({ access_token: 'abc', other: 'x' })), { scheme: 'bearer', token: 'abc', source: 'body' })
  t.strictSame(read(form({ access_token: 'abc' }, 'POST', { 'content-type': 'Application/X-WWW-Form-Urlencoded ; charset=utf-8' })), { scheme: 'bearer', token: 'abc', source: 'body' }, 'the media type without parameters, in any case')
  for (const body of [{}, { access_token: '' }, { access_token: undefined }, { other: 'abc' }]) {
    t.equal(read(form(body)), undefined, JSON.stringify(body))
  }
  t.equal(read(form({ access_token: 'abc' }), resolve(['header', 'query', { cookie: 'at' }])), undefined, 'not read when not a source')
})

t.test('a form body: only with the form media type', async (t) => {
  for (const type of [undefined, 'application/json', 'multipart/form-data; boundary=x', 'text/plain', 'application/x-www-form-urlencodedx', 'x-application/x-www-form-urlencoded', ['application/x-www-form-urlencoded']]) {
    t.equal(read(form({ access_token: 'abc' }, 'POST', { 'content-type': type })), undefined, JSON.stringify(type))
  }
})

t.test('a form body: an array value is a repeated token, any other non-string value a malformed one', async (t) => {
  expectRepeated(t, () => read(form({ access_token: ['a', 'b'] })), 'body', 'an array')
  expectRepeated(t, () => read(form({ access_token: [] })), 'body', 'even an empty one')
  for (const value of [{ a: 1 }, 5, true, null, 0]) {
    expectMalformed(t, () => read(form({ access_token: value })), JSON.stringify(value))
  }
  // The malformed value still counts as a method.
  t.equal(refusal(() => read(form({ access_token: { a: 1 } }, 'POST', { authorization: 'Bearer abc' }))).reason, 'token_sources_multiple')
})

t.test('a form body: a string body is decoded as the form parser would', async (t) => {
  t.strictSame(read(form('access_token=abc&x=1')), { scheme: 'bearer', token: 'abc', source: 'body' })
  t.strictSame(read(form('x=1&access%5Ftoken=a%2Bb')), { scheme: 'bearer', token: 'a+b', source: 'body' })
  for (const body of ['', 'x=1', 'access_token=', 'access_token', 'xaccess_token=abc']) {
    t.equal(read(form(body)), undefined, JSON.stringify(body))
  }
  for (const body of ['access_token=a&access_token=b', 'access_token=a&access%5Ftoken=a', 'access_token=&access_token=']) {
    expectRepeated(t, () => read(form(body)), 'body', body)
  }
  expectMalformed(t, () => read(form('access_token=a+b')), '+ is a space')
})

t.test('a form body is never read on GET, HEAD, TRACE or CONNECT (RFC 6750 §2.2)', async (t) => {
  for (const method of ['GET', 'HEAD', 'TRACE', 'CONNECT']) {
    t.equal(read(form({ access_token: 'abc' }, method)), undefined, `${method}, a parsed form`)
    t.equal(read(form('access_token=abc', method)), undefined, `${method}, a form string`)
    t.equal(read(form(undefined, method)), undefined, `${method}, content but no body: no 500`)
    t.equal(read(form(Buffer.from('access_token=abc'), method)), undefined, `${method}, a Buffer: no 500`)
  }
})

t.test('on a method Fastify parses bodies for, a form request with content but no parsed body is a configuration error', async (t) => {
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'QUERY']) {
    t.strictSame(read(form({ access_token: 'abc' }, method)), { scheme: 'bearer', token: 'abc', source: 'body' }, `${method} reads a form`)
    expectBodyNotParsed(t, () => read(form(undefined, method)), `${method}, Content-Length`)
    expectBodyNotParsed(t, () => read(request({ method, headers: { 'content-type': FORM, 'transfer-encoding': 'chunked' } })), `${method}, Transfer-Encoding`)
    t.equal(read(form(undefined, method, { 'content-length': '0' })), undefined, `${method}, Content-Length 0: no content, no token`)
    t.equal(read(request({ method, headers: { 'content-type': FORM } })), undefined, `${method}, no content announced`)
  }
})

t.test('a body that is not a form parser\'s result (a Buffer, null, a number) is a configuration error', async (t) => {
  expectBodyNotParsed(t, () => read(form(Buffer.from('access_token=abc'))), 'a Buffer')
  expectBodyNotParsed(t, () => read(form(Buffer.alloc(0), 'POST', { 'content-length': '0' })), 'even an empty Buffer without content')
  expectBodyNotParsed(t, () => read(form(null)), 'null')
  expectBodyNotParsed(t, () => read(form(5)), 'a number')
})

t.test('a method added without a body (PROPFIND): content but no body is no token, a parsed form is read', async (t) => {
  t.equal(read(form(undefined, 'PROPFIND')), undefined)
  t.equal(read(request({ method: 'PROPFIND', headers: { 'content-type': FORM, 'transfer-encoding': 'chunked' } })), undefined)
  t.strictSame(read(form({ access_token: 'abc' }, 'PROPFIND')), { scheme: 'bearer', token: 'abc', source: 'body' })
  expectBodyNotParsed(t, () => read(form(Buffer.from('access_token=abc'), 'PROPFIND')), 'a Buffer is still no parsed form')
})

t.test('the cookie: the named pair of the Cookie header(s)', async (t) => {
  const cookie = (header: string | string[] | undefined, sources = ALL): ReturnType<typeof readSourcedCredentials> => read(request({ headers: { cookie: header } }), sources)
  const ok = (token: string): unknown => ({ scheme: 'bearer', token, source: 'cookie' })
  t.strictSame(cookie('at=tok'), ok('tok'))
  t.strictSame(cookie('x=1; at=tok; y=2'), ok('tok'))
  t.strictSame(cookie('x=1;at=tok;y=2'), ok('tok'), 'no space after ;')
  t.strictSame(cookie('  at  =  tok  ; x=1'), ok('tok'), 'whitespace around name and value')
  t.strictSame(cookie('xat=1; at=tok; atx=2'), ok('tok'), 'the name inside other names')
  t.strictSame(cookie('at=abc=='), ok('abc=='), 'the value runs to the ;')
  t.strictSame(cookie('at="tok"'), ok('tok'), 'a quoted value')
  t.strictSame(cookie(' at = "tok" '), ok('tok'))
  t.strictSame(cookie(['x=1', 'at=tok']), ok('tok'), 'several Cookie headers')
  t.strictSame(cookie('session=1; my=tok', resolve([{ cookie: 'my' }])), ok('tok'), 'the configured name')
  for (const header of [undefined, '', 'x=1', 'xat=1', 'atx=1; xat=2', 'at', 'atX', 'atX; x=1', 'at; x=1', ' at ', 'at=', 'at= ', 'at=""', 'x=at', '=at', 'AT=tok', [], ['x=1', 'y=2']]) {
    t.equal(cookie(header), undefined, JSON.stringify(header) ?? 'undefined')
  }
  t.equal(cookie('at=tok', resolve(['header', 'query', 'body'])), undefined, 'not read when not a source')
  t.equal(cookie('at=tok', resolve([{ cookie: 'a' }])), undefined, 'another name')
})

t.test('the cookie: a value that is not a bare or a quoted b64token is malformed', async (t) => {
  for (const value of ['"', '"tok', 'tok"', '"a"b"', 'a b', '"a b"', '""""', 'a=b']) {
    expectMalformed(t, () => read(request({ headers: { cookie: `at=${value}` } })), value)
  }
})

t.test('the cookie: two cookies of the name are refused on the Bearer scheme', async (t) => {
  for (const header of ['at=a; at=b', 'at=a; at=a', 'at=; at=b', 'at=a;at=', ['at=a', 'at=b'], ['x=1; at=a', ' at = b ']]) {
    expectRepeated(t, () => read(request({ headers: { cookie: header } })), 'cookies', JSON.stringify(header))
  }
})

t.test('a sourced token: capped at maxTokenLength (exactly the cap passes), then in b64token grammar', async (t) => {
  const exact = 'a'.repeat(MAX)
  const over = 'a'.repeat(MAX + 1)
  const carriers: Array<[string, (token: string) => SourceRequest]> = [
    ['query', (token) => request({ url: `/p?access_token=${token}` })],
    ['body', (token) => form({ access_token: token })],
    ['cookie', (token) => request({ headers: { cookie: `at=${token}` } })]
  ]
  for (const [source, carry] of carriers) {
    t.strictSame(read(carry(exact)), { scheme: 'bearer', token: exact, source }, `${source}: exactly the cap`)
    expectBearerRefusal(t, refusal(() => read(carry(over))), InvalidTokenError, 'token_too_large', 'access token too large', `${source}: one over`)
    expectBearerRefusal(t, refusal(() => read(carry('*'.repeat(MAX + 1)))), InvalidTokenError, 'token_too_large', 'access token too large', `${source}: the cap before the grammar`)
    expectMalformed(t, () => read(carry('ab*c')), `${source}: a character outside b64token`)
    expectMalformed(t, () => read(carry('=abc')), `${source}: = before the end`)
    t.strictSame(read(carry('A-Za-z0-9._~/==')), { scheme: 'bearer', token: 'A-Za-z0-9._~/==', source }, `${source}: b64token characters`)
  }
  t.strictSame(read(request({ url: '/p?access_token=abcd' }), ALL, 4), { scheme: 'bearer', token: 'abcd', source: 'query' }, 'the cap given, not a constant')
  t.equal(refusal(() => read(request({ url: '/p?access_token=abcde' }), ALL, 4)).reason, 'token_too_large')
  expectMalformed(t, () => read(request({ url: '/p?access_token=a%20b' })), 'a decoded space')
})

t.test('more than one method is refused on the Bearer scheme, whatever the values hold', async (t) => {
  const multiple = (req: SourceRequest, label: string): void => {
    expectBearerRefusal(t, refusal(() => read(req)), InvalidRequestError, 'token_sources_multiple', 'access token sent by more than one method', label)
  }
  const bearer = { authorization: 'Bearer abc' }
  multiple(request({ headers: bearer, url: '/p?access_token=abc' }), 'header and query')
  multiple(request({ headers: { authorization: 'DPoP abc' }, url: '/p?access_token=abc' }), 'a DPoP header and query: still Bearer')
  multiple(form({ access_token: 'abc' }, 'POST', bearer), 'header and body')
  multiple(request({ headers: { ...bearer, cookie: 'at=abc' } }), 'header and cookie')
  multiple({ ...form({ access_token: 'abc' }), url: '/p?access_token=abc' }, 'query and body')
  multiple(form({ access_token: 'abc' }, 'POST', { cookie: 'at=abc' }), 'body and cookie')
  multiple(request({ url: '/p?access_token=abc', headers: { cookie: 'at=abc' } }), 'query and cookie')
  multiple({ ...form({ access_token: 'abc' }, 'POST', { ...bearer, cookie: 'at=abc' }), url: '/p?access_token=abc' }, 'all four')
  multiple(request({ url: `/p?access_token=${'*'.repeat(MAX + 1)}`, headers: { cookie: 'at=a b' } }), 'counted before any value is judged')
  t.strictSame(read(request({ headers: bearer, url: '/p?access_token=' })), { scheme: 'bearer', token: 'abc', source: 'header' }, 'an empty value is no method')
  t.strictSame(read(request({ url: '/p?x=1', headers: { cookie: 'at=abc' } })), { scheme: 'bearer', token: 'abc', source: 'cookie' })
})
