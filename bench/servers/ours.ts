/** This plugin, with the options a user would give it (servers/plugin-server.ts). */
import { OURS, servePlugin } from './plugin-server.js'

await servePlugin(OURS)
