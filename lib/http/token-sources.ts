/**
 * Where a request may carry its access token (RFC 6750 §2): the Authorization header (always the
 * default), the `access_token` query parameter, the `access_token` member of a form body, or a
 * named cookie. Opt-in, per plugin or per route, because every other place leaks more than a
 * header does (logs, Referer, caches; cookies are sent by the browser on its own, hence CSRF).
 *
 * RFC 6750's rules: one method per request (§2: two are a 400 `invalid_request`, §3.1), so is a
 * repeated parameter; a form body only as `application/x-www-form-urlencoded` and never on GET
 * (§2.2); only the header carries the DPoP scheme (RFC 9449 §7.1), any other source is Bearer.
 * An empty value counts as absent, as an empty Authorization header does.
 */
import { InternalAuthError, InvalidRequestError, InvalidTokenError } from '../errors.js'
import { B64TOKEN, FOREIGN_SCHEME, readCredentials, type Credentials } from './authorization.js'

/** A place the access token may come from. */
export type TokenSource = 'header' | 'query' | 'body' | { cookie: string }

/** How the accepted token travelled (`request.auth.source`; absent for the header). */
export type TokenSourceName = 'header' | 'query' | 'body' | 'cookie'

export interface ResolvedTokenSources {
  /** Only the Authorization header: the default, read by the fast path. */
  readonly headerOnly: boolean
  readonly header: boolean
  readonly query: boolean
  readonly body: boolean
  readonly cookie: string | undefined
  /** RFC 9728 `bearer_methods_supported` values (the cookie has none). */
  readonly methods: ReadonlyArray<'header' | 'body' | 'query'>
}

export interface SourcedCredentials extends Credentials {
  source: TokenSourceName
}

/** What the sources read from a request. */
export interface SourceRequest {
  method: string
  url: string
  headers: Record<string, string | string[] | undefined>
  authorizationCount: number
  /** The parsed body (a form parser such as @fastify/formbody gives an object). */
  body?: unknown
}

// RFC 6265 §4.1.1: cookie-name is an RFC 9110 token.
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

export const HEADER_ONLY: ResolvedTokenSources = Object.freeze({ headerOnly: true, header: true, query: false, body: false, cookie: undefined, methods: Object.freeze(['header'] as const) })

/** Validates a `tokenSources` option; `name` is how errors call it. */
export function resolveTokenSources (value: unknown, name: string, fail: (message: string) => never): ResolvedTokenSources {
  const usage = `${name} must be a non-empty array of 'header', 'query', 'body' and { cookie: name }`
  if (!Array.isArray(value) || value.length === 0) fail(usage)
  let header = false
  let query = false
  let body = false
  let cookie: string | undefined
  for (const entry of value as unknown[]) {
    if (entry === 'header' || entry === 'query' || entry === 'body') {
      if ((entry === 'header' && header) || (entry === 'query' && query) || (entry === 'body' && body)) fail(`${name} lists '${entry}' twice`)
      if (entry === 'header') header = true
      else if (entry === 'query') query = true
      else body = true
    } else if (typeof entry === 'object' && entry !== null && !Array.isArray(entry) && Object.keys(entry).join() === 'cookie') {
      const cookieName = (entry as { cookie: unknown }).cookie
      if (typeof cookieName !== 'string' || !COOKIE_NAME.test(cookieName)) fail(`${name}: cookie must be a cookie name (an RFC 6265 token)`)
      if (cookie !== undefined) fail(`${name} lists more than one cookie`)
      cookie = cookieName
    } else {
      fail(usage)
    }
  }
  if (header && !query && !body && cookie === undefined) return HEADER_ONLY
  const methods: Array<'header' | 'body' | 'query'> = []
  if (header) methods.push('header')
  if (body) methods.push('body')
  if (query) methods.push('query')
  return Object.freeze({ headerOnly: false, header, query, body, cookie, methods: Object.freeze(methods) })
}

/** One token value from a non-header source: capped, in b64token grammar, as a header token is. */
function checked (token: string, source: TokenSourceName, maxTokenLength: number): SourcedCredentials {
  if (token.length > maxTokenLength) throw new InvalidTokenError('token_too_large', 'access token too large', { scheme: 'bearer' })
  if (!B64TOKEN.test(token)) throw new InvalidRequestError('access_token_malformed', 'access_token contains characters not allowed in a bearer token', { scheme: 'bearer' })
  return { scheme: 'bearer', token, source }
}

/** A body `access_token` that is not a string: counts as a method, then fails the grammar. */
const MALFORMED = '\u0000'

const REPEATED = (where: string): InvalidRequestError =>
  new InvalidRequestError('access_token_repeated', `access_token sent more than once in the ${where}`, { scheme: 'bearer' })

/**
 * `access_token` values of a form-encoded string (query or body), decoded as a form parser does
 * (`+` a space, `access%5Ftoken` the same name): whatever Fastify's parsers see, this sees.
 */
function formValues (encoded: string): string[] {
  return encoded === '' ? [] : new URLSearchParams(encoded).getAll('access_token')
}

/**
 * `url` with the value of every `access_token` query parameter replaced by `[redacted]`, for log
 * lines. Names are decoded as `fromQuery` decodes them, so no spelling of the name slips by.
 */
export function redactQueryToken (url: string): string {
  const start = url.indexOf('?')
  if (start === -1 || !new URLSearchParams(url.slice(start + 1)).has('access_token')) return url
  const parts = url.slice(start + 1).split('&').map((part) => {
    const eq = part.indexOf('=')
    const name = eq === -1 ? part : part.slice(0, eq)
    return new URLSearchParams(`${name}=`).has('access_token') ? `${name}=[redacted]` : part
  })
  return `${url.slice(0, start + 1)}${parts.join('&')}`
}

/** The query's `access_token` value, unchecked; `undefined` when absent or empty. */
function fromQuery (url: string): string | undefined {
  const start = url.indexOf('?')
  if (start === -1) return undefined
  const hash = url.indexOf('#', start)
  const values = formValues(url.slice(start + 1, hash === -1 ? undefined : hash))
  if (values.length > 1) throw REPEATED('query')
  return values[0] === '' ? undefined : values[0]
}

/**
 * RFC 6750 §2.2: the method must give request content a meaning. GET and HEAD give it none (RFC
 * 9110 §9.3.1-2), a TRACE request must carry none (§9.3.8) and CONNECT's content is the tunnel:
 * Fastify never parses a body for these (TRACE is bodyless to it), so no form is read there.
 */
const NO_FORM_METHODS = new Set(['GET', 'HEAD', 'TRACE', 'CONNECT'])

/**
 * The methods Fastify parses a body for by default. Only there does a missing body on a request
 * with content mean a hook ran too early: a method added by `addHttpMethod` without `hasBody` gets
 * no body whatever the client sends, and a client must not be able to turn that into a 500.
 */
const PARSED_BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'QUERY'])

/** Whether the request says it carries content (RFC 9112 §6.3: a Transfer-Encoding, or a Content-Length above 0). */
function announcesContent (headers: SourceRequest['headers']): boolean {
  const length = headers['content-length']
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}

/** RFC 6750 §2.2: a form body's `access_token` (media type compared without parameters), unchecked. */
function fromBody (request: SourceRequest): string | undefined {
  if (NO_FORM_METHODS.has(request.method)) return undefined
  const type = request.headers['content-type']
  if (typeof type !== 'string' || type.split(';', 1)[0]?.trim().toLowerCase() !== 'application/x-www-form-urlencoded') return undefined
  const body = request.body
  let value: unknown
  if (typeof body === 'string') {
    const values = formValues(body)
    if (values.length > 1) throw REPEATED('body')
    value = values[0]
  } else if (typeof body === 'object' && body !== null && !Buffer.isBuffer(body)) {
    value = (body as Record<string, unknown>).access_token
  } else if (body === undefined && (!announcesContent(request.headers) || !PARSED_BODY_METHODS.has(request.method))) {
    // A form media type on a request without content, or on a method Fastify reads no body for: no token.
    return undefined
  } else {
    // A form request whose body is not there: the hook ran before Fastify parsed it (`onRequest`),
    // or no form parser is registered. A configuration error, loudly.
    throw new InternalAuthError('body_not_parsed')
  }
  if (Array.isArray(value)) throw REPEATED('body')
  if (value === undefined || value === '') return undefined
  // A parser that gives objects for `a[b]=c` (qs) may give one: no bearer token.
  return typeof value === 'string' ? value : MALFORMED
}

/** The named cookie of the Cookie header(s) (RFC 6265 §5.4: `name=value` pairs split by `;`). */
function fromCookie (header: string | string[] | undefined, name: string): string | undefined {
  if (header === undefined) return undefined
  const text = Array.isArray(header) ? header.join('; ') : header
  if (!text.includes(name)) return undefined
  let found: string | undefined
  for (const pair of text.split(';')) {
    const eq = pair.indexOf('=')
    if (eq === -1 || pair.slice(0, eq).trim() !== name) continue
    // Two cookies of one name (set for different paths or domains): which one is meant is unknown.
    if (found !== undefined) throw REPEATED('cookies')
    found = pair.slice(eq + 1).trim()
  }
  if (found === undefined) return undefined
  // RFC 6265: cookie-value = *cookie-octet / ( DQUOTE *cookie-octet DQUOTE )
  if (found.length >= 2 && found.startsWith('"') && found.endsWith('"')) found = found.slice(1, -1)
  return found === '' ? undefined : found
}

/**
 * The request's credentials from the allowed sources: `undefined` when none carries a token,
 * a 400 when more than one does (RFC 6750 §2) or a value is repeated or malformed.
 */
export function readSourcedCredentials (request: SourceRequest, sources: ResolvedTokenSources, maxTokenLength: number): SourcedCredentials | typeof FOREIGN_SCHEME | undefined {
  let found: SourcedCredentials | undefined
  let count = 0
  // An Authorization header of another scheme (`Basic …`, e.g. from a proxy) is no token of ours:
  // it counts as no method, and is answered as such only when no other source carries a token.
  let foreign = false
  if (sources.header) {
    const credentials = readCredentials(request.headers.authorization, request.authorizationCount, maxTokenLength)
    if (credentials === FOREIGN_SCHEME) foreign = true
    else if (credentials !== undefined) { found = { ...credentials, source: 'header' }; count++ }
  }
  // Every method is counted before any value is judged: two methods are a 400 whatever they hold.
  const candidates: Array<[TokenSourceName, string | undefined]> = [
    ['query', sources.query ? fromQuery(request.url) : undefined],
    ['body', sources.body ? fromBody(request) : undefined],
    ['cookie', sources.cookie !== undefined ? fromCookie(request.headers.cookie, sources.cookie) : undefined]
  ]
  let value: [TokenSourceName, string] | undefined
  for (const [source, token] of candidates) {
    if (token === undefined) continue
    value ??= [source, token]
    count++
  }
  if (count > 1) throw new InvalidRequestError('token_sources_multiple', 'access token sent by more than one method', { scheme: 'bearer' })
  if (value !== undefined) return checked(value[1], value[0], maxTokenLength)
  return found ?? (foreign ? FOREIGN_SCHEME : undefined)
}
