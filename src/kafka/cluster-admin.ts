import { Admin, ConfigResourceTypes } from '@platformatic/kafka'
import type { KafkaConnection } from './options.ts'

/** The topic configuration the pipeline creates its topic with: no deletion by age or by size. */
export const keepTheLog = [
  { name: 'retention.ms', value: '-1' },
  { name: 'retention.bytes', value: '-1' },
]

/**
 * Creates the topic when it does not exist yet (idempotent, also when two processes race), with `retention.ms=-1`:
 * the log is the projection's source of truth, and a projection can be rebuilt only from the records it keeps.
 */
export async function ensureTopic(connection: KafkaConnection, topic: string, partitions: number): Promise<void> {
  const admin = new Admin({ ...connection, clientId: `${connection.clientId}-admin` })
  try {
    const existing = await admin.listTopics()
    if (existing.includes(topic)) return
    try {
      await admin.createTopics({ topics: [topic], partitions, replicas: -1, configs: keepTheLog })
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

/** What deletes records of a topic: its `retention.ms` and `retention.bytes` (-1: never), and its cleanup policy. */
export interface TopicRetention {
  readonly retentionMs: number
  readonly retentionBytes: number
  /** `delete`, `compact` or both: compaction too removes records (older versions of a key). */
  readonly cleanupPolicy: string
}

/** The topic's retention settings as the broker applies them (its own or the broker's defaults). */
export async function topicRetention(connection: KafkaConnection, topic: string): Promise<TopicRetention> {
  const admin = new Admin({ ...connection, clientId: `${connection.clientId}-admin` })
  try {
    const [described] = await admin.describeConfigs({
      resources: [
        {
          resourceType: ConfigResourceTypes.TOPIC,
          resourceName: topic,
          configurationKeys: ['retention.ms', 'retention.bytes', 'cleanup.policy'],
        },
      ],
    })
    const value = (name: string) => described?.configs.find(c => c.name === name)?.value ?? undefined
    return {
      retentionMs: Number(value('retention.ms') ?? 604_800_000),
      retentionBytes: Number(value('retention.bytes') ?? -1),
      cleanupPolicy: value('cleanup.policy') ?? 'delete',
    }
  } finally {
    await admin.close()
  }
}

/**
 * Sets the committed offsets of `groupId` on `topic` (the next record each partition reads). Kafka accepts it only
 * while the group has no member: a group created for one reader, before that reader joins.
 */
export async function commitGroupOffsets(
  connection: KafkaConnection,
  groupId: string,
  topic: string,
  offsets: ReadonlyMap<number, bigint>,
): Promise<void> {
  const admin = new Admin({ ...connection, clientId: `${connection.clientId}-admin` })
  try {
    const partitionOffsets = [...offsets].map(([partition, offset]) => ({ partition, offset }))
    await admin.alterConsumerGroupOffsets({ groupId, topics: [{ name: topic, partitionOffsets }] })
  } finally {
    await admin.close()
  }
}

/** Deletes consumer groups that have no member; one that does not exist is no error. */
export async function deleteGroups(connection: KafkaConnection, groups: readonly string[]): Promise<void> {
  const admin = new Admin({ ...connection, clientId: `${connection.clientId}-admin` })
  try {
    await admin.deleteGroups({ groups: [...groups] }).catch((error: unknown) => {
      // GROUP_ID_NOT_FOUND for a group never created (or deleted already): what the caller wanted.
      if (
        !/not.?found|GROUP_ID_NOT_FOUND|does not exist/i.test(JSON.stringify(error, Object.getOwnPropertyNames(error)))
      ) {
        throw error
      }
    })
  } finally {
    await admin.close()
  }
}
