/**
 * Where the token endpoint is: the `tokenEndpoint` option, or the issuer's discovery document,
 * fetched on first use and remembered (one fetch for concurrent first calls; a failure is
 * forgotten so that the next call retries).
 */
import { isLoopbackHost } from '../config/issuer-url.js'
import { fetchJson } from '../keys/fetch-json.js'
import type { ResolvedClient } from './client-config.js'
import { TokenEndpointError } from './errors.js'

/** A function resolving the client's token endpoint URL, memoised. */
export function tokenEndpointOf (c: ResolvedClient): () => Promise<string> {
  let endpoint: Promise<string> | undefined = c.tokenEndpoint !== undefined ? Promise.resolve(c.tokenEndpoint) : undefined
  return async () => {
    endpoint ??= discover(c).catch((err: unknown) => {
      endpoint = undefined
      throw err
    })
    return await endpoint
  }
}

async function discover (c: ResolvedClient): Promise<string> {
  const url = `${c.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`
  let body: unknown
  try {
    ({ body } = await fetchJson(url, c.timeout))
  } catch (err) {
    throw new TokenEndpointError('discovery_failed', `could not read ${url}: ${(err as Error).message}`, undefined, { cause: err })
  }
  const doc = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
  if (typeof doc.issuer !== 'string' || doc.issuer.replace(/\/$/, '') !== c.issuer.replace(/\/$/, '')) {
    throw new TokenEndpointError('discovery_failed', `discovery at ${url} names another issuer`)
  }
  const tokenEndpoint = doc.token_endpoint
  let parsed: URL | undefined
  try { parsed = new URL(String(tokenEndpoint)) } catch {}
  if (typeof tokenEndpoint !== 'string' || parsed === undefined ||
    // Client credentials travel to it: plain http only to a loopback host.
    !(parsed.protocol === 'https:' || (parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname)))) {
    throw new TokenEndpointError('discovery_failed', `discovery at ${url} has no usable https token_endpoint`)
  }
  return tokenEndpoint
}
