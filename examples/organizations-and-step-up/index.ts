/**
 * A B2B API on Auth0 Organizations, with step-up for sensitive routes:
 *
 * - every token must belong to an organization (`organization: true`), except on `/api/me`;
 * - `/orgs/:orgId/...` routes accept only tokens of that organization (the path is the client's
 *   choice, `org_id` is Auth0's);
 * - billing needs an MFA login of the last 5 minutes (RFC 9470 step-up). Auth0 cannot put `acr` /
 *   `auth_time` in access tokens, so a post-login Action writes them under a namespace (see
 *   docs/policies.md, "Step-up with Auth0") and `stepUp` names those claims;
 * - deleting an organization needs the admin role (a claim check).
 *
 * Run against your tenant with AUTH0_DOMAIN and AUTH0_AUDIENCE set; without them it starts a local
 * test issuer and prints curl commands with tokens for each case.
 */
import { pathToFileURL } from 'node:url'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import auth0Plugin, { claimIncludes, type Auth0PluginOptions, type Organization } from 'fastify-auth0-api'
import { serveExample } from '../serve.js'

export const NAMESPACE = 'https://example.com/'
export const MFA = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor'

/** The organization in the path must be the token's. */
const sameOrg = (org: Organization, request: FastifyRequest): boolean => org.id === (request.params as { orgId: string }).orgId

export async function buildOrganizationsAndStepUp (options: Auth0PluginOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'warn' } })
  await app.register(auth0Plugin, {
    organization: true,
    stepUp: { acrClaim: `${NAMESPACE}acr`, authTimeClaim: `${NAMESPACE}auth_time` },
    ...options
  })

  // A user's own profile: reachable with or without an organization.
  app.get('/api/me', { preHandler: app.requireAuth({ organization: false }) }, async (request) => ({
    sub: request.claims.sub,
    organization: request.claims.org_id ?? null,
    client: request.auth?.clientId ?? null
  }))

  app.get<{ Params: { orgId: string } }>('/orgs/:orgId/projects', {
    preHandler: app.requireAuth({ organization: sameOrg, scopes: 'read:projects' })
  }, async (request) => ({ organization: request.claims.org_id, projects: ['apollo', 'gemini'] }))

  app.post<{ Params: { orgId: string } }>('/orgs/:orgId/billing', {
    preHandler: app.requireAuth({ organization: sameOrg, scopes: 'write:billing', acr: MFA, maxAge: 300 })
  }, async (request) => ({ organization: request.claims.org_id, updated: true }))

  app.delete<{ Params: { orgId: string } }>('/orgs/:orgId', {
    preHandler: app.requireAuth({ organization: sameOrg, acr: MFA, check: claimIncludes(`${NAMESPACE}roles`, 'admin') })
  }, async (request) => ({ organization: request.claims.org_id, deleted: true }))
  return app
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await serveExample(async (local) => {
    if (local === undefined) return { app: await buildOrganizationsAndStepUp() }
    const now = Math.floor(Date.now() / 1000)
    const member = { org_id: 'org_acme', org_name: 'acme', scope: 'read:projects write:billing' }
    const mfa = { [`${NAMESPACE}acr`]: MFA, [`${NAMESPACE}auth_time`]: now }
    return {
      app: await buildOrganizationsAndStepUp(local.options),
      tries: [
        { status: 200, what: 'a member of org_acme reads its projects', method: 'GET', path: '/orgs/org_acme/projects', token: await local.issuer.token(member) },
        { status: 401, what: 'organization_not_allowed: another organization in the path', method: 'GET', path: '/orgs/org_globex/projects', token: await local.issuer.token(member) },
        { status: 401, what: 'insufficient_user_authentication: billing needs an MFA login (acr_values, max_age in the challenge)', method: 'POST', path: '/orgs/org_acme/billing', token: await local.issuer.token(member) },
        { status: 200, what: 'the same after a recent MFA login', method: 'POST', path: '/orgs/org_acme/billing', token: await local.issuer.token({ ...member, ...mfa }) },
        { status: 403, what: 'check_failed: deleting needs the admin role', method: 'DELETE', path: '/orgs/org_acme', token: await local.issuer.token({ ...member, ...mfa }) }
      ]
    }
  })
}
