// Checks of an OpenAPI document against the app that serves it: every route the app registered is in the
// document with each of its methods, and described (a summary, its answers with their meaning), and an answer the
// app gave is one the document lists, in the shape it gives.
import { Ajv2020 } from 'ajv/dist/2020.js'
import type { FastifyInstance, RouteOptions } from 'fastify'

export interface Route {
  readonly method: string
  readonly url: string
}

export type Operation = {
  summary?: string
  parameters?: { name?: string; in?: string; $ref?: string }[]
  security?: Record<string, string[]>[]
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>
}

export type OpenApiDocument = {
  openapi: string
  paths: Record<string, Record<string, Operation>>
  components: Record<string, unknown>
}

/** Collects the routes an app registers from now on (call before the app is ready). */
export function collectRoutes(app: FastifyInstance): Route[] {
  const routes: Route[] = []
  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    for (const method of methods) routes.push({ method, url: route.url ?? '' })
  })
  return routes
}

/** Fastify's `/users/:id` as OpenAPI's `/users/{id}`. */
export function openApiPath(url: string): string {
  return url.replace(/:(\w+)/g, '{$1}')
}

const fallbackDescription = 'Default Response'

/** What keeps the document from describing `routes`: one line per problem, none when it describes them all. */
export function undescribed(doc: OpenApiDocument, routes: readonly Route[]): string[] {
  const problems: string[] = []
  for (const { method, url } of routes) {
    const where = `${method} ${url}`
    const operation = doc.paths[openApiPath(url)]?.[method.toLowerCase()]
    if (operation === undefined) {
      problems.push(`${where}: not in the document`)
      continue
    }
    if (!operation.summary) problems.push(`${where}: no summary`)
    const responses = Object.entries(operation.responses ?? {})
    if (!responses.some(([status]) => status.startsWith('2'))) problems.push(`${where}: no 2xx answer`)
    if (!responses.some(([status]) => status === '500')) problems.push(`${where}: no 500 answer`)
    for (const [status, response] of responses) {
      if (!response.description || response.description === fallbackDescription) {
        problems.push(`${where}: answer ${status} has no description of its own`)
      }
    }
    for (const name of url.match(/:(\w+)/g) ?? []) {
      const described = (operation.parameters ?? []).some(p => p.in === 'path' && `:${p.name}` === name)
      if (!described) problems.push(`${where}: path parameter ${name} not described`)
    }
  }
  return problems
}

/** Validates answers against the schemas of a document (JSON Schema 2020-12, as OpenAPI 3.1 says). */
export function answerChecker(doc: OpenApiDocument) {
  const ajv = new Ajv2020({ strict: false, validateFormats: false })
  ajv.addSchema({ $id: 'doc', components: doc.components })
  return (route: Route, status: number, contentType: string, body: string): string | undefined => {
    const operation = doc.paths[openApiPath(route.url)]?.[route.method.toLowerCase()]
    const response = operation?.responses?.[String(status)]
    const where = `${route.method} ${route.url} answered ${status}`
    if (response === undefined) return `${where}, which the document does not list`
    if (route.method === 'HEAD' || body === '') return undefined
    const media = Object.entries(response.content ?? {}).find(([type]) => contentType.startsWith(type))
    if (media === undefined) return `${where} with ${contentType}, which the document does not list`
    if (!contentType.includes('json')) return undefined
    const schema = JSON.parse(JSON.stringify(media[1].schema ?? {}).replaceAll('"#/components/', '"doc#/components/'))
    const validate = ajv.compile(schema)
    if (validate(JSON.parse(body))) return undefined
    return `${where} with a body the document does not describe: ${ajv.errorsText(validate.errors)}: ${body.slice(0, 300)}`
  }
}
