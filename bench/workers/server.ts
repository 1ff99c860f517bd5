// An HTTP server in a process of its own, so the load generator (autocannon, in bench/main.ts) never shares an
// event loop with it.
//   producer  the real producer app (POST /produce) with the real publisher on a fresh topic
//   noop      the ceiling for it: a bare Fastify POST route that parses the JSON body and answers a constant
//   api       the real read API on the PostgreSQL database a drain filled
//   constant  the ceiling for it: a bare Fastify GET route answering a constant order
import Fastify from 'fastify'
import { buildApiApp } from '../../src/api/index.ts'
import { loadConfig } from '../../src/config/index.ts'
import { connectionOf } from '../../src/kafka/options.ts'
import { createLogger, createRegistry } from '../../src/observability/index.ts'
import { buildProducerApp, createPublisher } from '../../src/producer/index.ts'
import { createStore } from '../../src/store/index.ts'
import { brokers } from '../kafka.ts'
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
    KAFKA_BROKERS: brokers.join(','),
    KAFKA_TOPIC: request.topic ?? 'unused',
    KAFKA_PARTITIONS: String(request.partitions ?? 3),
    LOG_LEVEL: request.logLevel,
    ...(request.databaseUrl === undefined ? {} : { DATABASE_URL: request.databaseUrl }),
  })
  switch (request.kind) {
    case 'producer': {
      const logger = createLogger(config.logLevel, 'producer')
      const publisher = await createPublisher({
        connection: connectionOf(config, 'producer'),
        topic: config.kafkaTopic,
        partitions: config.kafkaPartitions,
        logger,
      })
      const app = buildProducerApp({ config, logger, registry: createRegistry('producer'), publisher })
      return { app, close: () => publisher.close() }
    }
    case 'api': {
      const logger = createLogger(config.logLevel, 'api')
      const store = await createStore(config.database)
      const app = buildApiApp({ store, logger, registry: createRegistry('api') })
      return { app, close: () => store.close() }
    }
    case 'noop': {
      const app = Fastify({ bodyLimit: config.bodyLimitBytes })
      app.post('/produce', async () => ({ ok: true }))
      return { app, close: async () => {} }
    }
    case 'constant': {
      const app = Fastify()
      app.get('/orders/:id', async () => constantOrder)
      return { app, close: async () => {} }
    }
  }
}

try {
  const { app, close } = await build()
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  send({ type: 'listening', url })
  const stop = async () => {
    await app.close()
    await close()
    process.exit(0)
  }
  process.once('SIGTERM', stop)
  process.once('disconnect', stop)
} catch (error) {
  send({ type: 'failed', message: (error as Error).stack ?? String(error) })
  process.exit(1)
}
