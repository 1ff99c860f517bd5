import { Admin } from '@platformatic/kafka'
import type { KafkaConnection } from './options.ts'

/** Creates the topic when it does not exist yet (idempotent, also when two processes race). */
export async function ensureTopic(connection: KafkaConnection, topic: string, partitions: number): Promise<void> {
  const admin = new Admin({ ...connection, clientId: `${connection.clientId}-admin` })
  try {
    const existing = await admin.listTopics()
    if (existing.includes(topic)) return
    try {
      await admin.createTopics({ topics: [topic], partitions, replicas: -1 })
    } catch (error) {
      // Another process may have created it between our list and create (TOPIC_ALREADY_EXISTS): that is fine.
      if (!(await admin.listTopics()).includes(topic)) throw error
    }
  } finally {
    await admin.close()
  }
}

/** Answers true when a metadata request succeeds within `timeoutMs`. */
export async function kafkaAnswers(connection: KafkaConnection, timeoutMs = 3000): Promise<boolean> {
  const admin = new Admin({
    ...connection,
    clientId: `${connection.clientId}-probe`,
    retries: 0,
    connectTimeout: timeoutMs,
    timeout: timeoutMs,
  })
  try {
    await admin.metadata({ topics: [] })
    return true
  } catch {
    return false
  } finally {
    await admin.close().catch(() => {})
  }
}
