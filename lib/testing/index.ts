/**
 * `fastify-auth0-api/testing`: a local issuer, token minting, DPoP keys and proofs for tests.
 * Never for production: `createTestIssuer` refuses to start with `NODE_ENV=production`.
 */
export { createTestIssuer } from './issuer.js'
export { dpopKey, proof } from './dpop.js'
export { decryptionKeyPair, encryptToken } from './encryption.js'
export type { DecryptionKeyPair, EncryptOptions } from './encryption.js'
export type { DpopKey, ProofOptions } from './dpop.js'
export type { OutageMode, SigningKey, TestIssuer, TestIssuerOptions, TokenOptions } from './issuer.js'
