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
import { createTestIssuer } from 'fastify-auth0-api/testing'

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
  const tenant = (process.env.AUTH0_DOMAIN ?? '') !== '' || (process.env.AUTH0_ISSUER_BASE_URL ?? '') !== ''
  const audience = process.env.AUTH0_AUDIENCE ?? 'https://api.example.com/'
  const issuer = tenant ? undefined : await createTestIssuer({ audience })
  const app = await buildOrganizationsAndStepUp(issuer === undefined ? {} : { issuerBaseURL: issuer.issuerBaseURL, audience, env: {} })
  if (issuer !== undefined) app.addHook('onClose', async () => { await issuer.close() })
  const url = await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' })
  console.log(`Listening on ${url}`)
  if (issuer !== undefined) {
    const now = Math.floor(Date.now() / 1000)
    const member = { org_id: 'org_acme', org_name: 'acme', scope: 'read:projects write:billing' }
    const mfa = { [`${NAMESPACE}acr`]: MFA, [`${NAMESPACE}auth_time`]: now }
    const curl = async (method: string, path: string, claims: Record<string, unknown>): Promise<string> =>
      `curl -i -X ${method} -H 'Authorization: Bearer ${await issuer.token(claims)}' ${url}${path}`
    console.log([
      `# A local test issuer at ${issuer.issuerBaseURL} signs these tokens (audience ${audience}).`,
      '# 200: a member of org_acme reads its projects',
      await curl('GET', '/orgs/org_acme/projects', member),
      '# 401 organization_not_allowed: another organization in the path',
      await curl('GET', '/orgs/org_globex/projects', member),
      '# 401 insufficient_user_authentication: billing needs an MFA login (acr_values, max_age in the challenge)',
      await curl('POST', '/orgs/org_acme/billing', member),
      '# 200: the same after a recent MFA login',
      await curl('POST', '/orgs/org_acme/billing', { ...member, ...mfa }),
      '# 403 check_failed: deleting needs the admin role',
      await curl('DELETE', '/orgs/org_acme', { ...member, ...mfa })
    ].join('\n'))
  }
}
