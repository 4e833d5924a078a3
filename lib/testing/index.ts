/**
 * `fastify-auth0-api/testing`: a local issuer and token minting for tests.
 * Never for production: `createTestIssuer` refuses to start with `NODE_ENV=production`.
 */
export { createTestIssuer } from './issuer.js'
export type { OutageMode, SigningKey, TestIssuer, TestIssuerOptions, TokenOptions } from './issuer.js'
