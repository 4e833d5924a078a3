/**
 * `ours` as built in another checkout (`BENCH_BASELINE=/path/to/checkout`, its `dist/index.js`):
 * the same server as servers/ours.ts, so one run compares the plugin before and after a change.
 * Without BENCH_BASELINE (or without a build there) it exits before listening: "unavailable".
 */
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { required, servePlugin } from './plugin-server.js'

await servePlugin(pathToFileURL(join(resolve(required('BENCH_BASELINE')), 'dist/index.js')).href)
