/**
 * SPEC §2 resolution, looked at directly: defaults, explicit option > environment > default, and
 * the normalised values the rest of the plugin relies on.
 */
import t from 'tap'
import { resolveConfig } from '../../lib/config/options.js'
import type { CacheAdapter, ReplayStore } from '../../lib/index.js'

const ISSUER = 'https://tenant.example.com/'

t.test('defaults', async (t) => {
  const config = resolveConfig({ issuerBaseURL: ISSUER, audience: 'https://api.example.com/' }, {})
  t.strictSame(config.issuers, [{ issuer: ISSUER, algorithms: ['RS256'] }])
  t.strictSame(config.audience, ['https://api.example.com/'])
  t.strictSame(config.algorithms, ['RS256'])
  t.equal(config.clockTolerance, 5)
  t.equal(config.maxTokenLength, 16384)
  t.equal(config.timeout, 5000)
  t.equal(config.realm, 'api')
  t.equal(config.staleIfError, 3600)
  t.strictSame(config.cache, { ttl: 600, maxIssuers: 100, cooldown: 30, failureBackoff: 5, adapterTimeout: 500 })
  t.strictSame(config.dpop, { mode: 'allowed', algorithms: ['ES256'], iatOffset: 300, iatLeeway: 30, nonce: false })
  t.equal(config.publicBaseURL, undefined)
  t.equal(config.jwks, undefined)
  t.equal(config.domainsResolver, undefined)
})

t.test('issuer spellings', async (t) => {
  const issuer = (options: Record<string, unknown>): string => resolveConfig({ audience: 'a', ...options }, {}).issuers[0]?.issuer as string
  t.equal(issuer({ domain: 'Tenant.US.Auth0.com' }), 'https://tenant.us.auth0.com/')
  t.equal(issuer({ domain: 'tenant.us.auth0.com/' }), 'https://tenant.us.auth0.com/', 'one trailing slash on a domain is tolerated')
  t.equal(issuer({ domain: 'localhost:8443' }), 'https://localhost:8443/')
  t.equal(issuer({ issuerBaseURL: 'https://tenant.example.com' }), 'https://tenant.example.com', 'written without the slash: kept so')
  t.equal(issuer({ issuerBaseURL: 'HTTPS://Tenant.Example.com:443/' }), 'https://tenant.example.com/')
  t.equal(issuer({ issuerBaseURL: 'https://idp.example.com/realms/Main' }), 'https://idp.example.com/realms/Main', 'path case kept')
  t.equal(issuer({ issuerBaseURL: 'http://127.0.0.1:3000/' }), 'http://127.0.0.1:3000/')
  t.equal(issuer({ issuerBaseURL: 'http://localhost:3000' }), 'http://localhost:3000')
  t.equal(issuer({ issuerBaseURL: 'http://[::1]:3000/' }), 'http://[::1]:3000/')
  t.equal(issuer({ issuerBaseURL: ' https://tenant.example.com/ ' }), 'https://tenant.example.com/')
})

t.test('explicit option > environment > default', async (t) => {
  const env = { AUTH0_ISSUER_BASE_URL: 'https://env.example.com/', AUTH0_AUDIENCE: 'https://env-api/', AUTH0_DPOP_MODE: 'required' as const, AUTH0_PUBLIC_BASE_URL: 'https://env-public.example.com/base/' }
  const fromEnv = resolveConfig({}, env)
  t.equal(fromEnv.issuers[0]?.issuer, 'https://env.example.com/')
  t.strictSame(fromEnv.audience, ['https://env-api/'])
  t.equal(fromEnv.dpop.mode, 'required')
  t.equal(fromEnv.publicBaseURL, 'https://env-public.example.com/base')
  const explicit = resolveConfig({ issuerBaseURL: ISSUER, audience: ['https://a/', 'https://a/', 'https://b/'], dpop: { mode: 'disabled' }, publicBaseURL: 'http://api.example.com:8080/' }, env)
  t.equal(explicit.issuers[0]?.issuer, ISSUER)
  t.strictSame(explicit.audience, ['https://a/', 'https://b/'], 'deduplicated')
  t.equal(explicit.dpop.mode, 'disabled')
  t.equal(explicit.publicBaseURL, 'http://api.example.com:8080')
  t.strictSame(resolveConfig({ audience: 'x' }, { AUTH0_DOMAIN: 'env-tenant.example.com' }).issuers[0]?.issuer, 'https://env-tenant.example.com/')
})

t.test('stores, nonce and the rest are passed through validated', async (t) => {
  const adapter: CacheAdapter = { get: async () => undefined, set: async () => {}, delete: async () => {} }
  const replayStore: ReplayStore = { checkAndRemember: async () => true }
  const config = resolveConfig({
    issuerBaseURL: ISSUER,
    audience: 'a',
    algorithms: ['ES256', 'RS256', 'ES256'],
    cache: { ttl: 60, maxIssuers: 3, cooldown: 0, failureBackoff: 0, adapter },
    staleIfError: 0,
    clockTolerance: 0,
    dpop: { replayStore, algorithms: ['ES256', 'EdDSA'], iatOffset: 60, iatLeeway: 0, nonce: { secret: 's3cret', windowSeconds: 60 } }
  }, {})
  t.strictSame(config.algorithms, ['ES256', 'RS256'])
  t.equal(config.cache.adapter, adapter)
  t.equal(config.dpop.replayStore, replayStore)
  t.strictSame(config.dpop.nonce, { secret: 's3cret', windowSeconds: 60 })
  t.strictSame(config.dpop.algorithms, ['ES256', 'EdDSA'])
  t.equal(config.staleIfError, 0)
  t.equal(config.clockTolerance, 0)
  t.strictSame(resolveConfig({ issuerBaseURL: ISSUER, audience: 'a', dpop: { nonce: true } }, {}).dpop.nonce, { windowSeconds: 300 })
  t.strictSame(resolveConfig({ issuerBaseURL: ISSUER, audience: 'a', dpop: { nonce: {} } }, {}).dpop.nonce, { windowSeconds: 300 })
  t.equal(resolveConfig({ issuerBaseURL: ISSUER, audience: 'a', dpop: { nonce: false } }, {}).dpop.nonce, false)
  const resolver = (): string[] => []
  const dynamic = resolveConfig({ domains: resolver, audience: 'a' }, {})
  t.equal(dynamic.domainsResolver, resolver)
  t.strictSame(dynamic.issuers, [])
  const listed = resolveConfig({ domains: ['a.example.com', { issuer: 'https://b.example.com/x', jwksUri: 'https://keys.example.com/jwks', algorithms: ['PS256'] }], audience: 'a' }, {})
  t.strictSame(listed.issuers, [
    { issuer: 'https://a.example.com/', algorithms: ['RS256'] },
    { issuer: 'https://b.example.com/x', algorithms: ['PS256'], jwksUri: 'https://keys.example.com/jwks' }
  ])
})
