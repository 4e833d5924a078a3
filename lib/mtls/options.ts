/**
 * The `mtls` option (RFC 8705 certificate-bound access tokens): where the client certificate of a
 * request comes from. By default the TLS socket (Fastify `https` with `requestCert`); `header`
 * names the header a TLS-terminating proxy puts it in (URL-encoded PEM, as nginx's
 * `$ssl_client_escaped_cert`), read only from a peer Fastify's `trustProxy` trusts; `certificate`
 * is a function of the request for anything else.
 */
import type { X509Certificate } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import type { ChallengeScheme } from '../errors.js'
import type { MaybePromise } from '../util/maybe-async.js'

/** A client certificate: PEM text, DER bytes or a parsed certificate. */
export type ClientCertificate = string | Uint8Array | X509Certificate

/** Where the binding check finds a request's certificate (part of the pipeline's request). */
export interface CertificateRequest {
  /** The thumbprint of the connection's client certificate (a Fastify request). */
  clientThumbprint?: (mtls: ResolvedMtls, scheme: ChallengeScheme) => MaybePromise<string | undefined>
  /** The certificate itself (`fastify.auth0.verify()`). */
  clientCertificate?: ClientCertificate
}

export interface MtlsOptions {
  /**
   * Request header holding the client certificate as URL-encoded PEM, set by a TLS-terminating
   * proxy. Read only from a peer that Fastify's `trustProxy` trusts (a start-up error without it).
   */
  header?: string
  /** The request's client certificate, or `undefined` when it has none. Instead of `header`. */
  certificate?: (request: FastifyRequest) => ClientCertificate | undefined | Promise<ClientCertificate | undefined>
}

export interface ResolvedMtls {
  /** Lower-case header name. */
  header?: string
  certificate?: (request: FastifyRequest) => MaybePromise<ClientCertificate | undefined>
}

const KEYS = new Set(['header', 'certificate'])
// RFC 9110 §5.1 field-name (a token), and none the plugin or HTTP gives another meaning.
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const RESERVED = new Set(['authorization', 'dpop', 'cookie', 'host', 'content-type', 'content-length', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto'])

export function resolveMtls (value: unknown, fail: (message: string) => never): ResolvedMtls | undefined {
  if (value === undefined || value === false) return undefined
  if (value === true) return {}
  // Anything but a boolean or a plain object was refused with the other top-level types.
  for (const key of Object.keys(value as object)) {
    if (!KEYS.has(key)) fail(`mtls: unknown option "${key}" (known: ${[...KEYS].join(', ')})`)
  }
  const spec = value as MtlsOptions
  if (spec.header !== undefined && spec.certificate !== undefined) {
    fail('set mtls.header or mtls.certificate, not both: the certificate must come from one place')
  }
  const resolved: ResolvedMtls = {}
  if (spec.header !== undefined) {
    if (typeof spec.header !== 'string' || !FIELD_NAME.test(spec.header)) fail('mtls.header must be a header name')
    const header = spec.header.toLowerCase()
    if (RESERVED.has(header)) fail(`mtls.header cannot be "${header}": that header means something else`)
    resolved.header = header
  }
  if (spec.certificate !== undefined) {
    if (typeof spec.certificate !== 'function') fail('mtls.certificate must be a function (request) => certificate | undefined')
    resolved.certificate = spec.certificate
  }
  return resolved
}
