// What every role's Fastify app shares: request ids, /health, /ready, /metrics, HTTP metrics, one error
// handler, JSON 404s, the server's timeouts and limits, and a "closing" state for graceful shutdown. The app is
// returned unstarted so tests can `inject` into it and the process module decides when to listen.
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import { withTimeout } from '../async.ts'
import type { Role } from '../config/index.ts'
import { httpMetrics, type Logger, readinessMetric } from '../observability/index.ts'
import { pipelineVersion } from '../version.ts'
import { bearerMatcher } from './auth.ts'
import { errorHandlerWith, notFoundHandler } from './errors.ts'
import { defaultHttpLimits, type HttpLimits, limitServer, serverOptions } from './limits.ts'
import { describeApp } from './openapi.ts'
import { ProbeQuietLogController } from './request-log.ts'
import { baseRouteSchemas } from './schemas.ts'

export interface Check {
  ok: boolean
  error?: string
}

export type Checks = Record<string, Check>

export interface BaseAppOptions {
  role: Role
  logger: Logger
  registry: Registry
  /** The readiness checks of the role (Kafka answers, the database answers, …). */
  ready: () => Promise<Checks>
  /** Largest request body in bytes (Fastify's default, 1 MiB, when absent). */
  bodyLimit?: number
  /** The variable that sets bodyLimit, named in the 413 answer. */
  bodyLimitVariable?: string
  /** Timeouts and connection limits of the server (the configuration's defaults when absent). */
  limits?: HttpLimits
  /** /ready shows its per-check details only to callers presenting this bearer token; never when unset. */
  adminToken?: string | undefined
  /** Longest /ready waits for `ready` before it reports not ready. */
  readyTimeoutMs?: number
  /**
   * Fields /health adds to its answer, read synchronously from state the role keeps current: /health answers
   * 200 at once while the process lives, whatever its dependencies do. `detail` (an address) is shown only
   * with the admin token, as /ready's details are.
   */
  health?: () => Readonly<Record<string, HealthField>>
  /**
   * An HTML page GET / answers to browsers (a request whose Accept names text/html before JSON); other clients
   * keep the JSON list of routes. Served with a Content-Security-Policy that allows this origin only.
   */
  page?: string
}

/** Headers of every page and asset the roles serve to browsers: this origin only, no framing, no sniffing. */
export const pageHeaders: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
})

/** Whether the client asks for HTML first: browsers send text/html in Accept, curl and fetch send *\/\*. */
export function prefersHtml(accept: string | undefined): boolean {
  if (accept === undefined) return false
  const html = accept.indexOf('text/html')
  const json = accept.indexOf('application/json')
  return html >= 0 && (json < 0 || html < json)
}

export interface HealthField {
  readonly state: string
  readonly detail?: string
}

declare module 'fastify' {
  interface FastifyInstance {
    /** True once shutdown began: /ready answers 503 and handlers refuse new work. */
    readonly closing: boolean
    markClosing(): void
  }
}

/** A client's id is kept only when it is short and plain, so it cannot forge log fields or bloat every line. */
const acceptableRequestId = /^[\w.:@/+=-]{1,128}$/

function requestIdOf(req: IncomingMessage): string {
  const header = req.headers['x-request-id']
  const value = Array.isArray(header) ? header[0] : header
  return value !== undefined && acceptableRequestId.test(value) ? value : randomUUID()
}

/** Starts shutdown for an app built by buildBaseApp: /ready answers 503 and handlers refuse new work. */
export function markClosing(app: FastifyInstance): void {
  app.markClosing()
}

/** Fastify's default body limit, which applies when an app sets none. */
const fastifyBodyLimit = 1024 * 1024

export function buildBaseApp(options: BaseAppOptions): FastifyInstance {
  const limits = options.limits ?? defaultHttpLimits
  const app = Fastify({
    ...serverOptions(limits),
    loggerInstance: options.logger,
    logController: new ProbeQuietLogController(),
    genReqId: requestIdOf,
    // genReqId reads (and vets) x-request-id itself; Fastify's own header lookup would skip the vetting.
    requestIdHeader: false,
    // Fastify answers 404 for path parameters past 100 characters; routes validate ids themselves and answer
    // 400 for a malformed one, so let longer ones through to them.
    routerOptions: { maxParamLength: 1000 },
    ...(options.bodyLimit === undefined ? {} : { bodyLimit: options.bodyLimit }),
  }) as unknown as FastifyInstance
  limitServer(app.server, limits)
  // First, before any route: the document collects the routes as they are added (GET /openapi.json).
  describeApp(app, options.role)

  let closing = false
  app.decorate('closing', {
    getter: () => closing,
  })
  app.decorate('markClosing', () => {
    closing = true
  })
  // Whoever closes the app without calling markClosing first still gets a 503 /ready while it drains.
  app.addHook('preClose', async () => {
    closing = true
  })

  const metrics = httpMetrics(options.registry)
  // Callback hooks rather than async ones: they run on every request, and an async hook costs a promise and a
  // microtask turn each.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id)
    done()
  })
  app.addHook('onResponse', (request, reply, done) => {
    // The route pattern, not the URL: one series per route, whatever ids clients put in paths.
    const route = request.is404 ? 'unknown' : (request.routeOptions.url ?? 'unknown')
    const method = request.method
    metrics.requests.inc({ method, route, status: String(reply.statusCode) })
    metrics.latency.observe({ method, route }, reply.elapsedTime / 1000)
    done()
  })

  const bodyLimit = options.bodyLimit ?? fastifyBodyLimit
  const bodyLimitVariable = options.bodyLimitVariable === undefined ? '' : ` (${options.bodyLimitVariable})`
  app.setErrorHandler(
    errorHandlerWith({ PAYLOAD_TOO_LARGE: `body larger than ${bodyLimit} bytes${bodyLimitVariable}` }),
  )
  app.setNotFoundHandler(notFoundHandler)

  // GET / lists what this port serves, so a person who opens it in a browser or with curl sees where to go.
  const routes: string[] = []
  app.addHook('onRoute', route => {
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    for (const method of methods) if (method !== 'HEAD') routes.push(`${method} ${route.url}`)
  })

  const readyTimeoutMs = options.readyTimeoutMs ?? 3000
  const isAdmin = bearerMatcher(options.adminToken)

  async function readiness(): Promise<Checks> {
    if (closing) return { shutdown: { ok: false, error: 'shutting down' } }
    try {
      return await withTimeout(options.ready(), readyTimeoutMs, 'readiness check')
    } catch (error) {
      return { ready: { ok: false, error: (error as Error).message } }
    }
  }
  const allPass = (checks: Checks) => Object.values(checks).every(c => c.ok)
  readinessMetric(options.registry, async () => allPass(await readiness()))

  // The routes are added in a plugin, so when the app gets ready, like the roles' own: hooks a caller adds to
  // the returned app (onRoute among them) see every route.
  app.register(async base => {
    base.get('/', { schema: baseRouteSchemas.index(options.page !== undefined) }, async (request, reply) => {
      if (options.page !== undefined && prefersHtml(request.headers.accept)) {
        return reply.headers(pageHeaders).type('text/html; charset=utf-8').send(options.page)
      }
      return { role: options.role, routes: [...routes].sort() }
    })

    base.get('/health', { schema: baseRouteSchemas.health(options.adminToken) }, async request => {
      const fields = options.health?.() ?? {}
      const admin = Object.keys(fields).length > 0 && isAdmin(request.headers.authorization)
      const shown = Object.entries(fields).map(([name, f]) => [
        name,
        admin && f.detail !== undefined ? `${f.state} (${f.detail})` : f.state,
      ])
      return { status: 'ok', version: pipelineVersion(), ...Object.fromEntries(shown) }
    })
    base.get('/ready', { schema: baseRouteSchemas.ready(options.adminToken) }, async (request, reply) => {
      const checks = await readiness()
      const ok = allPass(checks)
      const status = ok ? 'ready' : 'not ready'
      // The checks' errors name hosts, ports and database messages: for operators only, never for anyone who can
      // reach the port.
      const body = isAdmin(request.headers.authorization) ? { status, checks } : { status }
      return reply.code(ok ? 200 : 503).send(body)
    })

    base.get('/metrics', { schema: baseRouteSchemas.metrics }, async (_request, reply) => {
      const text = await options.registry.metrics()
      return reply.type(options.registry.contentType).send(text)
    })
  })

  return app
}
