/**
 * OpenAPI output and RFC 9728 metadata of policy routes: the operation description says what
 * the route requires (organization, step-up, claim check) without listing organizations (the
 * document is public); a claim check adds the 403 response; the metadata lists the scopes of
 * all-of and any-of routes alike and nothing it has no member for.
 */
import swagger from '@fastify/swagger'
import Fastify from 'fastify'
import t from 'tap'
import auth0Plugin, { claimEquals } from '../../lib/index.js'
import { openApiProblems } from '../helpers/openapi.js'

type Operation = { description?: string, responses: Record<string, { description: string }> }

t.test('operation descriptions carry the policy notes', async (t) => {
  const app = Fastify()
  t.teardown(async () => await app.close())
  await app.register(swagger, { openapi: { openapi: '3.1.0', info: { title: 'Test API', version: '1.0.0' } } })
  await app.register(auth0Plugin, { issuerBaseURL: 'https://tenant.example.com/', audience: 'https://api.example.com/', env: {}, resourceMetadata: { resource: 'https://api.example.com/' } })
  const ok = async (): Promise<object> => ({})
  app.get('/transfer', { schema: { description: 'Moves money.' }, preHandler: app.requireAuth({ scopes: 'transfer:funds', acr: ['gold', 'silver'], maxAge: 300 }) }, ok)
  app.get('/orgs/:orgId/invoices', { preHandler: app.requireAuth({ organization: ['org_secret', 'acme'], scopes: ['read:invoices', 'admin'], match: 'any' }) }, ok)
  app.get('/any-org', { preHandler: app.requireAuth({ organization: true }) }, ok)
  app.get('/gold', { preHandler: app.requireAuth({ check: claimEquals('tier', 'gold') }) }, ok)
  app.get('/plain', { preHandler: app.requireAuth() }, ok)
  await app.ready()
  const doc = app.swagger() as { paths: Record<string, { get: Operation }> }
  t.same(openApiProblems(doc), [])
  const transfer = doc.paths['/transfer']?.get as Operation
  t.equal(transfer.description, 'Moves money.\n\nRequires a login with acr gold, silver (step-up, RFC 9470). Requires a login within the last 300 seconds (RFC 9470 max_age).')
  const invoices = doc.paths['/orgs/{orgId}/invoices']?.get as Operation
  t.equal(invoices.description, 'Requires a token of an allowed Auth0 Organization (org_id).')
  t.notMatch(JSON.stringify(doc), /org_secret|acme/, 'organizations are not published')
  t.equal(doc.paths['/any-org']?.get.description, 'Requires a token of an Auth0 Organization (org_id).')
  const gold = doc.paths['/gold']?.get as Operation
  t.equal(gold.description, 'Claim check: a token it refuses gets 403 insufficient_scope.')
  t.equal(gold.responses['403']?.description, 'Forbidden: the access token fails the claim check')
  t.equal(doc.paths['/plain']?.get.description, undefined)
  t.equal(doc.paths['/plain']?.get.responses['403'], undefined)

  const metadata = await app.inject({ url: '/.well-known/oauth-protected-resource' })
  const body = metadata.json()
  t.same(body.scopes_supported, ['admin', 'read:invoices', 'transfer:funds'])
  t.same(Object.keys(body).sort(), ['authorization_servers', 'bearer_methods_supported', 'dpop_signing_alg_values_supported', 'resource', 'scopes_supported'])
})

t.test('a claim check beside scopes: the 403 says both', async (t) => {
  const app = Fastify()
  t.teardown(async () => await app.close())
  await app.register(swagger, { openapi: { openapi: '3.1.0', info: { title: 'Test API', version: '1.0.0' } } })
  await app.register(auth0Plugin, { issuerBaseURL: 'https://tenant.example.com/', audience: 'https://api.example.com/', env: {} })
  app.get('/x', { preHandler: app.requireAuth({ scopes: 'read:x', check: () => true }) }, async () => ({}))
  await app.ready()
  const doc = app.swagger() as { paths: Record<string, { get: Operation }> }
  t.equal(doc.paths['/x']?.get.responses['403']?.description, 'Forbidden: the access token lacks the required scope (read:x) or fails the claim check')
})
