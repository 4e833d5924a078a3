/**
 * Issuer identifiers: turning a bare domain or a URL from configuration into the exact string a
 * token's `iss` must equal, and refusing what would weaken that (plain http off loopback,
 * credentials, query, fragment).
 */

const LOOPBACK_HOSTS = new Set(['localhost', '[::1]'])

export function isLoopbackHost (hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127(?:\.\d{1,3}){3}$/.test(hostname)
}

// RFC 3986 reg-name restricted to DNS labels, or an IPv4 address, with an optional port.
const HOST_PORT = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::\d{1,5})?$/

/** `tenant.us.auth0.com` → `https://tenant.us.auth0.com/`. Throws a message naming `option`. */
export function issuerFromDomain (domain: string, option: string): string {
  const value = domain.trim().toLowerCase()
  if (/^[a-z][a-z0-9+.-]*:\/\//.test(value)) {
    throw new Error(`${option} must be a bare host such as "tenant.us.auth0.com": drop the scheme ("${value.replace(/^[a-z][a-z0-9+.-]*:\/\//, '').replace(/\/+$/, '')}")`)
  }
  const host = value.replace(/\/$/, '')
  if (!HOST_PORT.test(host)) {
    throw new Error(`${option} must be a bare host such as "tenant.us.auth0.com", without path, query or credentials`)
  }
  return `https://${host}/`
}

/** Validates a configured issuer URL and returns it as given (the exact `iss` value). */
export function issuerFromUrl (url: string, option: string): string {
  let parsed: URL
  try {
    parsed = new URL(url.trim())
  } catch {
    throw new Error(`${option} must be an absolute URL such as "https://tenant.us.auth0.com/"`)
  }
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname))) {
    throw new Error(`${option} must use https (http is allowed only for loopback hosts such as 127.0.0.1)`)
  }
  if (parsed.username !== '' || parsed.password !== '' || parsed.search !== '' || parsed.hash !== '' || url.includes('#') || url.includes('?')) {
    throw new Error(`${option} must not contain credentials, a query or a fragment`)
  }
  // Scheme and host lower-cased by URL; the path is kept exactly as written. URL adds a slash to
  // an empty path: drop it again when it was not written, since some issuers' identifiers have no
  // trailing slash (discovery then pins the exact spelling).
  return parsed.pathname === '/' && !url.trim().endsWith('/') ? parsed.href.slice(0, -1) : parsed.href
}
