/**
 * lib/scopes.ts on its own: what a route spec resolves to, and whole-value scope matching.
 * test/core/scopes.test.ts proves the same rules through HTTP; this file pins each rule in a
 * process that loads nothing else, so a mutation run can afford to repeat it per mutant.
 */
import t from 'tap'
import { routeRequirements, satisfies, scopeRefusal, type RouteRequirements } from '../../lib/scopes.js'
import { InsufficientScopeError } from '../../lib/errors.js'
import { HEADER_ONLY } from '../../lib/http/token-sources.js'

// Claims as a route sees them; the registered claims do not matter to scope matching.
const sat = (claims: Record<string, unknown>, r: RouteRequirements): boolean => satisfies(claims as never, r)
const route = (spec?: Parameters<typeof routeRequirements>[0]): RouteRequirements => routeRequirements(spec)
// The scope fields of a route (the policy fields are pinned by test/policies/*).
const base = (r: RouteRequirements): Pick<RouteRequirements, 'scopes' | 'match' | 'claim' | 'optional' | 'dpop'> =>
  ({ scopes: r.scopes, match: r.match, claim: r.claim, optional: r.optional, dpop: r.dpop })

t.test('a spec resolves to scopes, match, claim, optional and dpop, with their defaults', async (t) => {
  const defaults = { match: 'all', claim: 'scope', optional: false, dpop: undefined }
  t.strictSame(base(route()), { scopes: [], ...defaults })
  t.strictSame(base(route('read:messages')), { scopes: ['read:messages'], ...defaults })
  t.strictSame(base(route(['read:data', 'write:data', 'read:data'])), { scopes: ['read:data', 'write:data'], ...defaults }, 'duplicates once, order kept')
  t.strictSame(base(route([])), { scopes: [], ...defaults })
  t.strictSame(base(route({})), { scopes: [], ...defaults })
  t.strictSame(base(route({ scopes: 'admin' })), { scopes: ['admin'], ...defaults })
  t.strictSame(
    base(route({ scopes: ['admin', 'owner', 'admin'], match: 'any', claim: 'permissions', optional: true, dpop: 'required' })),
    { scopes: ['admin', 'owner'], match: 'any', claim: 'permissions', optional: true, dpop: 'required' }
  )
  t.strictSame(base(route({ match: 'all', optional: false })), { scopes: [], ...defaults })
})

t.test('bad specs are TypeErrors that name the problem', async (t) => {
  const prefix = 'fastify-auth0-api: requireAuth: '
  const bad: Array<[unknown, string]> = [
    ['a b', 'scope "a b" contains whitespace: pass each scope as its own array element'],
    [['ok', 'new\nline'], 'scope "new\nline" contains whitespace: pass each scope as its own array element'],
    [['ok', 'nbsp\u00a0'], 'scope "nbsp\u00a0" contains whitespace: pass each scope as its own array element'],
    [' ', 'scope " " contains whitespace: pass each scope as its own array element'],
    [[''], 'scopes must be non-empty strings'],
    [[null], 'scopes must be non-empty strings'],
    [{ scopes: {} }, 'scopes must be a string or an array of strings'],
    [{ scopes: null }, 'scopes must be a string or an array of strings'],
    [{ match: 'ALL' }, 'match must be "all" or "any"'],
    [{ match: null }, 'match must be "all" or "any"'],
    [{ claim: 0 }, 'claim must be a non-empty claim name'],
    [{ optional: 1 }, 'optional must be a boolean'],
    [{ optional: null }, 'optional must be a boolean'],
    [{ dpop: null }, 'dpop must be "required" when set'],
    [{ dpop: 'disabled' }, 'dpop must be "required" when set'],
    [{ scopes: 'a', Scopes: 'b' }, 'unknown option "Scopes" (known: scopes, match, claim, optional, dpop, tokenSources, organization, acr, maxAge, check)'],
    ['caf\u00e9', 'scope "caf\u00e9" has a character a scope cannot hold (RFC 6749 §3.3: printable ASCII but " and \\)'],
    [['ok', 'a"b'], 'scope "a\\"b" has a character a scope cannot hold (RFC 6749 §3.3: printable ASCII but " and \\)'],
    [{ scopes: 'a\\b' }, 'scope "a\\\\b" has a character a scope cannot hold (RFC 6749 §3.3: printable ASCII but " and \\)'],
    [true, 'expected a scope, a list of scopes or an options object'],
    [null, 'expected a scope, a list of scopes or an options object']
  ]
  for (const [spec, message] of bad) {
    t.throws(() => route(spec as never), new TypeError(prefix + message), JSON.stringify(spec))
  }
  // The edges of RFC 6749 scope-token: %x21, %x23-5B, %x5D-7E.
  t.strictSame(route(['!', '#', '[', ']', '~', 'read:a/b']).scopes, ['!', '#', '[', ']', '~', 'read:a/b'])
  // Explicit `undefined` members are the same as absent ones.
  t.strictSame(route({ scopes: undefined, match: undefined, claim: undefined, optional: undefined, dpop: undefined }), route())
})

t.test('matching is exact, over a space-separated string or an array of strings', async (t) => {
  const one = route('read:messages')
  t.equal(sat({ scope: 'read:messages' }, one), true)
  t.equal(sat({ scope: 'openid read:messages profile' }, one), true)
  t.equal(sat({ scope: '\tread:messages\n  other ' }, one), true, 'any run of whitespace separates')
  t.equal(sat({ scope: 'read:messagesX read:message' }, one), false, 'no prefix match either way')
  t.equal(sat({ scope: ['openid', 'read:messages'] }, one), true)
  t.equal(sat({ scope: ['read:messages profile'] }, one), false, 'an array element is one whole value')
  t.equal(sat({ scope: 42 }, one), false)
  t.equal(sat({ scope: { 'read:messages': true } }, one), false)
  t.equal(sat({}, one), false)
  t.equal(sat({ permissions: ['read:messages'] }, one), false, 'only the route\'s claim counts')
  t.equal(sat({ scope: '' }, route()), true, 'no scopes required: anything passes')
  t.equal(sat({}, route([])), true)
  t.equal(sat({}, route({ match: 'any' })), true, 'any of no scopes: nothing to require either')
  t.equal(sat({ scope: 7 }, route({ scopes: [], match: 'any', claim: 'scope' })), true)
})

t.test('all (default) needs every scope, any needs one', async (t) => {
  const all = route(['read:data', 'write:data'])
  t.equal(sat({ scope: 'write:data read:data' }, all), true)
  t.equal(sat({ scope: 'read:data' }, all), false)
  t.equal(sat({ scope: 'write:data' }, all), false)
  const any = route({ scopes: ['admin', 'owner'], match: 'any', claim: 'permissions' })
  t.equal(sat({ permissions: ['owner'] }, any), true)
  t.equal(sat({ permissions: ['admin', 'owner'] }, any), true)
  t.equal(sat({ permissions: ['user'] }, any), false)
  t.equal(sat({ permissions: [] }, any), false)
  t.equal(sat({ scope: 'admin' }, any), false)
})

t.test('a scope refusal says what the token lacks, in the words of the route\'s claim', async (t) => {
  const refuse = (claims: Record<string, unknown>, r: RouteRequirements, scheme: 'bearer' | 'dpop' = 'bearer'): [string, readonly string[], string | undefined] => {
    const err = scopeRefusal(claims as never, r, scheme)
    t.ok(err instanceof InsufficientScopeError)
    t.equal(err.scheme, scheme)
    return [err.error_description, err.requiredScopes, err.scheme]
  }
  const cases: Array<[Record<string, unknown>, RouteRequirements, string, string[]]> = [
    [{ scope: 'read:data' }, route(['read:data', 'write:data']), 'missing scope write:data', ['read:data', 'write:data']],
    [{}, route(['read:data', 'write:data']), 'missing scopes read:data, write:data', ['read:data', 'write:data']],
    [{ scp: ['a'] }, route({ scopes: ['a', 'b'], claim: 'scp' }), 'missing scope b', ['a', 'b']],
    [{ permissions: [] }, route({ scopes: ['read:data'], claim: 'permissions' }), 'missing permission read:data', ['read:data']],
    [{ permissions: 'x' }, route({ scopes: ['a', 'b'], claim: 'permissions' }), 'missing permissions a, b', ['a', 'b']],
    [{ roles: ['editor'] }, route({ scopes: ['admin'], claim: 'roles' }), 'missing roles value admin', []],
    [{}, route({ scopes: ['admin', 'owner'], claim: 'roles' }), 'missing roles values admin, owner', []],
    [{}, route({ scopes: ['admin'], claim: 'rôles' }), 'missing claim value admin', []],
    [{}, route({ scopes: ['admin', 'owner'], claim: 'rôles' }), 'missing claim values admin, owner', []],
    [{ scope: 'user' }, route({ scopes: ['admin', 'owner'], match: 'any' }), 'needs one of the scopes admin, owner', []],
    [{}, route({ scopes: ['admin', 'owner'], match: 'any', claim: 'permissions' }), 'needs one of the permissions admin, owner', []],
    [{}, route({ scopes: ['admin', 'owner'], match: 'any', claim: 'groups' }), 'needs one of the groups values admin, owner', []],
    [{}, route({ scopes: ['admin'], match: 'any' }), 'missing scope admin', ['admin']]
  ]
  for (const [claims, r, description, challengeScopes] of cases) {
    t.strictSame(refuse(claims, r), [description, challengeScopes, 'bearer'], description)
  }
  t.strictSame(refuse({}, route('a'), 'dpop'), ['missing scope a', ['a'], 'dpop'], 'on the scheme it is given')
})

t.test('the route\'s policies in words (OpenAPI notes), and token sources', async (t) => {
  t.strictSame(route({ scopes: 'a' }).notes, [])
  t.strictSame(route({ organization: true }).notes, ['Requires a token of an Auth0 Organization (org_id).'])
  t.strictSame(route({ organization: ['org_abc'] }).notes, ['Requires a token of an allowed Auth0 Organization (org_id).'], 'ids not listed')
  t.strictSame(route({ organization: false }).notes, [])
  t.throws(() => route({ organization: 5 as never }), { message: 'fastify-auth0-api: requireAuth: organization must be true, an organization id or name, a non-empty list of them, or a function' }, 'named as the route option')
  t.equal(route({ organization: false }).organization, false)
  t.strictSame(route({ acr: ['gold', 'silver'], maxAge: 300 }).notes, [
    'Requires a login with acr gold, silver (step-up, RFC 9470).',
    'Requires a login within the last 300 seconds (RFC 9470 max_age).'
  ])
  t.strictSame(route({ maxAge: 60 }).notes, ['Requires a login within the last 60 seconds (RFC 9470 max_age).'])
  t.strictSame(route({ check: () => true }).notes, ['Claim check: a token it refuses gets 403 insufficient_scope.'])
  t.equal(route({}).sources, undefined, 'no tokenSources: the plugin\'s')
  t.equal(route({ tokenSources: ['header'] }).sources, HEADER_ONLY)
  t.strictSame(route({ tokenSources: ['query'], dpop: undefined }).sources?.methods, ['query'])
  t.equal(route({ tokenSources: ['header'], dpop: 'required' }).sources, HEADER_ONLY, 'the header alone goes with dpop required')
  t.throws(() => route({ tokenSources: ['header', 'query'], dpop: 'required' }), {
    name: 'TypeError',
    message: 'fastify-auth0-api: requireAuth: tokenSources other than the header cannot be combined with dpop: "required" (DPoP tokens travel only in the Authorization header)'
  })
  t.throws(() => route({ tokenSources: [] }), { message: "fastify-auth0-api: requireAuth: tokenSources must be a non-empty array of 'header', 'query', 'body' and { cookie: name }" })
})
