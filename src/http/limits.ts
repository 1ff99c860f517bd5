// Timeouts and limits of every role's HTTP server, so that a client that connects and then stalls, dribbles its
// headers or opens connections by the thousand holds a bounded amount of memory and descriptors for a bounded time.
import type { Server, ServerOptions } from 'node:http'
import { type Config, spec } from '../config/index.ts'

export type HttpLimits = Pick<
  Config,
  | 'httpRequestTimeoutMs'
  | 'httpHeadersTimeoutMs'
  | 'httpKeepAliveTimeoutMs'
  | 'httpConnectionTimeoutMs'
  | 'httpMaxConnections'
  | 'httpMaxRequestsPerSocket'
>

/** The limits of the configuration's defaults, for apps built without a configuration (tests). */
export const defaultHttpLimits: HttpLimits = Object.freeze({
  httpRequestTimeoutMs: spec.httpRequestTimeoutMs.parse(spec.httpRequestTimeoutMs.default),
  httpHeadersTimeoutMs: spec.httpHeadersTimeoutMs.parse(spec.httpHeadersTimeoutMs.default),
  httpKeepAliveTimeoutMs: spec.httpKeepAliveTimeoutMs.parse(spec.httpKeepAliveTimeoutMs.default),
  httpConnectionTimeoutMs: spec.httpConnectionTimeoutMs.parse(spec.httpConnectionTimeoutMs.default),
  httpMaxConnections: spec.httpMaxConnections.parse(spec.httpMaxConnections.default),
  httpMaxRequestsPerSocket: spec.httpMaxRequestsPerSocket.parse(spec.httpMaxRequestsPerSocket.default),
})

/** Picks the HTTP limits out of a configuration. */
export function httpLimitsOf(config: HttpLimits): HttpLimits {
  const limits: Record<string, number> = {}
  for (const key of Object.keys(defaultHttpLimits) as (keyof HttpLimits)[]) limits[key] = config[key]
  return limits as unknown as HttpLimits
}

/**
 * Fastify's options for the limits. Fastify's own defaults leave a request unbounded in time (its
 * `requestTimeout` of 0 also switches Node's off), so every one is set.
 */
export function serverOptions(limits: HttpLimits): {
  requestTimeout: number
  connectionTimeout: number
  keepAliveTimeout: number
  maxRequestsPerSocket: number
  http: ServerOptions
} {
  const requestTimeout = limits.httpRequestTimeoutMs
  // Node refuses a headers timeout longer than the request timeout; the request timeout bounds both anyway.
  const headersTimeout = Math.min(limits.httpHeadersTimeoutMs, requestTimeout)
  return {
    requestTimeout,
    connectionTimeout: limits.httpConnectionTimeoutMs,
    keepAliveTimeout: limits.httpKeepAliveTimeoutMs,
    maxRequestsPerSocket: limits.httpMaxRequestsPerSocket,
    http: {
      requestTimeout,
      headersTimeout,
      keepAliveTimeout: limits.httpKeepAliveTimeoutMs,
      // Node enforces the request and headers timeouts by sweeping its connections at this interval (30 s by
      // default), so a connection outlives its timeout by up to one interval: a quarter of the headers timeout,
      // at most 1 s, keeps that overshoot small for a sweep over at most httpMaxConnections connections.
      connectionsCheckingInterval: Math.max(25, Math.min(1000, Math.floor(headersTimeout / 4))),
    },
  }
}

/** Limits that Fastify has no option for, set on its server before it listens. */
export function limitServer(server: Server, limits: HttpLimits): void {
  // Node closes a connection past this count as soon as it is accepted, so a flood of idle connections cannot take
  // every descriptor of the process (and with it the other roles of `pipeline all`).
  server.maxConnections = limits.httpMaxConnections
}
