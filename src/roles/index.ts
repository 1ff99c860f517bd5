// One factory per role: configuration (and optional overrides) → the whole role, not listening yet.
// The `pipeline` command, the benchmark and the tests all build roles here.
import type { Config, Role } from '../config/index.ts'
import { createApiRole } from './api.ts'
import { createConsumerRole } from './consumer.ts'
import { createProducerRole } from './producer.ts'
import type { RoleInstance } from './role.ts'

export { type ApiRole, type ApiRoleOverrides, createApiRole } from './api.ts'
export {
  type ConsumerRole,
  type ConsumerRoleOverrides,
  type ConsumerSettingsOverrides,
  createConsumerRole,
} from './consumer.ts'
export { createProducerRole, type ProducerRole, type ProducerRoleOverrides } from './producer.ts'
export { type RoleInstance, type RoleOverrides, stopRoles } from './role.ts'

/** Builds a role by name with the configuration's defaults. */
export function createRole(role: Role, config: Config): Promise<RoleInstance> {
  switch (role) {
    case 'producer':
      return createProducerRole(config)
    case 'consumer':
      return createConsumerRole(config)
    case 'api':
      return createApiRole(config)
  }
}
