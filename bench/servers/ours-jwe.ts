/** This plugin as an API receiving encrypted access tokens (JWE for its RSA key, RS256 inside). */
import { OURS, required, servePlugin } from './plugin-server.js'

await servePlugin(OURS, { decryption: { keys: [{ privateKey: required('BENCH_DECRYPTION_KEY') }] } })
