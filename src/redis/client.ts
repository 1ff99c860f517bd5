// The only place a Redis client is made: standalone or cluster, with the pipeline's fail-fast settings, and the
// one mapping of Redis failures to DLQ_UNAVAILABLE.
import { Cluster, Redis } from 'ioredis'
import { PipelineError } from '../errors.ts'

/** A client of the DLQ's Redis: one server, or a Redis Cluster (every key of a queue lives in one slot). */
export type RedisClient = Redis | Cluster

export interface RedisClientOptions {
  /** `host:port`, or several separated by commas (the seed nodes of a cluster). */
  readonly addr: string
  readonly password?: string
  /** TLS to Redis; `ca` is a PEM bundle (default: the system CAs). */
  readonly tls?: { ca?: Buffer }
  /** How long one command, or connecting, may wait before it counts as unavailable (default 2000). */
  readonly commandTimeoutMs?: number
  /** Connect as a cluster client; also implied when `addr` names several nodes. */
  readonly cluster?: boolean
}

/** The text Redis starts its answer with when a write would pass `maxmemory` under the noeviction policy. */
const redisFullPrefix = 'OOM command not allowed'
export const redisFullReason = 'Redis is full (maxmemory)'

/** Whether a failed Redis command was refused because Redis is at `maxmemory`. */
export function isRedisFull(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith(redisFullPrefix)
}

/** `host:port` (IPv6 hosts in brackets) as ioredis takes it. */
export function hostAndPort(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':')
  return { host: addr.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(addr.slice(i + 1)) }
}

export const nodesOf = (addr: string) =>
  addr
    .split(',')
    .map(s => s.trim())
    .filter(s => s !== '')

/** Whether `options` make a cluster client. */
export const isClusterAddr = (options: Pick<RedisClientOptions, 'addr' | 'cluster'>) =>
  options.cluster === true || nodesOf(options.addr).length > 1

/**
 * A client that fails fast: no offline queue, one retry, every command and connection bounded by
 * `commandTimeoutMs`. Connects on first use (see `connected`). Fail fast rather than queue while Redis is down:
 * the consumer must see the failure, keep the offset uncommitted and retry, not block behind an invisible queue.
 */
export function createRedisClient(options: RedisClientOptions): RedisClient {
  const timeoutMs = options.commandTimeoutMs ?? 2000
  const common = {
    password: options.password || undefined,
    ...(options.tls ? { tls: options.tls } : {}),
    maxRetriesPerRequest: 1,
    commandTimeout: timeoutMs,
    connectTimeout: timeoutMs,
  }
  const client: RedisClient = isClusterAddr(options)
    ? new Cluster(nodesOf(options.addr).map(hostAndPort), {
        lazyConnect: true,
        enableOfflineQueue: false,
        redisOptions: common,
        clusterRetryStrategy: attempt => Math.min(100 * 2 ** attempt, 2000),
        slotsRefreshTimeout: timeoutMs,
        // A MOVED or ASK answer (a slot moving between masters) is followed a few times, not forever.
        maxRedirections: 8,
      })
    : new Redis({
        ...hostAndPort(options.addr),
        ...common,
        lazyConnect: true,
        enableOfflineQueue: false,
        retryStrategy: attempt => Math.min(100 * 2 ** attempt, 2000),
      })
  // Connection errors surface through the failing command; without a listener ioredis would print them.
  client.on('error', () => {})
  return client
}

const connecting = new WeakMap<RedisClient, Promise<void>>()

/** Connects the client when it is not connected or connecting yet; one attempt at a time per client. */
export async function connected(client: RedisClient): Promise<void> {
  if (client.status === 'ready') return
  if (client.status === 'wait' || client.status === 'end') {
    if (!connecting.has(client)) {
      const attempt = client.connect().finally(() => connecting.delete(client))
      connecting.set(client, attempt)
    }
  }
  await connecting.get(client)
}

/**
 * Whether `error` is Redis failing (unreachable, timed out, refusing: a reply error such as OOM or CROSSSLOT, a
 * cluster without a master for a slot) rather than the caller's own error passing through.
 */
export function isRedisError(error: unknown): boolean {
  const name = (error as Error | undefined)?.name ?? ''
  const message = (error as Error | undefined)?.message ?? ''
  return (
    /Redis|ReplyError|MaxRetriesPerRequest|ClusterAllFailed/.test(name) ||
    /Connection is closed|Command timed out|ECONNREFUSED|ECONNRESET|Stream isn't writeable/.test(message) ||
    // A Redis Cluster none of whose nodes answers, that has no map of its slots yet, or a slot without a master.
    /None of startup nodes is available|Cluster isn't ready|Too many Cluster redirections|^(CLUSTERDOWN|TRYAGAIN)/.test(
      message,
    )
  )
}

/**
 * Runs `command` on a connected client; a Redis failure (isRedisError) becomes DLQ_UNAVAILABLE naming what
 * failed, and whether Redis is full. Any other error passes through as it is.
 */
export async function redisCall<T>(
  client: RedisClient,
  addr: string,
  what: string,
  command: () => Promise<T>,
): Promise<T> {
  try {
    await connected(client)
    return await command()
  } catch (error) {
    if (error instanceof PipelineError || !isRedisError(error)) throw error
    const because = isRedisFull(error) ? `${redisFullReason}: ` : ''
    throw new PipelineError(
      'DLQ_UNAVAILABLE',
      `dead-letter queue (Redis ${addr}) ${what} failed: ${because}${(error as Error).message}`,
      { cause: error },
    )
  }
}

/** Closes the client, politely when it can. */
export async function closeClient(client: RedisClient): Promise<void> {
  await client.quit().catch(() => client.disconnect())
}
