/**
 * lib/keys/issuer-policy.ts on its own: which configured issuer may verify a token, decided from
 * its unverified `iss` before any network call (exact match, the other trailing-slash spelling
 * where discovery may pin it, a `domains` resolver). test/core/domains.test.ts proves it over HTTP.
 */
import t from 'tap'
import { IssuerPolicy } from '../../lib/keys/issuer-policy.js'
import { resolveConfig } from '../../lib/config/options.js'
import { InternalAuthError, InvalidTokenError } from '../../lib/errors.js'
import type { Auth0PluginOptions, DomainsResolverContext } from '../../lib/types.js'
import { rejection as refusal } from '../helpers/refusal.js'

const REQUEST = { method: 'GET', url: '/api', headers: { host: 'api.example.com' } }

function policy (options: Partial<Auth0PluginOptions>): IssuerPolicy {
  return new IssuerPolicy(resolveConfig({ audience: 'https://api.example.com/', ...options }, {}))
}

t.test('a static list: exact issuers, synchronously', async (t) => {
  const p = policy({ domains: ['tenant.example.com', { issuer: 'https://other.example.com/', algorithms: ['ES256'] }] })
  t.strictSame(p.resolve('https://tenant.example.com/', REQUEST, 'bearer'), { issuer: 'https://tenant.example.com/', algorithms: ['RS256'] })
  t.strictSame(p.resolve('https://other.example.com/', REQUEST, 'bearer'), { issuer: 'https://other.example.com/', algorithms: ['ES256'] })
  for (const iss of ['https://tenant.example.com', 'https://TENANT.example.com/', 'https://tenant.example.com//', 'https://evil.example.com/', 'tenant.example.com']) {
    const err = await refusal(() => p.resolve(iss, REQUEST, 'dpop'))
    t.ok(err instanceof InvalidTokenError, iss)
    t.equal(err.reason, 'issuer_not_allowed', iss)
    t.equal(err.error_description, 'issuer not allowed')
    t.equal(err.scheme, 'dpop')
  }
})

t.test('no iss, or not a string: refused before any lookup, on the scheme used', async (t) => {
  const p = policy({ issuerBaseURL: 'https://tenant.example.com/' })
  for (const iss of [undefined, null, '', 42, ['https://tenant.example.com/'], { href: 'https://tenant.example.com/' }]) {
    const err = await refusal(() => p.resolve(iss, REQUEST, 'bearer'))
    t.ok(err instanceof InvalidTokenError, String(iss))
    t.equal(err.reason, 'issuer_missing')
    t.match(err.error_description, /^access token has no .?iss.? claim$/)
    t.equal(err.scheme, 'bearer')
  }
  let called = false
  const dynamic = policy({ domains: () => { called = true; return [] } })
  t.equal((await refusal(() => dynamic.resolve('', REQUEST, 'dpop'))).reason, 'issuer_missing')
  t.equal(called, false, 'the resolver is not asked')
})

t.test('the other trailing-slash spelling is allowed where discovery may pin it', async (t) => {
  // An issuer with a path, written without its slash, and one written with it.
  const p = policy({ domains: ['https://idp.example.com/realms/a', 'https://idp.example.com/realms/b/', 'https://bare.example.com'] })
  t.equal((await p.resolve('https://idp.example.com/realms/a', REQUEST, 'bearer')).issuer, 'https://idp.example.com/realms/a')
  t.equal((await p.resolve('https://idp.example.com/realms/a/', REQUEST, 'bearer')).issuer, 'https://idp.example.com/realms/a')
  t.equal((await p.resolve('https://idp.example.com/realms/b/', REQUEST, 'bearer')).issuer, 'https://idp.example.com/realms/b/')
  t.equal((await p.resolve('https://idp.example.com/realms/b', REQUEST, 'bearer')).issuer, 'https://idp.example.com/realms/b/')
  // A bare origin written without the slash: discovery may pin either spelling.
  t.equal((await p.resolve('https://bare.example.com', REQUEST, 'bearer')).issuer, 'https://bare.example.com')
  t.equal((await p.resolve('https://bare.example.com/', REQUEST, 'bearer')).issuer, 'https://bare.example.com')
  t.equal((await refusal(() => p.resolve('https://idp.example.com/realms/a//', REQUEST, 'bearer'))).reason, 'issuer_not_allowed')
})

t.test('no other spelling for a bare origin with its slash, nor for an entry with a jwksUri', async (t) => {
  const p = policy({ domains: ['https://tenant.example.com/', { issuer: 'https://idp.example.com/realms/a', jwksUri: 'https://idp.example.com/keys' }] })
  t.equal((await refusal(() => p.resolve('https://tenant.example.com', REQUEST, 'bearer'))).reason, 'issuer_not_allowed')
  t.equal((await p.resolve('https://idp.example.com/realms/a', REQUEST, 'bearer')).jwksUri, 'https://idp.example.com/keys')
  t.equal((await refusal(() => p.resolve('https://idp.example.com/realms/a/', REQUEST, 'bearer'))).reason, 'issuer_not_allowed')
})

t.test('an issuer listed in both spellings keeps its own entry', async (t) => {
  const p = policy({ domains: [{ issuer: 'https://idp.example.com/r', algorithms: ['RS256'] }, { issuer: 'https://idp.example.com/r/', algorithms: ['ES256'] }] })
  t.strictSame((await p.resolve('https://idp.example.com/r', REQUEST, 'bearer')).algorithms, ['RS256'])
  t.strictSame((await p.resolve('https://idp.example.com/r/', REQUEST, 'bearer')).algorithms, ['ES256'])
})

t.test('a resolver: sees the unverified iss and the request, and its answer is the allowlist', async (t) => {
  const seen: DomainsResolverContext[] = []
  const p = policy({
    domains: (context) => {
      seen.push(context)
      return ['tenant.example.com', { issuer: 'https://idp.example.com/realms/a', algorithms: ['ES256'] }]
    }
  })
  const entry = p.resolve('https://tenant.example.com/', REQUEST, 'bearer')
  t.ok(entry instanceof Promise, 'asynchronous with a resolver')
  t.strictSame(await entry, { issuer: 'https://tenant.example.com/', algorithms: ['RS256'] })
  t.strictSame(seen, [{ unverifiedIss: 'https://tenant.example.com/', request: REQUEST }])
  t.strictSame(await p.resolve('https://idp.example.com/realms/a/', REQUEST, 'bearer'), { issuer: 'https://idp.example.com/realms/a', algorithms: ['ES256'] }, 'the other spelling')
  const err = await refusal(() => p.resolve('https://evil.example.com/', REQUEST, 'dpop'))
  t.ok(err instanceof InvalidTokenError)
  t.equal(err.reason, 'issuer_not_allowed')
  t.equal(err.scheme, 'dpop')
})

t.test('a resolver answer in both spellings: the exact one wins', async (t) => {
  const p = policy({ domains: async () => [{ issuer: 'https://idp.example.com/r', algorithms: ['RS256'] }, { issuer: 'https://idp.example.com/r/', algorithms: ['ES256'] }] })
  t.strictSame((await p.resolve('https://idp.example.com/r/', REQUEST, 'bearer')).algorithms, ['ES256'])
  t.strictSame((await p.resolve('https://idp.example.com/r', REQUEST, 'bearer')).algorithms, ['RS256'])
})

t.test('a resolver that fails, answers no list or an invalid entry: 500 domains_resolver_failed', async (t) => {
  const boom = new Error('boom')
  const cases: Array<[string, Auth0PluginOptions['domains'], (cause: unknown) => boolean]> = [
    ['throws', () => { throw boom }, (cause) => cause === boom],
    ['rejects', async () => { throw boom }, (cause) => cause === boom],
    ['not an array', (() => 'tenant.example.com') as never, (cause) => cause instanceof TypeError && cause.message === 'domains resolver must return an array'],
    ['undefined', (() => undefined) as never, (cause) => cause instanceof TypeError],
    ['an invalid entry', () => ['tenant.example.com', 'http://insecure.example.com/'], (cause) => cause instanceof Error && /domains resolver result \[1\]/.test(cause.message)],
    ['an entry of the wrong type', (() => [42]) as never, (cause) => cause instanceof Error && /domains resolver result \[0\]/.test(cause.message)]
  ]
  for (const [name, domains, check] of cases) {
    const err = await refusal(() => policy({ domains }).resolve('https://tenant.example.com/', REQUEST, 'bearer'))
    t.ok(err instanceof InternalAuthError, name)
    t.equal(err.reason, 'domains_resolver_failed', name)
    t.equal(err.statusCode, 500, name)
    t.ok(check(err.cause), `${name}: cause kept`)
  }
})

t.test('an empty answer allows nothing', async (t) => {
  const err = await refusal(() => policy({ domains: () => [] }).resolve('https://tenant.example.com/', REQUEST, 'bearer'))
  t.equal(err.reason, 'issuer_not_allowed')
})
