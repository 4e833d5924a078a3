/**
 * RFC 8705 §3: a token with `cnf["x5t#S256"]` is usable only on a connection authenticated with
 * that client certificate. Checked on every request (verified-token cache hits included): the
 * token is cached, the binding is per connection. A missing or other certificate is the token's
 * fault (401 `invalid_token`, RFC 8705 §3 and Auth0's documentation), as for `cnf.jkt`.
 */
import { AuthError, InvalidTokenError, type ChallengeScheme } from '../errors.js'
import { then, type MaybePromise } from '../util/maybe-async.js'
import type { CertificateRequest, ResolvedMtls } from './options.js'
import { thumbprintOf } from './client-certificate.js'

export class CertificateBinding {
  readonly #mtls: ResolvedMtls | undefined

  constructor (mtls: ResolvedMtls | undefined) {
    this.#mtls = mtls
  }

  /** The matching thumbprint, or the refusal. */
  check (x5t: unknown, request: CertificateRequest, scheme: ChallengeScheme): MaybePromise<string | AuthError> {
    const mtls = this.#mtls
    // Without `mtls`, accepting the token as a bearer token would undo its binding.
    if (mtls === undefined) return new InvalidTokenError('binding_unsupported', 'token bound by an unsupported confirmation method', { scheme })
    const thumbprint = request.clientThumbprint !== undefined
      ? request.clientThumbprint(mtls, scheme)
      : request.clientCertificate === undefined ? undefined : thumbprintOf(request.clientCertificate, scheme)
    return then(thumbprint, (presented) => {
      if (presented === undefined) return new InvalidTokenError('mtls_certificate_missing', 'certificate-bound token sent without a client certificate', { scheme })
      if (presented !== x5t) return new InvalidTokenError('x5t_mismatch', 'client certificate does not match the token binding (x5t#S256)', { scheme })
      return presented
    })
  }
}
