/**
 * Verifies signature and registered claims with jose's semantics (the synchronous fast path of
 * fast-verify.ts, else jose's `jwtVerify`), then the checks jose leaves to us (`sub` type, `iat`
 * not in the future, `cnf` shape), and maps every jose failure to a typed 401 with a stable
 * reason. Unknown errors are rethrown untouched (they become a 500).
 * The algorithm allowlist is checked by the verifier before any key is fetched, with the same
 * list given to jose here, so jose's own JOSEAlgNotAllowed cannot occur.
 */
import { errors as joseErrors, jwtVerify, type CryptoKey } from 'jose'
import { AuthError, InvalidTokenError, type ChallengeScheme } from '../errors.js'
import type { AccessTokenClaims } from '../types.js'
import type { MaybePromise } from '../util/maybe-async.js'
import { checkJwtFast, type FastVerifyOptions, type StrictlyDecoded } from './fast-verify.js'

export interface ClaimRules {
  issuer: string
  audience: readonly string[]
  algorithms: readonly string[]
  clockTolerance: number
}

const CLAIM_REASONS: Record<string, [string, string]> = {
  iss: ['issuer_mismatch', 'unexpected iss claim value'],
  aud: ['audience_mismatch', 'unexpected aud claim value'],
  nbf: ['nbf_invalid', 'invalid nbf claim'],
  iat: ['iat_invalid', 'invalid iat claim'],
  exp: ['exp_invalid', 'invalid exp claim']
}

export function mapJoseError (err: unknown, scheme: ChallengeScheme): unknown {
  const options = { scheme, cause: err }
  if (err instanceof joseErrors.JWTExpired) return new InvalidTokenError('token_expired', 'token expired', options)
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return new InvalidTokenError('claim_missing', `missing required ${err.claim} claim`, options)
    if (err.claim === 'nbf' && err.reason === 'check_failed') return new InvalidTokenError('token_not_yet_valid', 'token not yet valid (nbf)', options)
    // Every claim jose checks with the options below has an entry (anything else is a 500).
    const [reason, description] = CLAIM_REASONS[err.claim] as [string, string]
    return new InvalidTokenError(reason, description, options)
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return new InvalidTokenError('signature_invalid', 'signature verification failed', options)
  if (err instanceof joseErrors.JOSENotSupported) return new InvalidTokenError('header_unsupported', 'token uses an unsupported header or algorithm', options)
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) return new InvalidTokenError('malformed', 'access token is malformed', options)
  return err
}

// One array for every request: jose and the fast path only read it.
const REQUIRED_CLAIMS = ['exp', 'iat', 'sub']

/** The options given to jose (and to the fast path, which honours exactly these). */
export function joseOptions (rules: ClaimRules): FastVerifyOptions {
  return {
    issuer: rules.issuer,
    audience: rules.audience as string[],
    algorithms: rules.algorithms as string[],
    clockTolerance: rules.clockTolerance,
    requiredClaims: REQUIRED_CLAIMS
  }
}

/** The checks jose leaves to us, on a payload jose's rules accepted. */
export function checkClaims (payload: Record<string, unknown>, rules: ClaimRules, scheme: ChallengeScheme): AccessTokenClaims {
  if (typeof payload.sub !== 'string' || payload.sub === '') {
    throw new InvalidTokenError('sub_invalid', 'invalid sub claim', { scheme })
  }
  if ((payload.iat as number) > Date.now() / 1000 + rules.clockTolerance) {
    throw new InvalidTokenError('iat_invalid', 'token issued in the future (iat)', { scheme })
  }
  if ('cnf' in payload && (typeof payload.cnf !== 'object' || payload.cnf === null || Array.isArray(payload.cnf) ||
    ('jkt' in payload.cnf && (typeof (payload.cnf as { jkt: unknown }).jkt !== 'string' || (payload.cnf as { jkt: string }).jkt === '')))) {
    throw new InvalidTokenError('cnf_invalid', 'invalid cnf claim', { scheme })
  }
  // A token bound by a confirmation method we cannot check (mTLS `x5t#S256`, `jwk`, `jku` …) is
  // sender-constrained all the same: accepting it as a bearer token would undo the binding.
  if ('cnf' in payload && Object.keys(payload.cnf as object).some((member) => member !== 'jkt')) {
    throw new InvalidTokenError('binding_unsupported', 'token bound by an unsupported confirmation method', { scheme })
  }
  return payload as AccessTokenClaims
}

/** The refusal for a jose error; anything unexpected is thrown (it becomes a 500). */
function refusal (err: unknown, scheme: ChallengeScheme): AuthError {
  const mapped = mapJoseError(err, scheme)
  if (mapped instanceof AuthError) return mapped
  throw mapped
}

/**
 * Synchronous on the fast path, a promise when jose's `jwtVerify` has to judge the token. A bad
 * signature or claim is returned as its `AuthError`, not thrown (see `checkJwtFast`); the checks
 * of `checkClaims` still throw. `decoded` is `decodeCompactJws`'s reading of `token`.
 */
export function verifyClaims (token: string, key: CryptoKey, rules: ClaimRules, scheme: ChallengeScheme, decoded?: StrictlyDecoded): MaybePromise<AccessTokenClaims | AuthError> {
  const options = joseOptions(rules)
  let payload: Record<string, unknown> | Error | undefined
  try {
    payload = checkJwtFast(token, key, options, decoded)
  } catch (err) {
    return refusal(err, scheme)
  }
  if (payload instanceof Error) return refusal(payload, scheme)
  if (payload !== undefined) return checkClaims(payload, rules, scheme)
  return jwtVerify(token, key, options).then(
    (result) => checkClaims(result.payload, rules, scheme),
    (err: unknown) => refusal(err, scheme))
}
