/**
 * The client certificate of a Fastify request, as a thumbprint: from `mtls.certificate(request)`,
 * else from the `mtls.header` a trusted proxy set, else from the TLS socket. A header from a peer
 * `trustProxy` does not trust is ignored (anyone reaching the app directly could forge it).
 */
import type { TLSSocket } from 'node:tls'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { InternalAuthError, InvalidTokenError, type ChallengeScheme } from '../errors.js'
import { then, type MaybePromise } from '../util/maybe-async.js'
import type { ClientCertificate, ResolvedMtls } from './options.js'
import { certificateThumbprint } from './thumbprint.js'

/** The thumbprint of a certificate known to be there, or the 401 for one that cannot be read. */
export function thumbprintOf (certificate: ClientCertificate, scheme: ChallengeScheme): string {
  const thumbprint = certificateThumbprint(certificate)
  if (thumbprint === undefined) throw new InvalidTokenError('mtls_certificate_unreadable', 'client certificate unreadable', { scheme })
  return thumbprint
}

// The certificate of a TLS connection does not change: hashed once per connection.
const socketThumbprints = new WeakMap<object, string | null>()

function socketThumbprint (socket: Partial<TLSSocket> | null | undefined): string | undefined {
  if (socket === null || socket === undefined || typeof socket.getPeerX509Certificate !== 'function') return undefined
  let thumbprint = socketThumbprints.get(socket)
  if (thumbprint === undefined) {
    const certificate = socket.getPeerX509Certificate()
    thumbprint = certificate === undefined ? null : certificateThumbprint(certificate) as string
    socketThumbprints.set(socket, thumbprint)
  }
  return thumbprint ?? undefined
}

type IpsGetter = (this: { raw: unknown }) => string[]
const ipsGetters = new WeakMap<object, IpsGetter | null>()

/**
 * Whether Fastify's `trustProxy` trusts the peer of this connection, decided by Fastify's own
 * trust function: its `ips` getter, given the peer address and one forwarded address, keeps the
 * forwarded one only when the peer is trusted. Without `trustProxy`, requests have no `ips`.
 */
export function trustedPeer (request: FastifyRequest): boolean {
  const prototype = Object.getPrototypeOf(request) as object
  let getter = ipsGetters.get(prototype)
  if (getter === undefined) {
    getter = null
    for (let o: object | null = prototype; o !== null; o = Object.getPrototypeOf(o) as object | null) {
      const descriptor = Object.getOwnPropertyDescriptor(o, 'ips')
      // Fastify defines `ips` as a getter; anything else (a decoration of that name) trusts no one.
      /* c8 ignore next */
      if (descriptor !== undefined) { getter = (descriptor.get as IpsGetter | undefined) ?? null; break }
    }
    ipsGetters.set(prototype, getter)
  }
  // A socket already closed has no address: trusted by no one.
  const remoteAddress = request.raw.socket?.remoteAddress
  /* c8 ignore next */
  if (getter === null || remoteAddress === undefined) return false
  return getter.call({ raw: { socket: { remoteAddress }, headers: { 'x-forwarded-for': '192.0.2.1' } } }).length === 2
}

/** Whether this Fastify instance was created with `trustProxy` (its request class has `ips`). */
export function instanceTrustsProxies (fastify: FastifyInstance): boolean | undefined {
  for (let o: object | null = fastify; o !== null; o = Object.getPrototypeOf(o) as object | null) {
    for (const symbol of Object.getOwnPropertySymbols(o)) {
      if (symbol.description !== 'fastify.Request') continue
      const Request = (o as Record<symbol, unknown>)[symbol]
      return typeof Request === 'function' && 'ips' in Request.prototype
      /* c8 ignore start */
    }
  }
  // Fastify internals not found (another major): no start-up check, the per-request one still holds.
  return undefined
}
/* c8 ignore stop */

function fromHeader (value: string | string[], scheme: ChallengeScheme): string {
  let pem: string
  try {
    // Percent-decoding only: in `$ssl_client_escaped_cert` a `+` is base64, never a space. Two
    // header lines (Node joins them with a comma) are no PEM: the proxy did not replace the client's.
    pem = decodeURIComponent(String(value))
  } catch {
    throw new InvalidTokenError('mtls_certificate_unreadable', 'client certificate unreadable', { scheme })
  }
  return thumbprintOf(pem, scheme)
}

/** The request's client-certificate thumbprint; `undefined` when it presented none. */
export function requestThumbprint (request: FastifyRequest, mtls: ResolvedMtls, scheme: ChallengeScheme): MaybePromise<string | undefined> {
  if (mtls.certificate !== undefined) {
    let certificate: MaybePromise<ClientCertificate | undefined>
    try {
      certificate = mtls.certificate(request)
    } catch (err) {
      throw new InternalAuthError('mtls_certificate_failed', { cause: err })
    }
    const read = (value: ClientCertificate | undefined | null): string | undefined => value === undefined || value === null ? undefined : thumbprintOf(value, scheme)
    return certificate instanceof Promise
      ? certificate.then(read, (err: unknown) => { throw new InternalAuthError('mtls_certificate_failed', { cause: err }) })
      : then(certificate, read)
  }
  if (mtls.header !== undefined) {
    const value = request.headers[mtls.header]
    if (value !== undefined && trustedPeer(request)) return fromHeader(value, scheme)
  }
  return socketThumbprint(request.raw.socket as Partial<TLSSocket>)
}
