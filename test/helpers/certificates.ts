/**
 * X.509 certificates made per run with the `openssl` command (node:crypto cannot issue one): a
 * self-signed EC P-256 certificate and key, valid one day. `thumbprint` is RFC 8705's
 * `x5t#S256` as computed by openssl itself (`x509 -fingerprint -sha256`, hex → base64url), an
 * independent witness of the bytes our code hashes.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface Certificate {
  /** PEM certificate. */
  cert: string
  /** PEM private key. */
  key: string
  /** base64url(SHA-256(DER)), from openssl's own fingerprint. */
  thumbprint: string
  /** The URL-encoded PEM, as nginx's `$ssl_client_escaped_cert` sends it. */
  escaped: string
}

/** A certificate for `name` (server certificates get `IP:127.0.0.1, DNS:localhost`). */
export async function makeCertificate (name: string, options: { server?: boolean } = {}): Promise<Certificate> {
  const dir = await mkdtemp(join(tmpdir(), 'fa0-cert-'))
  try {
    const keyFile = join(dir, 'key.pem')
    const certFile = join(dir, 'cert.pem')
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-days', '1', '-nodes',
      '-subj', `/CN=${name}`, ...(options.server === true ? ['-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'] : []),
      '-keyout', keyFile, '-out', certFile])
    const { stdout } = await run('openssl', ['x509', '-in', certFile, '-noout', '-fingerprint', '-sha256'])
    const hex = /Fingerprint=([0-9A-F:]+)/i.exec(stdout)?.[1]?.replace(/:/g, '')
    if (hex === undefined || hex.length !== 64) throw new Error(`unexpected openssl output: ${stdout}`)
    const cert = await readFile(certFile, 'utf8')
    return { cert, key: await readFile(keyFile, 'utf8'), thumbprint: Buffer.from(hex, 'hex').toString('base64url'), escaped: escapePem(cert) }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** nginx's `$ssl_client_escaped_cert`: every byte outside unreserved URI characters percent-encoded. */
export function escapePem (pem: string): string {
  return encodeURIComponent(pem)
}
