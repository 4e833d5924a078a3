/**
 * Finds the routes protected by `requireAuth` and what they require, without parsing anything:
 * every hook `requireAuth` returns carries its normalised requirements under a symbol. The
 * OpenAPI integration and the RFC 9728 metadata read them from an `onRoute` hook.
 */
import type { RouteOptions } from 'fastify'
import type { RouteRequirements } from '../scopes.js'

/** Global symbol, so two copies of the package (e.g. built and source) recognise each other's hooks. */
export const REQUIREMENTS: unique symbol = Symbol.for('fastify-auth0-api.requirements') as never

const HOOKS = ['onRequest', 'preParsing', 'preValidation', 'preHandler'] as const

/** Tags a `requireAuth` hook with the requirements it enforces. */
export function tagHook<T extends object> (hook: T, requirements: RouteRequirements): T {
  Object.defineProperty(hook, REQUIREMENTS, { value: requirements })
  return hook
}

/** The requirements read from a hook, or `undefined` when it is not one of ours. */
export function requirementsOf (hook: unknown): RouteRequirements | undefined {
  return typeof hook === 'function' ? (hook as unknown as Record<symbol, RouteRequirements | undefined>)[REQUIREMENTS] : undefined
}

/** Every `requireAuth` hook of a route, in lifecycle order. Empty for an unprotected route. */
export function routeProtection (route: Pick<RouteOptions, typeof HOOKS[number]>): RouteRequirements[] {
  const found: RouteRequirements[] = []
  for (const name of HOOKS) {
    const value: unknown = route[name]
    for (const hook of Array.isArray(value) ? value : [value]) {
      const requirements = requirementsOf(hook)
      if (requirements !== undefined) found.push(requirements)
    }
  }
  return found
}
