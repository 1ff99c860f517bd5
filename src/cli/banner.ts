// The few lines a person sees first on a terminal: where each role answers, which store, Kafka and Redis are in
// use, and how to stop. Only addresses and names: never a password or a full connection URL.
import type { Config, Role } from '../config/index.ts'

const labels: Record<Role, string> = { producer: 'producer', consumer: 'consumer', api: 'read API' }
const hints: Record<Role, string> = {
  producer: 'POST /produce',
  consumer: '/health /ready /metrics',
  api: 'GET /users/{id} /orders/{id} /inventory/{sku} /events/{eventId}',
}

/** Where the store is, without credentials. */
export function storeLabel(config: Config): string {
  const db = config.database
  if (db.engine === 'sqlite') return `SQLite ${db.path}`
  if (db.url !== undefined) {
    const url = new URL(db.url)
    return `${db.engine === 'postgres' ? 'PostgreSQL' : 'SQL Server'} ${url.host}${url.pathname}`
  }
  return 'SQL Server (MSSQL_CONN)'
}

export function banner(config: Config, addresses: Partial<Record<Role, string>>, version: string): string {
  const lines = [`event-pipeline ${version} is running`]
  for (const role of ['producer', 'consumer', 'api'] as const) {
    const address = addresses[role]
    if (address !== undefined) lines.push(`  ${labels[role].padEnd(9)} ${address.padEnd(24)} ${hints[role]}`)
  }
  if (addresses.consumer !== undefined || addresses.api !== undefined) lines.push(`  store     ${storeLabel(config)}`)
  if (addresses.producer !== undefined || addresses.consumer !== undefined) {
    lines.push(`  Kafka     ${config.kafkaBrokers.join(',')} (topic ${config.kafkaTopic})`)
    lines.push(`  Redis     ${config.redisAddr} (dead letters in ${config.dlqKey})`)
  }
  lines.push('Ctrl-C stops it; a local Kafka broker that npm start started keeps running (npm run kafka:stop).')
  return `${lines.join('\n')}\n`
}
