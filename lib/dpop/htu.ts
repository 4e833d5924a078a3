/**
 * The URL a DPoP proof's `htu` must name, and how both sides are compared.
 *
 * Comparison (RFC 9449 §4.3 step 9): both URLs are normalised per RFC 3986 §6.2.2–6.2.3 (scheme and
 * host lower-cased, percent-escape hex upper-cased, escapes of unreserved characters decoded, dot
 * segments removed, default port and empty port dropped, empty path made `/`), query and fragment
 * dropped, then compared as strings. Nothing else is loosened: the path keeps its case and its
 * trailing slash. The parser is deliberately narrow (http/https, DNS-style or IPv6-literal hosts,
 * RFC 3986 path characters only); anything outside it never matches.
 *
 * The request URL is built from parts validated one by one, so no header can move the boundary
 * between host and path (a Host of `api.example.com/admin?` is refused, not parsed):
 * - `publicBaseURL` + the raw request path, when configured;
 * - otherwise Fastify's `request.protocol` and `request.host` (which honour `trustProxy`), then
 *   `X-Forwarded-Prefix` when Fastify trusts the peer, then the raw request path.
 */
import type { FastifyRequest } from 'fastify'
import { InternalAuthError, InvalidRequestError } from '../errors.js'
import { headerCount } from '../http/header-count.js'

// RFC 3986 §2.3 unreserved characters, as they appear once decoded.
const UNRESERVED = /^[A-Za-z0-9\-._~]$/
// pchar / "/" (RFC 3986 §3.3), percent-escapes well-formed.
const PATH = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$/
// A DNS-style reg-name (no percent-escapes) or an IPv6 literal, then an optional port.
const AUTHORITY = /^(\[[0-9A-Fa-f]*:[0-9A-Fa-f:.]*\]|[A-Za-z0-9\-._~]+)(?::([0-9]*))?$/
// RFC 3986 Appendix B, restricted to absolute URLs with an authority.
const ABSOLUTE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(?:[?#].*)?$/
const DEFAULT_PORT: Record<string, string> = { http: '80', https: '443' }

/** `host[:port]` of a Host header or URL authority, normalised; `undefined` when not valid. */
export function parseAuthority (authority: string, scheme: string): string | undefined {
  const match = AUTHORITY.exec(authority)
  if (match === null) return undefined
  const host = (match[1] as string).toLowerCase()
  const digits = match[2]
  if (digits === undefined || digits === '') return host
  const port = Number(digits)
  if (port > 65535) return undefined
  return String(port) === DEFAULT_PORT[scheme] ? host : `${host}:${port}`
}

/** RFC 3986 §5.2.4 for an absolute path (one starting with `/`). */
function removeDotSegments (path: string): string {
  const output: string[] = []
  const segments = path.slice(1).split('/')
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as string
    const last = i === segments.length - 1
    if (segment === '.' || segment === '..') {
      if (segment === '..') output.pop()
      // `/a/.` and `/a/b/..` end in a directory: keep the trailing slash.
      if (last) output.push('')
      continue
    }
    output.push(segment)
  }
  return '/' + output.join('/')
}

/** Percent-encoding normalisation, then dot segments; `undefined` when not a valid path. */
export function normalizePath (path: string): string | undefined {
  if (!PATH.test(path)) return undefined
  const decoded = path.replace(/%([0-9A-Fa-f]{2})/g, (_escape, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16))
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`
  })
  return decoded === '' ? '/' : removeDotSegments(decoded)
}

/**
 * An absolute http(s) URL in normal form without query and fragment, or `undefined` when it is
 * not one (other scheme, userinfo, invalid host, port or path, whitespace or controls).
 */
export function normalizeHttpUrl (url: string): string | undefined {
  if (!/^[\x21-\x7e]+$/.test(url)) return undefined
  const match = ABSOLUTE.exec(url)
  if (match === null) return undefined
  const scheme = (match[1] as string).toLowerCase()
  if (scheme !== 'http' && scheme !== 'https') return undefined
  const authority = parseAuthority(match[2] as string, scheme)
  const path = normalizePath(match[3] as string)
  if (authority === undefined || path === undefined) return undefined
  return `${scheme}://${authority}${path}`
}

function badRequest (reason: string, description: string): InvalidRequestError {
  return new InvalidRequestError(reason, description, { scheme: 'dpop' })
}

/** The path of an origin-form request target (`/path?query`), query dropped. */
function targetPath (target: string): string {
  if (!target.startsWith('/')) throw badRequest('request_target_invalid', 'request target must be an absolute path')
  const query = target.indexOf('?')
  return query === -1 ? target : target.slice(0, query)
}

function joined (url: string): string {
  const normalized = normalizeHttpUrl(url)
  if (normalized === undefined) throw badRequest('request_target_invalid', 'request path is not a valid URI path')
  return normalized
}

/**
 * `X-Forwarded-Prefix` as a path prefix (`/api`), `''` when absent. Refused outright when it could
 * move the path somewhere else: `..`, `//`, `:`, NUL, encoded dots, a comma (several values) or
 * any character outside a URI path.
 */
export function forwardedPrefix (value: string | undefined): string {
  let prefix = (value ?? '').trim()
  if (prefix === '') return ''
  if (!prefix.startsWith('/')) prefix = '/' + prefix
  if (prefix.endsWith('/')) prefix = prefix.slice(0, -1)
  if (prefix.includes('..') || prefix.includes('//') || /[:,]|%2e|%00/i.test(prefix) || !PATH.test(prefix)) {
    throw badRequest('forwarded_prefix_invalid', 'invalid X-Forwarded-Prefix header')
  }
  return prefix
}

const PROBE = 'probe.fastify-auth0-api.invalid'

/**
 * Whether Fastify's `trustProxy` setting trusts this request's peer. Fastify does not expose the
 * setting, so its own `host` getter is asked on a probe carrying only an `X-Forwarded-Host`: the
 * getter returns it for a trusted peer and falls back to the (absent) Host header otherwise. Our
 * decision is then exactly Fastify's, whatever form `trustProxy` takes (boolean, list, function).
 */
export function peerTrusted (request: FastifyRequest): boolean {
  const probe = { headers: { 'x-forwarded-host': PROBE }, raw: { socket: request.raw.socket, headers: {} } }
  return Reflect.get(Object.getPrototypeOf(request) as object, 'host', probe) === PROBE
}

/** The normalised URL a client targeted, from a Fastify request (see the module comment). */
export function fastifyRequestUrl (request: FastifyRequest, publicBaseURL: string | undefined): string {
  // RFC 9112 §3.2: more than one Host, or an invalid one, is a 400, whatever builds the URL.
  if (headerCount(request.raw.rawHeaders, 'host') > 1) throw badRequest('host_repeated', 'more than one Host header')
  const rawHost = request.headers.host
  if (rawHost !== undefined && parseAuthority(rawHost, '') === undefined) throw badRequest('host_invalid', 'invalid Host header')
  const path = targetPath(request.raw.url as string)
  if (publicBaseURL !== undefined) return joined(publicBaseURL + path)

  const protocol = String(request.protocol).toLowerCase()
  if (protocol !== 'http' && protocol !== 'https') throw badRequest('forwarded_proto_invalid', 'invalid X-Forwarded-Proto header')
  const host = request.host
  if (host === '') throw badRequest('host_missing', 'Host header missing')
  // The raw Host passed above, so a host failing here came from X-Forwarded-Host.
  if (parseAuthority(host, protocol) === undefined) throw badRequest('forwarded_host_invalid', 'invalid X-Forwarded-Host header')
  const prefixHeader = request.headers['x-forwarded-prefix']
  const prefix = prefixHeader !== undefined && peerTrusted(request) ? forwardedPrefix(String(prefixHeader)) : ''
  return joined(`${protocol}://${host}${prefix}${path}`)
}

/**
 * The normalised URL for `fastify.auth0.verify({ url })`: an absolute URL as given, or a path
 * under `publicBaseURL`. A bare path without `publicBaseURL` is the application's mistake (500).
 */
export function verifyRequestUrl (url: string, publicBaseURL: string | undefined): string {
  if (url.startsWith('/')) {
    if (publicBaseURL === undefined) {
      throw new InternalAuthError('dpop_request_url_unknown', {
        cause: new TypeError('fastify.auth0.verify(): DPoP needs the absolute request URL (or the publicBaseURL option)')
      })
    }
    return joined(publicBaseURL + targetPath(url))
  }
  const normalized = normalizeHttpUrl(url)
  if (normalized === undefined) throw badRequest('request_url_invalid', 'request URL is not an absolute http(s) URL')
  return normalized
}
