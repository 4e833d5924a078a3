/**
 * Client authentication at the token endpoint (RFC 6749 §2.3.1, RFC 7523 §2.2).
 */
import { randomUUID } from 'node:crypto'
import { SignJWT } from 'jose'
import type { ClientAuth, ResolvedClient } from './client-config.js'

const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/**
 * Adds the client's credentials to a token request: the secret in the form (client_secret_post) or
 * in `Authorization: Basic` (client_secret_basic), or a fresh private-key JWT assertion. Returns the
 * credential values sent, so that an answer echoing one can be redacted.
 */
export async function authenticateClient (c: ResolvedClient, params: URLSearchParams, headers: Record<string, string>): Promise<string[]> {
  const { clientId, secret, assertion } = c.auth
  if (secret !== undefined) {
    if (secret.method === 'client_secret_basic') {
      // RFC 6749 §2.3.1: each part form-urlencoded before base64.
      const encode = (v: string): string => encodeURIComponent(v).replace(/%20/g, '+')
      headers.authorization = `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret.value)}`).toString('base64')}`
    } else {
      params.set('client_id', clientId)
      params.set('client_secret', secret.value)
    }
    return [secret.value]
  }
  const { key, alg, kid } = assertion as NonNullable<ClientAuth['assertion']>
  const jwt = await new SignJWT({})
    .setProtectedHeader({ alg, typ: 'JWT', ...(kid !== undefined ? { kid } : {}) })
    .setIssuer(clientId)
    .setSubject(clientId)
    // RFC 7523 §3 and Auth0: the audience is the authorization server's issuer identifier.
    .setAudience(c.issuer)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime('60s')
    .sign(key)
  params.set('client_id', clientId)
  params.set('client_assertion_type', JWT_BEARER_ASSERTION)
  params.set('client_assertion', jwt)
  return [jwt]
}
