// java: the produce ceiling. Kafka's own Java producer benchmark (bench/java-producer.ts) writes records of our
// events' mean size, unthrottled, acks=all, idempotent, linger.ms=5, to a fresh topic with the partitions of the
// one POST /produce writes to, on the same broker; POST /produce of 100-event arrays is judged against it.
import type { Context } from '../context.ts'
import { meanRecordSize, runProducerPerformance } from '../java-producer.ts'
import { brokers } from '../kafka.ts'
import { kafkaBroker, sampleCpu } from '../process-cpu.ts'
import type { MeasurementDefinition } from '../report.ts'

export const measurements = (): MeasurementDefinition[] => [
  {
    id: 'java.producer',
    label: 'Kafka Java producer (ProducerPerformance)',
    unit: 'events/s',
    note: 'kafka-tools ProducerPerformance of the broker version: records of the events mean size (key + value + header), acks=all, enable.idempotence=true, linger.ms=5',
  },
]

export async function run(ctx: Context): Promise<void> {
  const recordSize = meanRecordSize(ctx.workload.records)
  const records = ctx.settings.javaRecords
  for (let round = 1; round <= ctx.settings.runs; round++) {
    const topic = await ctx.freshTopic()
    ctx.status(`Java producer ${round}: ${records.toLocaleString()} records of ${recordSize} bytes`)
    const broker = sampleCpu(kafkaBroker)
    const r = await runProducerPerformance({
      topic,
      brokers,
      records,
      recordSize,
      timeoutMs: 300_000,
      log: line => ctx.say(line),
    })
    // Includes the JVM's start-up, when the broker is idle; other work on the broker is counted too.
    const brokerCpuUsPerEvent = (broker.stop() * 1000) / records
    ctx.say(
      `Java producer ${round}: ${records.toLocaleString()} records of ${recordSize} bytes, ` +
        `${Math.round(r.recordsPerSecond).toLocaleString()} records/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, ` +
        `broker CPU ${brokerCpuUsPerEvent.toFixed(1)} µs/record`,
    )
    ctx.results.add('java.producer', r.recordsPerSecond, {
      p50Ms: r.p50Ms,
      p99Ms: r.p99Ms,
      avgMs: r.avgMs,
      recordBytes: recordSize,
      brokerCpuUsPerEvent,
    })
  }
}
