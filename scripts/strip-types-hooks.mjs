/**
 * Mutation runs only (Node >= 22.18 / 24): test files and lib/ load as TypeScript through Node's
 * own type stripping instead of a compiler per test process. Sources import `./x.js` (NodeNext
 * style) where only `./x.ts` exists: this resolve hook maps one to the other.
 */
import { registerHooks } from 'node:module'

registerHooks({
  resolve (specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context)
    } catch (err) {
      if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !specifier.endsWith('.js') || !(specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('file:'))) throw err
      return nextResolve(specifier.slice(0, -3) + '.ts', context)
    }
  }
})
