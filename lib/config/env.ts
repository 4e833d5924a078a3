/**
 * The `AUTH0_*` environment, validated by @fastify/env against a TypeBox schema. It is loaded
 * inside an encapsulated child context under its own confKey, so it neither leaks a decorator
 * nor collides with the application's own @fastify/env registration.
 */
import fastifyEnv from '@fastify/env'
import { Type, type Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'

export const EnvSchema = Type.Object({
  AUTH0_DOMAIN: Type.Optional(Type.String({ minLength: 1 })),
  AUTH0_ISSUER_BASE_URL: Type.Optional(Type.String({ minLength: 1 })),
  AUTH0_AUDIENCE: Type.Optional(Type.String({ minLength: 1 })),
  // An enum (not a union of literals) so the validation error lists the allowed values once.
  AUTH0_DPOP_MODE: Type.Optional(Type.Unsafe<'allowed' | 'required' | 'disabled'>({ type: 'string', enum: ['allowed', 'required', 'disabled'] })),
  AUTH0_PUBLIC_BASE_URL: Type.Optional(Type.String({ minLength: 1 })),
  // The HS256 signing secret of the API (Auth0 dashboard → API → Settings), used as its UTF-8 bytes.
  AUTH0_SIGNING_SECRET: Type.Optional(Type.String({ minLength: 1 })),
  AUTH0_CLIENT_ID: Type.Optional(Type.String({ minLength: 1 })),
  AUTH0_CLIENT_SECRET: Type.Optional(Type.String({ minLength: 1 }))
})

export type Auth0Env = Static<typeof EnvSchema>

const CONF_KEY = 'fastifyAuth0ApiEnv'
const NAMES = Object.keys(EnvSchema.properties)

/** env-schema's error: ajv's text plus the ajv errors behind it. */
interface EnvError extends Error {
  errors: Array<{ keyword: string, params: { allowedValues?: unknown[] } }>
}

/** ajv's text, plus the allowed values of each enum, so the message says how to fix it. */
function describe (err: EnvError): string {
  const hints = err.errors.filter((e) => e.keyword === 'enum').map((e) => `(${(e.params.allowedValues as unknown[]).join(', ')})`)
  return [err.message, ...hints].join(' ')
}

export async function loadEnv (fastify: FastifyInstance, source: Record<string, string | undefined>): Promise<Auth0Env> {
  // Only our variables, and an empty one counts as unset (a copied .env.example must not fail).
  const data: Record<string, string> = {}
  for (const name of NAMES) {
    const value = source[name]?.trim()
    if (value !== undefined && value !== '') data[name] = value
  }
  let env: Auth0Env = {}
  await fastify.register(async (child) => {
    // `env: false`: read only `data` (the `env` option or process.env, already filtered), never process.env behind its back.
    try {
      await child.register(fastifyEnv, { confKey: CONF_KEY, schema: EnvSchema, data, env: false, dotenv: false })
    } catch (err) {
      throw new Error(describe(err as EnvError), { cause: err })
    }
    env = (child as unknown as Record<string, Auth0Env>)[CONF_KEY] as Auth0Env
  })
  return env
}
