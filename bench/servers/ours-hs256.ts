/** This plugin as an API whose tokens are signed HS256 with its secret: no JWKS, no discovery. */
import { OURS, required, servePlugin } from './plugin-server.js'

await servePlugin(OURS, { secret: required('BENCH_SECRET') })
