/** Registers the plugin on a fresh app and returns the start-up error it must cause. */
import Fastify from 'fastify'
import auth0Plugin, { type Auth0PluginOptions } from '../../lib/index.js'

export async function startupError (options: Auth0PluginOptions): Promise<Error> {
  const app = Fastify()
  try {
    await app.register(auth0Plugin, options)
    await app.ready()
  } catch (err) {
    await app.close().catch(() => {})
    return err as Error
  }
  await app.close()
  throw new Error('expected the plugin to refuse this configuration')
}
