/**
 * RFC 8705 §3.1 certificate thumbprint: base64url(SHA-256(DER of the certificate)), the value a
 * certificate-bound token carries as `cnf["x5t#S256"]`. Only the DER bytes matter: whatever
 * hashes to the bound thumbprint is that certificate, so no X.509 parsing is needed.
 */
import { hash, X509Certificate } from 'node:crypto'
import type { ClientCertificate } from './options.js'

// One PEM certificate (RFC 7468 §5.1, lax whitespace), nothing else.
const PEM = /^\s*-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----\s*$/
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** DER bytes of one PEM certificate, or `undefined` when the text is not exactly that. */
export function pemToDer (pem: string): Buffer | undefined {
  const match = PEM.exec(pem)
  if (match === null) return undefined
  const body = (match[1] as string).replace(/\s+/g, '')
  if (body === '' || !BASE64.test(body)) return undefined
  return Buffer.from(body, 'base64')
}

/** The thumbprint of a certificate given as PEM, DER or `X509Certificate`; `undefined` when unreadable. */
export function certificateThumbprint (certificate: ClientCertificate): string | undefined {
  let der: Uint8Array | undefined
  if (certificate instanceof X509Certificate) der = certificate.raw
  else if (typeof certificate === 'string') der = pemToDer(certificate)
  else if (certificate instanceof Uint8Array) der = certificate.length > 0 ? certificate : undefined
  return der === undefined ? undefined : hash('sha256', der, 'base64url')
}
