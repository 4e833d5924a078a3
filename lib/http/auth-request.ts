/**
 * The request as the verification pipeline sees it: what `fastify.auth0.verify()` is given, plus
 * what only the route hook can know. Its own module so that the pipeline (lib/verifier.ts) and the
 * steps it calls (lib/dpop/checks.ts) both depend on it, and not on each other.
 */
import type { CertificateRequest } from '../mtls/options.js'
import type { VerifyRequest } from '../types.js'

/** A request as the pipeline sees it. */
export interface AuthRequest extends VerifyRequest, CertificateRequest {
  /** Authorization header lines received (Node keeps only the first in `headers`). */
  authorizationCount: number
  /** DPoP header lines received; default: counted from `headers.dpop`. */
  dpopCount?: number
  /**
   * The normalised URL the client targeted (DPoP `htu`); throws an `AuthError` for a bad Host or
   * proxy header. Default: `url` taken as absolute, or as a path under `publicBaseURL`.
   */
  targetUrl?: (publicBaseURL: string | undefined) => string
  /**
   * The request the route's functions (organization, `check`) receive: the Fastify request in a
   * hook, the object given to `fastify.auth0.verify()`.
   */
  subject: unknown
  /** The route pattern, for the diagnostics channels; read only when someone subscribes. */
  readonly route?: string | undefined
  /** Set to true by the token verifier when the verified-token cache answers (diagnostics channels). */
  tokenCacheHit?: boolean
}
