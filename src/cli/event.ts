// `pipeline event <eventId> [--json]`: what became of one event, from the store and the DLQ of the
// configuration (the same answer as GET /events/{eventId} on the read API). Exit 0 when the status is known,
// 1 when it is `unknown`, 2 for a usage error.

import type { Config } from '../config/index.ts'
import { dlqFromConfig } from '../dlq/index.ts'
import {
  type DeadLetterView,
  deadLettersOf,
  type EventStatus,
  eventStatus,
  type Position,
} from '../event-status/index.ts'
import { limits } from '../events/index.ts'
import { createStore } from '../store/index.ts'

export const eventUsage = 'usage: pipeline event <eventId> [--json]\n'

const at = (p: Position | null) =>
  p === null ? 'no Kafka record' : `${p.topic} partition ${p.partition} offset ${p.offset}`

const letterLines = (letters: readonly DeadLetterView[]) =>
  letters.flatMap(l => [
    `  ${l.code}: ${l.message}`,
    `    failed at ${l.failedAt}, ${at(l.position)} (dead-lettered by the ${l.source})`,
  ])

/** The status for a person: the word first, then where and why. */
export function describeStatus(s: EventStatus): string {
  const lines = [`event ${s.eventId}: ${s.status}`]
  switch (s.status) {
    case 'applied':
      lines.push(`  ${s.type} ${s.table}/${s.key}`, `  record   ${at(s.position)}`, `  at       ${s.at}`)
      break
    case 'superseded':
      lines.push(
        `  ${s.type} ${s.table}/${s.key}, record ${at(s.position)}`,
        `  by       event ${s.by.eventId} (timestamp ${s.by.timestamp}), record ${at(s.by.position)}`,
      )
      break
    case 'pending':
      lines.push(
        `  ${s.type} ${s.table}/${s.key}, record ${at(s.position)}`,
        `  waiting for ${s.waitingFor.table}/${s.waitingFor.key} (${s.waitingFor.constraint}) since ${s.since}`,
      )
      break
    case 'dead-lettered':
      lines.push(...letterLines(s.deadLetters))
      break
    case 'unknown':
      lines.push(
        '  not in the store nor in the dead-letter queue: never consumed, logged longer ago than',
        '  EVENT_LOG_RETENTION, or its dead letter was removed',
      )
      if (s.lastSeen !== undefined) {
        lines.push(`  last seen: ${s.lastSeen.type} ${s.lastSeen.table}/${s.lastSeen.key}, ${at(s.lastSeen.position)}`)
      }
      break
  }
  if (s.status !== 'dead-lettered' && s.deadLetters !== undefined) {
    lines.push('  the dead-letter queue also holds:', ...letterLines(s.deadLetters))
  }
  if (s.deadLettered !== undefined) {
    const d = s.deadLettered
    lines.push(
      `  its row may not be current: ${d.count} dead letter(s) of its key it does not reflect, newest ${d.newestEventId ?? '(no eventId)'} at ${d.partition}:${d.offset}`,
    )
  }
  if (s.deadLetterTotal !== undefined && s.deadLetters !== undefined) {
    lines.push(
      `  (the newest ${s.deadLetters.length} of ${s.deadLetterTotal} entries; \`pipeline dlq show\` pages through them)`,
    )
  }
  return `${lines.join('\n')}\n`
}

export async function eventCommand(argv: readonly string[], config: Config): Promise<number> {
  const json = argv.includes('--json')
  const rest = argv.filter(a => a !== '--json')
  const [eventId] = rest
  if (rest.length !== 1 || eventId === undefined || eventId.startsWith('-')) {
    process.stderr.write(eventUsage)
    return 2
  }
  if (eventId.length > limits.idLength || eventId.trim() !== eventId || eventId === '') {
    process.stderr.write(`pipeline: an eventId is 1 to ${limits.idLength} characters without surrounding blanks\n`)
    return 2
  }
  const store = await createStore(config.database, { timeoutMs: config.dbTimeoutMs })
  const dlq = dlqFromConfig(config)
  try {
    // The schema is brought up to date as every role does at start: event_log and its indexes are needed.
    await store.migrate()
    const status = await eventStatus(eventId, {
      store,
      deadLetters: deadLettersOf(dlq),
      keySummaries: questions => dlq.keySummaries(questions),
    })
    process.stdout.write(json ? `${JSON.stringify(status, null, 2)}\n` : describeStatus(status))
    return status.status === 'unknown' ? 1 : 0
  } finally {
    await Promise.all([store.close(), dlq.close()])
  }
}
