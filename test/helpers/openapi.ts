/**
 * A structural check of an OpenAPI 3.0 / 3.1 document. No validator package or official schema is
 * installed, so this checks what the integration can get wrong: required top-level fields,
 * operations and responses, every `$ref` resolving inside the document, path parameters, unique
 * operation ids, security schemes well formed, and every security requirement naming a defined
 * scheme (with scopes only where the version allows them). Returns the problems found.
 */
const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'])
const PATH_ITEM_KEYS = new Set([...METHODS, '$ref', 'summary', 'description', 'servers', 'parameters'])

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

function pointer (doc: Json, ref: string): unknown {
  let node: unknown = doc
  for (const raw of ref.slice(2).split('/')) {
    const part = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~')
    if (!isObject(node) && !Array.isArray(node)) return undefined
    node = (node as Json)[part]
  }
  return node
}

export function openApiProblems (doc: unknown): string[] {
  const problems: string[] = []
  const problem = (where: string, what: string): void => { problems.push(`${where}: ${what}`) }
  if (!isObject(doc)) return ['document: not an object']
  const version = doc.openapi
  if (typeof version !== 'string' || !/^3\.[01]\.\d+$/.test(version)) problem('openapi', `not an OpenAPI 3.0/3.1 version: ${String(version)}`)
  const v30 = typeof version === 'string' && version.startsWith('3.0')
  if (!isObject(doc.info) || typeof doc.info.title !== 'string' || typeof doc.info.version !== 'string') problem('info', 'title and version are required strings')
  if (v30 && !isObject(doc.paths)) problem('paths', 'required in 3.0')
  if (!v30 && doc.paths === undefined && doc.components === undefined && doc.webhooks === undefined) problem('document', 'paths, components or webhooks required in 3.1')

  const components = isObject(doc.components) ? doc.components : {}
  const schemes = isObject(components.securitySchemes) ? components.securitySchemes : {}
  for (const [name, scheme] of Object.entries(schemes)) {
    const where = `components.securitySchemes.${name}`
    if (!isObject(scheme)) { problem(where, 'not an object'); continue }
    switch (scheme.type) {
      case 'http': if (typeof scheme.scheme !== 'string' || scheme.scheme === '') problem(where, 'http needs a scheme'); break
      case 'apiKey': if (typeof scheme.name !== 'string' || !['query', 'header', 'cookie'].includes(String(scheme.in))) problem(where, 'apiKey needs name and in'); break
      case 'oauth2': if (!isObject(scheme.flows)) problem(where, 'oauth2 needs flows'); break
      case 'openIdConnect': if (typeof scheme.openIdConnectUrl !== 'string') problem(where, 'openIdConnect needs openIdConnectUrl'); break
      case 'mutualTLS': if (v30) problem(where, 'mutualTLS is 3.1 only'); break
      default: problem(where, `unknown type ${String(scheme.type)}`)
    }
  }

  const checkSecurity = (where: string, security: unknown): void => {
    if (!Array.isArray(security)) return problem(where, 'security must be an array')
    for (const requirement of security) {
      if (!isObject(requirement)) { problem(where, 'requirement not an object'); continue }
      for (const [name, scopes] of Object.entries(requirement)) {
        const scheme = schemes[name]
        if (!isObject(scheme)) problem(where, `names undefined scheme "${name}"`)
        if (!Array.isArray(scopes) || scopes.some((s) => typeof s !== 'string')) problem(where, `"${name}" scopes must be strings`)
        else if (v30 && scopes.length > 0 && isObject(scheme) && scheme.type !== 'oauth2' && scheme.type !== 'openIdConnect') {
          problem(where, `"${name}" (${String(scheme.type)}) must have an empty scope list in 3.0`)
        }
      }
    }
  }
  if (doc.security !== undefined) checkSecurity('security', doc.security)

  const operationIds = new Set<string>()
  for (const [path, item] of Object.entries(isObject(doc.paths) ? doc.paths : {})) {
    if (!path.startsWith('/')) problem(path, 'path must start with "/"')
    if (!isObject(item)) { problem(path, 'path item not an object'); continue }
    const shared = Array.isArray(item.parameters) ? item.parameters as Json[] : []
    for (const [method, operation] of Object.entries(item)) {
      const where = `${method.toUpperCase()} ${path}`
      if (!PATH_ITEM_KEYS.has(method) && !method.startsWith('x-')) problem(where, 'unknown path item member')
      if (!METHODS.has(method)) continue
      if (!isObject(operation)) { problem(where, 'operation not an object'); continue }
      if (typeof operation.operationId === 'string') {
        if (operationIds.has(operation.operationId)) problem(where, `duplicate operationId ${operation.operationId}`)
        operationIds.add(operation.operationId)
      }
      const responses = operation.responses
      if (!isObject(responses) || Object.keys(responses).length === 0) problem(where, 'responses required')
      for (const [code, response] of Object.entries(isObject(responses) ? responses : {})) {
        if (code !== 'default' && !/^[1-5](?:\d\d|XX)$/.test(code)) problem(where, `bad response code ${code}`)
        if (!isObject(response) || (response.$ref === undefined && typeof response.description !== 'string')) problem(`${where} ${code}`, 'response needs a description')
      }
      if (operation.security !== undefined) checkSecurity(where, operation.security)
      const params = [...shared, ...(Array.isArray(operation.parameters) ? operation.parameters as Json[] : [])]
      for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
        if (!params.some((p) => p.in === 'path' && p.name === name && p.required === true)) problem(where, `path parameter "${name}" not declared as required`)
      }
    }
  }

  const walk = (node: unknown, where: string): void => {
    if (Array.isArray(node)) { node.forEach((n, i) => walk(n, `${where}/${i}`)); return }
    if (!isObject(node)) return
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') {
        if (!value.startsWith('#/') || pointer(doc, value) === undefined) problem(where, `unresolved $ref ${value}`)
      } else {
        walk(value, `${where}/${key}`)
      }
    }
  }
  walk(doc, '#')
  return problems
}
