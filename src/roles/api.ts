// The read API role: GET /users/:id, /orders/:id, /inventory/:sku on the store, /events/:eventId on the store
// and the DLQ.

import { buildApiApp } from '../api/index.ts'
import type { Config } from '../config/index.ts'
import { type DeadLetterQueue, dlqFromConfig } from '../dlq/index.ts'
import { deadLettersOf } from '../event-status/index.ts'
import { httpLimitsOf } from '../http/index.ts'
import { connectionOf, createOffsetsReader } from '../kafka/index.ts'
import type { Store } from '../store/index.ts'
import { observabilityOf, openStore, type RoleInstance, type RoleOverrides } from './role.ts'

export interface ApiRoleOverrides extends RoleOverrides {
  /** Default: the store of the configuration, migrated. The caller closes one it passes. */
  store?: Store
  /** Default: the Redis DLQ of the configuration, for event status. The caller closes one it passes. */
  dlq?: DeadLetterQueue
}

export interface ApiRole extends RoleInstance {
  readonly role: 'api'
  readonly store: Store
}

/** Longest one read of the end offsets may take: a Kafka that does not answer leaves after= waits unchecked. */
const endOffsetsTimeoutMs = 2000

export async function createApiRole(config: Config, overrides: ApiRoleOverrides = {}): Promise<ApiRole> {
  const { logger, registry } = observabilityOf(config, 'api', overrides)
  const store = overrides.store ?? (await openStore(config, logger))
  // Reads only (findByEventId); no registry, so the DLQ's push metrics do not show on the read API.
  const dlq = overrides.dlq ?? dlqFromConfig(config, { logger })
  // The end offsets that ?after= is checked against; the client connects on the first check, so the read API
  // starts and serves while Kafka is down.
  const offsets = createOffsetsReader(connectionOf(config, 'api'), { timeoutMs: endOffsetsTimeoutMs })
  const app = buildApiApp({
    store,
    logger,
    registry,
    limits: httpLimitsOf(config),
    readToken: config.readToken,
    adminToken: config.adminToken,
    topic: config.kafkaTopic,
    readWaitMs: config.readWaitMs,
    readWaitersMax: config.readWaitersMax,
    readWaitersPerAddress: config.readWaitersPerAddress,
    endOffsets: () => offsets.ends(config.kafkaTopic),
    deadLetters: deadLettersOf(dlq),
    keySummaries: questions => dlq.keySummaries(questions),
  })
  return {
    role: 'api',
    app,
    store,
    start: async () => {},
    drain: async () => {},
    close: async () => {
      await app.close()
      await Promise.all([
        offsets.close(),
        overrides.store === undefined ? store.close() : undefined,
        overrides.dlq === undefined ? dlq.close() : undefined,
      ])
    },
  }
}
