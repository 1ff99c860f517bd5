// The attack of issue 11, item 1, replayed against the real producer and a real Redis: a flood of refused
// requests, small ones of a thousand bad events and bodies of 1 MiB, must grow the DLQ by no more than its caps,
// one entry per request, each within the entry cap and carrying the digest of the body it stands for.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { it } from 'node:test'
import type { DeadLetter } from '../../src/dlq/index.ts'
import { startPipeline } from '../helpers/pipeline.ts'
import { kafkaTopic, redisPrefix } from '../helpers/resources.ts'

const caps = {
  perSecond: 10,
  burst: 20,
  maxEntries: 15,
  maxBytes: 128 * 1024,
  entryMaxBytes: 16 * 1024,
  bodyLimit: 1024 * 1024,
}
const smallRequests = 200
const largeRequests = 20
const concurrency = 8

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

/** An event whose padding is all escaped quotes, exactly `bytes` long: JSON escaping doubles it in an entry. */
function largeBody(n: number, bytes: number): string {
  const head = `{"eventId":"flood-${n}","type":"UserCreated","pad":"`
  const tail = '"}'
  const room = bytes - head.length - tail.length
  return head + '\\"'.repeat(Math.floor(room / 2)) + 'x'.repeat(room % 2) + tail
}

it('a flood of refused requests grows the DLQ by at most its caps, one bounded entry per request', async t => {
  const { redis, prefix } = redisPrefix(t)
  const key = `${prefix}dlq`
  const topic = await kafkaTopic(t, 1)
  const pipeline = await startPipeline(t, 'producer', {
    KAFKA_TOPIC: topic,
    DLQ_KEY: key,
    PRODUCE_BODY_LIMIT: String(caps.bodyLimit),
    PRODUCER_DLQ_PER_SECOND: String(caps.perSecond),
    PRODUCER_DLQ_BURST: String(caps.burst),
    PRODUCER_DLQ_MAX_ENTRIES: String(caps.maxEntries),
    PRODUCER_DLQ_MAX_BYTES: String(caps.maxBytes),
    DLQ_ENTRY_MAX_BYTES: String(caps.entryMaxBytes),
  })
  const memoryBefore = (await redis.memory('USAGE', key)) ?? 0
  const logsBefore = pipeline.logs.length

  const small = JSON.stringify(Array.from({ length: 1000 }, (_, i) => i))
  const bodies = [
    ...Array.from({ length: largeRequests }, (_, n) => largeBody(n, caps.bodyLimit)),
    ...Array.from({ length: smallRequests }, () => small),
  ]
  const bodyOf = new Map(bodies.map(body => [sha256(body), body]))
  const statuses: number[] = []
  const started = Date.now()
  let next = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++] as string
        const res = await fetch(`${pipeline.urls.producer}/produce`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(30_000),
        })
        await res.arrayBuffer()
        statuses.push(res.status)
      }
    }),
  )
  const floodMs = Date.now() - started
  const requests = bodies.length
  // The answers are the seed's: a single bad event is a 400, a batch is answered entry by entry.
  assert.equal(statuses.filter(s => s === 400).length, largeRequests)
  assert.equal(statuses.filter(s => s === 200).length, smallRequests)

  const items = await redis.lrange(key, 0, -1)
  const bytes = items.reduce((sum, item) => sum + Buffer.byteLength(item), 0)
  const memory = ((await redis.memory('USAGE', key)) ?? 0) - memoryBefore
  t.diagnostic(
    `${requests} requests in ${floodMs} ms: ${items.length} entries, ${bytes} bytes of entries, MEMORY USAGE +${memory}`,
  )
  assert.ok(items.length > 0, 'refused requests are still dead-lettered')
  assert.ok(items.length <= caps.maxEntries, `${items.length} entries > ${caps.maxEntries}`)
  assert.ok(bytes <= caps.maxBytes, `${bytes} bytes of entries > ${caps.maxBytes}`)
  // Redis's own measure of the list: the entries rounded up to jemalloc's size classes (at most 25% apart) plus
  // the list's bookkeeping (a quicklist node and listpack headers, well under 1 KiB an entry).
  const memoryBound = caps.maxBytes * 1.25 + items.length * 1024
  assert.ok(memory <= memoryBound, `MEMORY USAGE grew by ${memory} bytes, more than ${memoryBound}`)
  // The rate admits at most the burst plus the rate over the time the flood took.
  const admitted = caps.burst + Math.ceil((caps.perSecond * floodMs) / 1000)

  for (const item of items) {
    assert.ok(Buffer.byteLength(item) <= caps.entryMaxBytes, `an entry of ${Buffer.byteLength(item)} bytes`)
    const letter = JSON.parse(item) as DeadLetter
    assert.equal(letter.source, 'producer')
    assert.match(letter.error.message, /^(1 of 1|1000 of 1000) events refused: /)
    const body = bodyOf.get(letter.payloadSha256 ?? sha256(letter.payload ?? ''))
    assert.ok(body !== undefined, 'the entry names the body it stands for by its SHA-256')
    assert.ok(body.startsWith(letter.payload ?? '\0'), 'the payload is the body or a prefix of it')
    if (letter.payloadTruncated) assert.equal(letter.payloadBytes, Buffer.byteLength(body))
  }

  const metrics = await (await fetch(`${pipeline.urls.producer}/metrics`)).text()
  const dropped = (reason: string) =>
    Number(new RegExp(`dlq_dropped_total\\{reason="${reason}",role="producer"\\} (\\d+)`).exec(metrics)?.[1] ?? 0)
  const byReason = Object.fromEntries(['rate', 'entries', 'bytes', 'unavailable'].map(r => [r, dropped(r)]))
  t.diagnostic(`dropped: ${JSON.stringify(byReason)}`)
  assert.equal(byReason['unavailable'], 0)
  assert.equal(
    byReason['rate']! + byReason['entries']! + byReason['bytes']!,
    requests - items.length,
    'every request not in the list is counted as dropped, once',
  )
  assert.ok(byReason['rate']! >= requests - admitted, `the rate let more than ${admitted} through`)
  assert.ok(byReason['entries']! + byReason['bytes']! > 0, 'the caps refused what the rate let through')

  // Log lines: the producer's own lines per request (its rejection, its HTTP lines) and one per interval for the
  // drops, never one per refused event.
  const lines = pipeline.logs.slice(logsBefore)
  const rejected = lines.filter(l => l['msg'] === 'event rejected')
  assert.equal(rejected.length, requests, 'one rejection line per request')
  const dropLines = lines.filter(l => String(l['msg']).startsWith('refused requests not dead-lettered'))
  assert.ok(dropLines.length >= 1 && dropLines.length <= 2, `${dropLines.length} drop lines`)
  const perRequest = lines.length / requests
  t.diagnostic(`${lines.length} log lines, ${perRequest.toFixed(2)} per request`)
  assert.ok(perRequest <= 4, `${perRequest} log lines per request`)
  for (const line of lines) assert.ok(JSON.stringify(line).length <= 8 * 1024, 'a log line echoes no whole body')
})
