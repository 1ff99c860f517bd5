// An HTTP server in a process of its own, so the load generator (autocannon, in bench/main.ts) never shares an
// event loop with it.
//   producer  the producer role (src/roles) on a fresh topic, as `pipeline producer` builds it
//   noop      the ceiling for it: a bare Fastify POST route that parses the JSON body and answers a constant
//   api       the read API role on the PostgreSQL database a drain filled
//   constant  the ceiling for it: a bare Fastify GET route answering a constant order
import Fastify from 'fastify'
import { services } from '../../dev/services.ts'
import { loadConfig } from '../../src/config/index.ts'
import { createApiRole, createProducerRole, stopRoles } from '../../src/roles/index.ts'
import type { ServerRequest, WorkerMessage } from './protocol.ts'

const request = JSON.parse(process.argv[2] ?? '{}') as ServerRequest
const send = (message: WorkerMessage) => process.send?.(message)

const constantOrder = {
  order: {
    orderId: 'order-1',
    userId: 'user-1',
    total: 123.45,
    status: 'placed',
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:01.000Z',
  },
  payment: { orderId: 'order-1', status: 'settled', amount: 123.45, settledAt: '2025-01-01T00:00:02.000Z' },
}

async function build() {
  const config = loadConfig({
    ...process.env,
    KAFKA_BROKERS: services.kafkaBrokers.join(','),
    KAFKA_TOPIC: request.topic ?? 'unused',
    KAFKA_PARTITIONS: String(request.partitions ?? 3),
    // Unique with the topic; the workload's events are all valid, so nothing is written to it.
    DLQ_KEY: `${request.topic ?? 'unused'}:dlq`,
    LOG_LEVEL: request.logLevel,
    ...(request.databaseUrl === undefined ? {} : { DATABASE_URL: request.databaseUrl }),
  })
  switch (request.kind) {
    case 'producer':
    case 'api': {
      const role = await (request.kind === 'producer' ? createProducerRole(config) : createApiRole(config))
      await role.start()
      return { app: role.app, stop: () => stopRoles([role]) }
    }
    case 'noop': {
      const app = Fastify({ bodyLimit: config.bodyLimitBytes })
      app.post('/produce', async () => ({ ok: true }))
      return { app, stop: () => app.close() }
    }
    case 'constant': {
      const app = Fastify()
      app.get('/orders/:id', async () => constantOrder)
      return { app, stop: () => app.close() }
    }
  }
}

try {
  const { app, stop: stopServer } = await build()
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  send({ type: 'listening', url })
  const stop = async () => {
    await stopServer()
    process.exit(0)
  }
  process.once('SIGTERM', stop)
  process.once('disconnect', stop)
} catch (error) {
  send({ type: 'failed', message: (error as Error).stack ?? String(error) })
  process.exit(1)
}
