// Request log lines: "incoming request" and "request completed" at INFO for the API a role serves, at DEBUG for
// the probes (/health, /ready, /metrics) that orchestrators and Prometheus call every few seconds, so that a
// terminal or a log store shows the traffic that matters.
import { type FastifyReply, type FastifyRequest, LogController } from 'fastify'

const probes: ReadonlySet<string> = new Set(['/health', '/ready', '/metrics'])

/** Whether a request is a probe, by its path without the query string. */
export function isProbe(url: string): boolean {
  const q = url.indexOf('?')
  return probes.has(q === -1 ? url : url.slice(0, q))
}

export class ProbeQuietLogController extends LogController {
  override incomingRequest(request: FastifyRequest, reply: FastifyReply): void {
    if (isProbe(request.url)) request.log.debug({ req: request }, 'incoming request')
    else super.incomingRequest(request, reply)
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error || !isProbe(request.url)) super.requestCompleted(error, request, reply)
    else reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed')
  }
}
