// The read API role: GET /users/:id, /orders/:id, /inventory/:sku on the store.
import { buildApiApp } from '../api/index.ts'
import type { Config } from '../config/index.ts'
import { httpLimitsOf } from '../http/index.ts'
import type { Store } from '../store/index.ts'
import { observabilityOf, openStore, type RoleInstance, type RoleOverrides } from './role.ts'

export interface ApiRoleOverrides extends RoleOverrides {
  /** Default: the store of the configuration, migrated. The caller closes one it passes. */
  store?: Store
}

export interface ApiRole extends RoleInstance {
  readonly role: 'api'
  readonly store: Store
}

export async function createApiRole(config: Config, overrides: ApiRoleOverrides = {}): Promise<ApiRole> {
  const { logger, registry } = observabilityOf(config, 'api', overrides)
  const store = overrides.store ?? (await openStore(config, logger))
  const app = buildApiApp({
    store,
    logger,
    registry,
    limits: httpLimitsOf(config),
    readToken: config.readToken,
    adminToken: config.adminToken,
  })
  return {
    role: 'api',
    app,
    store,
    start: async () => {},
    drain: async () => {},
    close: async () => {
      await app.close()
      if (overrides.store === undefined) await store.close()
    },
  }
}
