/**
 * SPEC §2: explicit option > environment variable > default. The AUTH0_* variables are read from
 * the `env` option (default `process.env`) by @fastify/env under the plugin's own confKey, so an
 * application's own @fastify/env registration keeps working.
 */
import t from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyEnv from '@fastify/env'
import auth0Plugin, { type Auth0PluginOptions } from '../../lib/index.js'
import { createTestIssuer } from '../../lib/testing/index.js'
import { AUDIENCE } from '../helpers/app.js'
import { bearerChallenge, expectError, expectGrammar } from '../helpers/expect.js'

const issuer = await createTestIssuer()
t.teardown(async () => await issuer.close())

async function app (t: import('tap').Test, options: Auth0PluginOptions): Promise<FastifyInstance> {
  const instance = Fastify()
  await instance.register(auth0Plugin, options)
  instance.get('/private', { preHandler: instance.requireAuth() }, async (request) => ({ iss: request.claims.iss, aud: request.claims.aud }))
  t.teardown(async () => await instance.close())
  return instance
}

const bearer = async (claims: Record<string, unknown> = {}): Promise<{ authorization: string }> => ({ authorization: `Bearer ${await issuer.token(claims)}` })

t.test('AUTH0_ISSUER_BASE_URL and AUTH0_AUDIENCE (comma-separated list) from the env option', async (t) => {
  const a = await app(t, { env: { AUTH0_ISSUER_BASE_URL: issuer.issuerBaseURL, AUTH0_AUDIENCE: 'https://first.example/, https://api.example.com/' } })
  t.equal((await a.inject({ url: '/private', headers: await bearer({ aud: 'https://first.example/' }) })).statusCode, 200)
  t.equal((await a.inject({ url: '/private', headers: await bearer({ aud: AUDIENCE }) })).statusCode, 200, 'spaces around list entries are trimmed')
  expectError(t, await a.inject({ url: '/private', headers: await bearer({ aud: 'https://third.example/' }) }),
    { status: 401, error: 'invalid_token', description: 'unexpected aud claim value', challenge: bearerChallenge('invalid_token', 'unexpected aud claim value') })
})

t.test('AUTH0_DOMAIN from the env option (with a static key set: no network needed)', async (t) => {
  const a = await app(t, { jwks: issuer.jwks(), env: { AUTH0_DOMAIN: 'Tenant.EU.auth0.com', AUTH0_AUDIENCE: AUDIENCE } })
  const res = await a.inject({ url: '/private', headers: await bearer({ iss: 'https://tenant.eu.auth0.com/' }) })
  t.equal(res.statusCode, 200)
  t.equal(res.json().iss, 'https://tenant.eu.auth0.com/')
  expectError(t, await a.inject({ url: '/private', headers: await bearer() }),
    { status: 401, error: 'invalid_token', description: 'issuer not allowed', challenge: bearerChallenge('invalid_token', 'issuer not allowed') })
})

t.test('explicit options win over the environment', async (t) => {
  const a = await app(t, {
    issuerBaseURL: issuer.issuerBaseURL,
    audience: AUDIENCE,
    dpop: { mode: 'disabled' },
    // Each of these would fail or change behaviour if it were read.
    env: { AUTH0_DOMAIN: 'other.example.com', AUTH0_ISSUER_BASE_URL: 'https://other.example.com/', AUTH0_AUDIENCE: 'https://env.example/', AUTH0_DPOP_MODE: 'required' }
  })
  t.equal((await a.inject({ url: '/private', headers: await bearer() })).statusCode, 200)
  expectError(t, await a.inject({ url: '/private', headers: await bearer({ aud: 'https://env.example/' }) }),
    { status: 401, error: 'invalid_token', description: 'unexpected aud claim value', challenge: bearerChallenge('invalid_token', 'unexpected aud claim value', { mode: 'disabled' }) })
  const bare = await a.inject({ url: '/private' })
  t.equal(bare.headers['www-authenticate'], 'Bearer realm="api"', 'dpop.mode option beats AUTH0_DPOP_MODE')
  expectGrammar(t, bare)
})

t.test('a domain option beats AUTH0_ISSUER_BASE_URL (no "both" error across sources)', async (t) => {
  const a = await app(t, { domain: 'tenant.example.com', jwks: issuer.jwks(), audience: AUDIENCE, env: { AUTH0_ISSUER_BASE_URL: issuer.issuerBaseURL } })
  t.equal((await a.inject({ url: '/private', headers: await bearer({ iss: 'https://tenant.example.com/' }) })).statusCode, 200)
})

t.test('AUTH0_DPOP_MODE from the environment', async (t) => {
  const disabled = await app(t, { issuerBaseURL: issuer.issuerBaseURL, audience: AUDIENCE, env: { AUTH0_DPOP_MODE: 'disabled' } })
  const bearerOnly = await disabled.inject({ url: '/private' })
  t.equal(bearerOnly.headers['www-authenticate'], 'Bearer realm="api"')
  expectGrammar(t, bearerOnly)
  const required = await app(t, { issuerBaseURL: issuer.issuerBaseURL, audience: AUDIENCE, env: { AUTH0_DPOP_MODE: 'required' } })
  const dpopOnly = await required.inject({ url: '/private' })
  t.equal(dpopOnly.headers['www-authenticate'], 'DPoP algs="ES256"')
  expectGrammar(t, dpopOnly)
})

t.test('empty or blank variables count as unset', async (t) => {
  const a = await app(t, { env: { AUTH0_DOMAIN: '', AUTH0_ISSUER_BASE_URL: issuer.issuerBaseURL, AUTH0_AUDIENCE: AUDIENCE, AUTH0_DPOP_MODE: ' ', AUTH0_PUBLIC_BASE_URL: '' } })
  t.equal((await a.inject({ url: '/private', headers: await bearer() })).statusCode, 200)
  const both = await a.inject({ url: '/private' })
  t.equal(both.headers['www-authenticate'], 'Bearer realm="api", DPoP algs="ES256"')
  expectGrammar(t, both)
})

t.test('variables of other names are not looked at', async (t) => {
  const a = await app(t, { issuerBaseURL: issuer.issuerBaseURL, audience: AUDIENCE, env: { AUTH0_CLIENT_SECRET: 'x', PORT: 'not a number', AUTH0_DPOP_MODE: undefined } })
  t.equal((await a.inject({ url: '/private', headers: await bearer() })).statusCode, 200)
})

t.test('process.env is the default source', async (t) => {
  const saved = { ...process.env }
  t.teardown(() => {
    for (const name of ['AUTH0_ISSUER_BASE_URL', 'AUTH0_AUDIENCE']) {
      if (saved[name] === undefined) Reflect.deleteProperty(process.env, name)
      else process.env[name] = saved[name]
    }
  })
  process.env.AUTH0_ISSUER_BASE_URL = issuer.issuerBaseURL
  process.env.AUTH0_AUDIENCE = AUDIENCE
  const a = await app(t, {})
  t.equal((await a.inject({ url: '/private', headers: await bearer() })).statusCode, 200)
})

t.test('coexists with the application\'s own @fastify/env (default confKey "config")', async (t) => {
  const instance = Fastify()
  await instance.register(fastifyEnv, {
    schema: { type: 'object', required: ['APP_NAME'], properties: { APP_NAME: { type: 'string' }, AUTH0_AUDIENCE: { type: 'string' } } },
    data: { APP_NAME: 'demo', AUTH0_AUDIENCE: 'https://seen-by-the-app.example/' }
  })
  await instance.register(auth0Plugin, { env: { AUTH0_ISSUER_BASE_URL: issuer.issuerBaseURL, AUTH0_AUDIENCE: AUDIENCE } })
  instance.get('/private', { preHandler: instance.requireAuth() }, async (request) => ({
    sub: request.claims.sub,
    config: (instance as unknown as { config: Record<string, string> }).config
  }))
  t.teardown(async () => await instance.close())
  await instance.ready()
  const res = await instance.inject({ url: '/private', headers: await bearer() })
  t.equal(res.statusCode, 200)
  t.strictSame(res.json().config, { APP_NAME: 'demo', AUTH0_AUDIENCE: 'https://seen-by-the-app.example/' }, 'the app\'s config is untouched')
  t.notOk(instance.hasDecorator('fastifyAuth0ApiEnv'), 'the plugin leaks no env decorator')
})

t.test('decorators are visible where the plugin is registered and below (fastify-plugin)', async (t) => {
  const instance = Fastify()
  await instance.register(auth0Plugin, { issuerBaseURL: issuer.issuerBaseURL, audience: AUDIENCE, env: {} })
  await instance.register(async (child) => {
    child.get('/child', { preHandler: child.requireAuth() }, async (request) => ({ sub: request.claims.sub }))
  })
  await instance.ready()
  t.ok(instance.hasDecorator('requireAuth'))
  t.ok(instance.hasDecorator('auth0'))
  t.ok(instance.hasRequestDecorator('claims'))
  t.ok(instance.hasRequestDecorator('auth'))
  t.equal((await instance.inject({ url: '/child', headers: await bearer() })).statusCode, 200)
  await instance.close()
})
