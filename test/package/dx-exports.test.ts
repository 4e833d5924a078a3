/**
 * The additions to the published shape, from the built package: `TokenEndpointError` and the
 * `AuthErrorBody` schema, by ESM import and by require().
 */
import { createRequire } from 'node:module'
import t from 'tap'

t.test('TokenEndpointError and AuthErrorBody are exported (ESM and CommonJS)', async (t) => {
  const esm = await import('fastify-auth0-api')
  const cjs = createRequire(import.meta.url)('fastify-auth0-api')
  for (const mod of [esm, cjs]) {
    const error = new mod.TokenEndpointError('invalid_grant', 'no', 400)
    t.ok(error instanceof Error)
    t.notOk(error instanceof mod.AuthError, 'not a reply-ready AuthError')
    t.match(error, { name: 'TokenEndpointError', error: 'invalid_grant', error_description: 'no', statusCode: 400 })
    t.same(JSON.parse(JSON.stringify(mod.AuthErrorBody)).required, ['detail'])
  }
  t.equal(cjs.TokenEndpointError, esm.TokenEndpointError)
})
