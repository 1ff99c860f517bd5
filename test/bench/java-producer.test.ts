// The produce ceiling's plumbing: ProducerPerformance's summary line is read, not its periodic lines, and its
// record size is our events' mean record size, computed from the workload.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { meanRecordSize, parseProducerPerformance, producerProps } from '../../bench/java-producer.ts'
import { generateWorkload } from '../../bench/workload.ts'

const output = `
326161 records sent, 65232.2 records/sec (17.41 MB/sec), 450.0 ms avg latency, 612.0 ms max latency.
1000000 records sent, 117403.2 records/sec (29.35 MB/sec), 212.45 ms avg latency, 693.00 ms max latency, 198 ms 50th, 401 ms 95th, 520 ms 99th, 690 ms 99.9th.
`

describe('Java producer ceiling', () => {
  it("reads ProducerPerformance's final summary", () => {
    assert.deepEqual(parseProducerPerformance(output), {
      records: 1_000_000,
      recordsPerSecond: 117_403.2,
      mbPerSecond: 29.35,
      avgMs: 212.45,
      maxMs: 693,
      p50Ms: 198,
      p95Ms: 401,
      p99Ms: 520,
      p999Ms: 690,
    })
  })

  it('refuses output without a summary, quoting its end', () => {
    assert.throws(
      () =>
        parseProducerPerformance(
          '326161 records sent, 65232.2 records/sec (17.41 MB/sec), 450.0 ms avg latency, 612.0 ms max latency.\nException in thread "main"',
        ),
      /no summary line.*Exception in thread/s,
    )
  })

  it('sizes records as key + value + eventId header of the workload, on average', () => {
    const workload = generateWorkload({ events: 2000, partitions: 3 })
    let bytes = 0
    for (const r of workload.records) {
      const { eventId } = JSON.parse(r.value) as { eventId: string }
      bytes += Buffer.from(r.key).length + Buffer.from(r.value).length + 'eventId'.length + eventId.length
    }
    const size = meanRecordSize(workload.records)
    assert.equal(size, Math.round(bytes / workload.records.length))
    assert.ok(size > 150 && size < 400, `a plausible event size: ${size}`)
    assert.throws(() => meanRecordSize([]), /no records/)
  })

  it("uses the pipeline publisher's guarantees and issue 16's linger", () => {
    assert.deepEqual(producerProps(['a:1', 'b:2']), [
      'bootstrap.servers=a:1,b:2',
      'acks=all',
      'enable.idempotence=true',
      'linger.ms=5',
    ])
  })
})
