// Raw access to the real broker for tests: write any bytes to a topic, read a group's committed offsets.
import { Admin, ProduceAcks, Producer } from '@platformatic/kafka'

import { testServices } from './services.ts'

export interface RawRecord {
  key?: string | Buffer
  value: string | Buffer | null
  partition?: number
}

const toBuffer = (v: string | Buffer) => (typeof v === 'string' ? Buffer.from(v) : v)

/**
 * Writes records exactly as given (no validation, any bytes), each exactly once, and waits for the broker's
 * acknowledgement. Large inputs go out in several requests, each well under the broker's 1 MB request limit.
 *
 * Idempotent, so that the broker drops a write the client retries after it had landed: without it, a CI run on a
 * busy machine found the records of one partition twice in a topic given 8 records, and the test counting
 * committed offsets waited for 8 in vain.
 */
export async function produceRaw(topic: string, records: RawRecord[]): Promise<void> {
  const producer = new Producer({
    clientId: 'test-raw-producer',
    bootstrapBrokers: [...testServices.kafkaBrokers],
    acks: ProduceAcks.ALL,
    idempotent: true,
  })
  try {
    let start = 0
    while (start < records.length) {
      let bytes = 0
      let end = start
      while (end < records.length && (end === start || bytes < 400_000) && end - start < 2000) {
        const r = records[end] as RawRecord
        bytes += (r.value?.length ?? 0) + (r.key?.length ?? 0) + 64
        end++
      }
      await producer.send({
        messages: records.slice(start, end).map(r => ({
          topic,
          key: r.key === undefined ? undefined : toBuffer(r.key),
          value: (r.value === null ? null : toBuffer(r.value)) as Buffer,
          partition: r.partition,
        })),
      })
      start = end
    }
  } finally {
    await producer.close()
  }
}

/** The group's committed offset per partition (partitions without a commit are absent). */
export async function committedOffsets(groupId: string, topic: string): Promise<Map<number, bigint>> {
  const admin = new Admin({ clientId: 'test-admin', bootstrapBrokers: [...testServices.kafkaBrokers] })
  try {
    const [group] = await admin.listConsumerGroupOffsets({ groups: [groupId] })
    const out = new Map<number, bigint>()
    for (const t of group?.topics ?? []) {
      if (t.name !== topic) continue
      for (const p of t.partitions) if (p.committedOffset >= 0n) out.set(p.partitionIndex, p.committedOffset)
    }
    return out
  } finally {
    await admin.close()
  }
}

/**
 * Polls `check` until it returns true or `timeoutMs` passes; then fails with `what`, and with what `explain`
 * says about the state of things then (so that a rare failure tells why).
 */
export async function eventually(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 20_000,
  explain?: () => Promise<string> | string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  const state =
    explain === undefined ? '' : `; ${await Promise.resolve(explain()).catch(e => `(explain failed: ${e})`)}`
  throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}${state}`)
}
