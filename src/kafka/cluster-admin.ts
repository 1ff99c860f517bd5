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

/**
 * The topic's Kafka topic ID (a UUID), which tells a topic apart from an earlier one of the same name that was
 * deleted; undefined when the broker gives none (before Kafka 2.8) or the topic does not exist.
 */
export async function topicIdOf(connection: KafkaConnection, topic: string): Promise<string | undefined> {
  const admin = new Admin({ ...connection, clientId: `${connection.clientId}-admin` })
  try {
    const id = (await admin.metadata({ topics: [topic] })).topics.get(topic)?.id
    return id === undefined || /^0{8}-0{4}-0{4}-0{4}-0{12}$/.test(id) ? undefined : id
  } finally {
    await admin.close()
  }
}

/** An admin client that asks once and gives up after `timeoutMs`: for probes, not for work. */
function probeAdmin(connection: KafkaConnection, timeoutMs: number): Admin {
  return new Admin({
    ...connection,
    clientId: `${connection.clientId}-probe`,
    retries: 0,
    connectTimeout: timeoutMs,
    timeout: timeoutMs,
  })
}

/** Answers true when a metadata request succeeds within `timeoutMs`. */
export async function kafkaAnswers(connection: KafkaConnection, timeoutMs = 3000): Promise<boolean> {
  const admin = probeAdmin(connection, timeoutMs)
  try {
    await admin.metadata({ topics: [] })
    return true
  } catch {
    return false
  } finally {
    await admin.close().catch(() => {})
  }
}

/**
 * The ids of the brokers the cluster's metadata lists (in KRaft: registered and not fenced), from whichever
 * bootstrap broker answers within `timeoutMs`; undefined when none does. A node that was just restarted is listed
 * once it has caught up with the metadata log and unfenced itself.
 */
export async function liveBrokerIds(connection: KafkaConnection, timeoutMs = 3000): Promise<number[] | undefined> {
  const admin = probeAdmin(connection, timeoutMs)
  try {
    const metadata = await admin.metadata({ topics: [], forceUpdate: true })
    return [...metadata.brokers.keys()].sort((a, b) => a - b)
  } catch {
    return undefined
  } finally {
    await admin.close().catch(() => {})
  }
}
