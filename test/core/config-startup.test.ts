/**
 * SPEC §2: configuration problems stop `register` with a message naming the option or variable.
 */
import t from 'tap'
import { PLUGIN_OPTIONS } from '../../lib/config/options.js'
import type { Auth0PluginOptions } from '../../lib/index.js'
import { AUDIENCE } from '../helpers/app.js'
import { startupError } from '../helpers/startup.js'

const P = 'fastify-auth0-api: '
const ISSUER = 'https://tenant.example.com/'
const base: Auth0PluginOptions = { issuerBaseURL: ISSUER, audience: AUDIENCE, env: {} }
const SUPPORTED = 'RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, Ed25519'

const cases: Array<[string, Auth0PluginOptions, string]> = [
  // audience
  ['no audience', { issuerBaseURL: ISSUER, env: {} }, 'audience is required: set the audience option or AUTH0_AUDIENCE (your API identifier, e.g. "https://api.example.com/")'],
  ['empty audience', { ...base, audience: '' }, 'audience is required: set the audience option or AUTH0_AUDIENCE (your API identifier, e.g. "https://api.example.com/")'],
  ['empty audience list', { ...base, audience: [] }, 'audience is required: set the audience option or AUTH0_AUDIENCE (your API identifier, e.g. "https://api.example.com/")'],
  ['audience list with a blank entry', { ...base, audience: ['https://a/', ' '] }, 'audience is required: set the audience option or AUTH0_AUDIENCE (your API identifier, e.g. "https://api.example.com/")'],
  // A value of the wrong type names the type expected, never "audience is required" (issue 12).
  ['audience not a string', { ...base, audience: 42 as never }, 'audience must be a string or an array of strings (got number)'],
  ['audience true', { ...base, audience: true as never }, 'audience must be a string or an array of strings (got boolean)'],
  ['audience list with a number', { ...base, audience: ['https://a/', 42] as never }, 'audience must be a string or an array of strings (got an array holding number)'],
  // issuer
  ['neither domain nor issuer', { audience: AUDIENCE, env: {} }, 'an issuer is required: set domain (or AUTH0_DOMAIN), issuerBaseURL (or AUTH0_ISSUER_BASE_URL), or domains'],
  ['both domain and issuerBaseURL', { ...base, domain: 'tenant.example.com' }, 'set either domain or issuerBaseURL, not both'],
  ['domain with https://', { domain: 'https://tenant.us.auth0.com/', audience: AUDIENCE, env: {} }, 'domain must be a bare host such as "tenant.us.auth0.com": drop the scheme ("tenant.us.auth0.com")'],
  ['domain with http://', { domain: 'http://Tenant.us.auth0.com', audience: AUDIENCE, env: {} }, 'domain must be a bare host such as "tenant.us.auth0.com": drop the scheme ("tenant.us.auth0.com")'],
  ['domain with a path', { domain: 'tenant.us.auth0.com/api', audience: AUDIENCE, env: {} }, 'domain must be a bare host such as "tenant.us.auth0.com", without path, query or credentials'],
  ['domain with credentials', { domain: 'user:pw@tenant.us.auth0.com', audience: AUDIENCE, env: {} }, 'domain must be a bare host such as "tenant.us.auth0.com", without path, query or credentials'],
  ['domain with a query', { domain: 'tenant.us.auth0.com?x=1', audience: AUDIENCE, env: {} }, 'domain must be a bare host such as "tenant.us.auth0.com", without path, query or credentials'],
  ['domain empty', { domain: '', audience: AUDIENCE, env: {} }, 'domain must be a bare host such as "tenant.us.auth0.com", without path, query or credentials'],
  ['issuerBaseURL not a URL', { ...base, issuerBaseURL: 'tenant.example.com' }, 'issuerBaseURL must be an absolute URL such as "https://tenant.us.auth0.com/"'],
  ['issuerBaseURL http off loopback', { ...base, issuerBaseURL: 'http://tenant.example.com/' }, 'issuerBaseURL must use https (http is allowed only for loopback hosts such as 127.0.0.1)'],
  ['issuerBaseURL ftp', { ...base, issuerBaseURL: 'ftp://127.0.0.1/' }, 'issuerBaseURL must use https (http is allowed only for loopback hosts such as 127.0.0.1)'],
  ['issuerBaseURL with credentials', { ...base, issuerBaseURL: 'https://user:pw@tenant.example.com/' }, 'issuerBaseURL must not contain credentials, a query or a fragment'],
  ['issuerBaseURL with a query', { ...base, issuerBaseURL: 'https://tenant.example.com/?x=1' }, 'issuerBaseURL must not contain credentials, a query or a fragment'],
  ['issuerBaseURL with an empty query', { ...base, issuerBaseURL: 'https://tenant.example.com/?' }, 'issuerBaseURL must not contain credentials, a query or a fragment'],
  ['issuerBaseURL with an empty fragment', { ...base, issuerBaseURL: 'https://tenant.example.com/#' }, 'issuerBaseURL must not contain credentials, a query or a fragment'],
  // algorithms
  ['algorithms with none', { ...base, algorithms: ['RS256', 'none'] }, 'algorithms must not contain "none": unsigned tokens are never accepted'],
  ['algorithms with NONE', { ...base, algorithms: ['NONE'] }, 'algorithms must not contain "none": unsigned tokens are never accepted'],
  ['algorithms with HS256', { ...base, algorithms: ['HS256'] }, 'algorithms must not contain HS256 without a secret: HMAC tokens are verified only by a verifier configured with the secret option (or AUTH0_SIGNING_SECRET), which then accepts HMAC tokens only'],
  ['algorithms with hs512', { ...base, algorithms: ['RS256', 'hs512'] }, 'algorithms must not contain hs512 without a secret: HMAC tokens are verified only by a verifier configured with the secret option (or AUTH0_SIGNING_SECRET), which then accepts HMAC tokens only'],
  ['algorithms with an unknown one', { ...base, algorithms: ['RS257'] }, `algorithms contains unsupported algorithm "RS257" (supported: ${SUPPORTED})`],
  ['algorithms with a lower-case known one', { ...base, algorithms: ['rs256'] }, `algorithms contains unsupported algorithm "rs256" (supported: ${SUPPORTED})`],
  ['algorithms empty', { ...base, algorithms: [] }, 'algorithms must be a non-empty array of algorithm names'],
  ['dpop.algorithms with a number', { ...base, dpop: { algorithms: ['ES256', 256] } } as never, 'dpop.algorithms must be a non-empty array of algorithm names'],
  ['algorithms a string', { ...base, algorithms: 'RS256' as never }, 'algorithms must be an array of algorithm names (got string)'],
  ['algorithms with a non-string', { ...base, algorithms: [256] as never }, 'algorithms must be an array of algorithm names (got an array holding number)'],
  // numbers
  ['clockTolerance -1', { ...base, clockTolerance: -1 }, 'clockTolerance must be a number of seconds from 0 to 60'],
  ['clockTolerance 61', { ...base, clockTolerance: 61 }, 'clockTolerance must be a number of seconds from 0 to 60'],
  ['clockTolerance NaN', { ...base, clockTolerance: Number.NaN }, 'clockTolerance must be a number of seconds from 0 to 60'],
  ['clockTolerance a string', { ...base, clockTolerance: '5' as never }, 'clockTolerance must be a number of seconds (got string)'],
  ['timeout 0', { ...base, timeout: 0 }, 'timeout must be an integer number of milliseconds from 1 to 60000'],
  ['timeout 60001', { ...base, timeout: 60001 }, 'timeout must be an integer number of milliseconds from 1 to 60000'],
  ['timeout 1.5', { ...base, timeout: 1.5 }, 'timeout must be an integer number of milliseconds from 1 to 60000'],
  ['timeout a string', { ...base, timeout: '5000' as never }, 'timeout must be a number of milliseconds (got string)'],
  ['maxTokenLength 255', { ...base, maxTokenLength: 255 }, 'maxTokenLength must be an integer from 256 to 65536'],
  ['maxTokenLength 65537', { ...base, maxTokenLength: 65537 }, 'maxTokenLength must be an integer from 256 to 65536'],
  ['maxTokenLength Infinity', { ...base, maxTokenLength: Infinity }, 'maxTokenLength must be an integer from 256 to 65536'],
  ['staleIfError negative', { ...base, staleIfError: -1 }, 'staleIfError must be a number of seconds from 0 to 604800'],
  ['cache.ttl 0', { ...base, cache: { ttl: 0 } }, 'cache.ttl must be a number of seconds from 1 to 86400'],
  ['cache.maxIssuers 0', { ...base, cache: { maxIssuers: 0 } }, 'cache.maxIssuers must be an integer from 1 to 10000'],
  ['cache.cooldown over an hour', { ...base, cache: { cooldown: 3601 } }, 'cache.cooldown must be a number of seconds from 0 to 3600'],
  ['cache.failureBackoff negative', { ...base, cache: { failureBackoff: -1 } }, 'cache.failureBackoff must be a number of seconds from 0 to 3600'],
  // realm
  ['realm with a newline', { ...base, realm: 'api\r\nX-Injected: 1' }, 'realm must be a string of printable ASCII characters'],
  ['realm non-ASCII', { ...base, realm: 'área' }, 'realm must be a string of printable ASCII characters'],
  ['realm not a string', { ...base, realm: 42 as never }, 'realm must be a string (got number)'],
  // publicBaseURL
  ['publicBaseURL not a URL', { ...base, publicBaseURL: 'api.example.com' }, 'publicBaseURL must be an absolute http(s) URL such as "https://api.example.com"'],
  ['publicBaseURL ftp', { ...base, publicBaseURL: 'ftp://api.example.com' }, 'publicBaseURL must be an absolute http(s) URL without query, fragment or credentials'],
  ['publicBaseURL with a query', { ...base, publicBaseURL: 'https://api.example.com/?x=1' }, 'publicBaseURL must be an absolute http(s) URL without query, fragment or credentials'],
  ['publicBaseURL with a fragment', { ...base, publicBaseURL: 'https://api.example.com/#x' }, 'publicBaseURL must be an absolute http(s) URL without query, fragment or credentials'],
  ['publicBaseURL with credentials', { ...base, publicBaseURL: 'https://u@api.example.com/' }, 'publicBaseURL must be an absolute http(s) URL without query, fragment or credentials'],
  // jwks
  ['jwks not a key set', { ...base, jwks: { keys: 'x' } as never }, 'jwks must be a JSON Web Key Set: { keys: [ … ] } with at least one public key'],
  ['jwks empty', { ...base, jwks: { keys: [] } }, 'jwks must be a JSON Web Key Set: { keys: [ … ] } with at least one public key'],
  ['jwks null', { ...base, jwks: null as never }, 'jwks must be a JSON Web Key Set object ({ keys: [ … ] }) (got null)'],
  ['jwks with a private key', { ...base, jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd' }] } }, 'jwks must hold public keys only (a private or symmetric key was given)'],
  ['jwks with a symmetric key', { ...base, jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }, 'jwks must hold public keys only (a private or symmetric key was given)'],
  ['jwks without an issuer', { audience: AUDIENCE, env: {}, jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }] } }, 'jwks needs the issuer its tokens name: set domain or issuerBaseURL too'],
  ['jwks with a domains resolver only', { audience: AUDIENCE, env: {}, domains: () => [], jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }] } }, 'jwks needs the issuer its tokens name: set domain or issuerBaseURL too'],
  // domains
  ['domains empty', { ...base, domains: [] }, 'domains must be a non-empty array of domains / issuer URLs, or a resolver function'],
  ['domains a string', { ...base, domains: 'tenant.example.com' as never }, 'domains must be an array of domains / issuer URLs, or a resolver function (got string)'],
  ['domains entry empty object', { ...base, domains: [{} as never] }, 'domains[0] must be a domain, an issuer URL or { issuer, jwksUri?, algorithms? }'],
  ['domains entry null', { ...base, domains: ['a.example.com', null as never] }, 'domains[1] must be a domain, an issuer URL or { issuer, jwksUri?, algorithms? }'],
  ['domains entry empty string', { ...base, domains: [''] }, 'domains[0] must be a domain, an issuer URL or { issuer, jwksUri?, algorithms? }'],
  ['domains entry with a path', { ...base, domains: ['tenant.example.com/x'] }, 'domains[0] must be a bare host such as "tenant.us.auth0.com", without path, query or credentials'],
  ['domains entry URL with a query', { ...base, domains: ['https://tenant.example.com/?a'] }, 'domains[0] must not contain credentials, a query or a fragment'],
  ['domains entry http off loopback', { ...base, domains: [{ issuer: 'http://tenant.example.com/' }] }, 'domains[0] must use https (http is allowed only for loopback hosts such as 127.0.0.1)'],
  ['domains entry bad jwksUri', { ...base, domains: [{ issuer: 'tenant.example.com', jwksUri: 'http://keys.example.com/jwks' }] }, 'domains[0].jwksUri must use https (http is allowed only for loopback hosts such as 127.0.0.1)'],
  ['domains entry with HS256', { ...base, domains: [{ issuer: 'tenant.example.com', algorithms: ['HS256'] }] }, 'domains[0].algorithms must not contain HS256: symmetric (HMAC) algorithms are refused, only asymmetric keys from the issuer\'s JWKS verify tokens'],
  // dpop
  ['dpop.mode unknown', { ...base, dpop: { mode: 'sometimes' as never } }, 'dpop.mode must be "allowed", "required" or "disabled"'],
  ['dpop.algorithms with HS256', { ...base, dpop: { algorithms: ['HS256'] } }, 'dpop.algorithms must not contain HS256: symmetric (HMAC) algorithms are refused, only asymmetric keys from the issuer\'s JWKS verify tokens'],
  ['dpop.iatOffset 0', { ...base, dpop: { iatOffset: 0 } }, 'dpop.iatOffset must be a number of seconds from 1 to 3600'],
  ['dpop.iatLeeway 301', { ...base, dpop: { iatLeeway: 301 } }, 'dpop.iatLeeway must be a number of seconds from 0 to 300'],
  ['dpop.nonce.windowSeconds 5', { ...base, dpop: { nonce: { windowSeconds: 5 } } }, 'dpop.nonce.windowSeconds must be a number of seconds from 10 to 3600'],
  // environment
  ['AUTH0_DOMAIN with a scheme', { audience: AUDIENCE, env: { AUTH0_DOMAIN: 'https://tenant.us.auth0.com' } }, 'AUTH0_DOMAIN must be a bare host such as "tenant.us.auth0.com": drop the scheme ("tenant.us.auth0.com")'],
  ['AUTH0_ISSUER_BASE_URL http off loopback', { audience: AUDIENCE, env: { AUTH0_ISSUER_BASE_URL: 'http://tenant.example.com' } }, 'AUTH0_ISSUER_BASE_URL must use https (http is allowed only for loopback hosts such as 127.0.0.1)'],
  ['AUTH0_DOMAIN and AUTH0_ISSUER_BASE_URL', { audience: AUDIENCE, env: { AUTH0_DOMAIN: 'a.example.com', AUTH0_ISSUER_BASE_URL: 'https://b.example.com/' } }, 'set either AUTH0_DOMAIN or AUTH0_ISSUER_BASE_URL, not both'],
  ['AUTH0_AUDIENCE of commas only', { issuerBaseURL: ISSUER, env: { AUTH0_AUDIENCE: ' , ' } }, 'audience is required: set the audience option or AUTH0_AUDIENCE (your API identifier, e.g. "https://api.example.com/")'],
  ['AUTH0_PUBLIC_BASE_URL not a URL', { ...base, env: { AUTH0_PUBLIC_BASE_URL: 'api.example.com' } }, 'AUTH0_PUBLIC_BASE_URL must be an absolute http(s) URL such as "https://api.example.com"']
]

// Issue 12: every top-level option is checked like the nested ones. An unknown key is a start-up
// error naming the closest known option; a wrong type names the type expected.
cases.push(
  ['misspelt audience', { ...base, audiance: AUDIENCE } as never, 'unknown option "audiance": did you mean audience?'],
  ['issuerBaseUrl (case)', { audience: AUDIENCE, env: {}, issuerBaseUrl: ISSUER } as never, 'unknown option "issuerBaseUrl": did you mean issuerBaseURL?'],
  ['clocktolerance', { ...base, clocktolerance: 5 } as never, 'unknown option "clocktolerance": did you mean clockTolerance?'],
  ['algorithm (singular)', { ...base, algorithm: ['RS256'] } as never, 'unknown option "algorithm": did you mean algorithms?'],
  ['unknown and far from every option', { ...base, cookie: 'session' } as never, `unknown option "cookie" (known: ${Object.keys(PLUGIN_OPTIONS).join(', ')})`],
  ['dpop not an object', { ...base, dpop: 'required' } as never, 'dpop must be an options object ({ mode?, algorithms?, … }) (got string)'],
  ['cache a number', { ...base, cache: 600 } as never, 'cache must be an options object ({ ttl?, maxIssuers?, … }) (got number)'],
  ['env a string', { ...base, env: 'production' } as never, 'env must be an object of environment variables (like process.env) (got string)'],
  ['tokenCache a number', { ...base, tokenCache: 100 } as never, 'tokenCache must be true, false or { max?, ttl? } (got number)'],
  ['onKeySetEvent an object', { ...base, onKeySetEvent: {} } as never, 'onKeySetEvent must be a function (got object)'],
  ['onAuthError a string', { ...base, onAuthError: 'log' } as never, 'onAuthError must be a function (got string)'],
  ['resourceMetadata a string', { ...base, resourceMetadata: 'https://x/' } as never, 'resourceMetadata must be true, false or an options object (got string)'],
  ['openapi an array', { ...base, openapi: [] } as never, 'openapi must be true, false or an options object (got an array)'],
  ['client null', { ...base, client: null } as never, 'client must be an options object (got null)'],
  ['domain a number', { ...base, issuerBaseURL: undefined, domain: 42 } as never, 'domain must be a bare host name string (got number)'],
  ['maxTokenLength a string', { ...base, maxTokenLength: '4096' } as never, 'maxTokenLength must be an integer (got string)'],
  ['staleIfError a boolean', { ...base, staleIfError: false } as never, 'staleIfError must be a number of seconds (got boolean)'],
  ['publicBaseURL a URL object', { ...base, publicBaseURL: new URL('https://api.example.com') } as never, 'publicBaseURL must be a URL string (got object)']
)

for (const [name, options, message] of cases) {
  t.test(name, async (t) => {
    const err = await startupError(options)
    t.equal(err.message, P + message)
  })
}

t.test('AUTH0_DPOP_MODE invalid: the @fastify/env error names the variable', async (t) => {
  const err = await startupError({ ...base, env: { AUTH0_DPOP_MODE: 'sometimes' } })
  t.match(err.message, /^fastify-auth0-api: invalid environment: .*AUTH0_DPOP_MODE/)
  t.match(err.message, /allowed, required, disabled/, 'the message lists the allowed values')
  t.ok(err.cause instanceof Error, 'the @fastify/env error is the cause')
})

t.test('an option set to undefined counts as not set; Fastify\'s own register options pass', async (t) => {
  const Fastify = (await import('fastify')).default
  const { default: auth0Plugin } = await import('../../lib/index.js')
  const app = Fastify()
  await app.register(auth0Plugin, { ...base, clockTolerance: undefined, realm: undefined, logLevel: 'warn' } as never)
  await app.ready()
  t.equal(typeof app.requireAuth, 'function')
  await app.close()
})

t.test('options that are not an object', async (t) => {
  const { checkPluginOptions } = await import('../../lib/config/options.js')
  t.throws(() => checkPluginOptions(null), new Error('fastify-auth0-api: options must be an object, got null'))
  t.throws(() => checkPluginOptions([]), new Error('fastify-auth0-api: options must be an object, got an array'))
})
