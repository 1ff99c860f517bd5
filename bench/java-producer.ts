// Kafka's own producer benchmark, org.apache.kafka.tools.ProducerPerformance from the kafka-tools jar of the
// broker's version (dev/kafka/tools.ts), as the ceiling of what a producer can write to this broker: the Java
// client, tuned by Kafka's developers, with nothing in front of it (no HTTP, no validation).
import { spawn } from 'node:child_process'
import { toolsClassPath } from '../dev/kafka/tools.ts'
import type { WorkloadRecord } from './workload.ts'

/** The header the pipeline's producer gives every record (src/producer/publisher.ts). */
const eventIdHeader = 'eventId'

/**
 * The mean size of one record as the pipeline's producer writes it: key, value (the canonical JSON) and the
 * eventId header, in bytes. ProducerPerformance sends records without key or header, so its record size is set
 * to this sum to carry the same bytes per record.
 */
export function meanRecordSize(records: readonly WorkloadRecord[]): number {
  if (records.length === 0) throw new Error('no records to size')
  let bytes = 0
  for (const r of records) {
    const eventId = String((JSON.parse(r.value) as { eventId?: unknown }).eventId ?? '')
    bytes += Buffer.byteLength(r.key) + Buffer.byteLength(r.value) + eventIdHeader.length + Buffer.byteLength(eventId)
  }
  return Math.round(bytes / records.length)
}

export interface ProducerPerformanceResult {
  readonly records: number
  readonly recordsPerSecond: number
  readonly mbPerSecond: number
  readonly avgMs: number
  readonly maxMs: number
  readonly p50Ms: number
  readonly p95Ms: number
  readonly p99Ms: number
  readonly p999Ms: number
}

// The summary ProducerPerformance prints last (the periodic lines before it have no percentiles):
// "200000 records sent, 65509.3 records/sec (17.49 MB/sec), 450.03 ms avg latency, 693.00 ms max latency,
//  528 ms 50th, 667 ms 95th, 683 ms 99th, 690 ms 99.9th."
const summary =
  /^(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th\.?$/m

/** The figures of ProducerPerformance's final summary line in `output`; an error when it has none. */
export function parseProducerPerformance(output: string): ProducerPerformanceResult {
  const lines = output.split('\n').filter(line => summary.test(line.trim()))
  const last = lines.at(-1)
  const m = last === undefined ? null : summary.exec(last.trim())
  if (m === null) {
    throw new Error(`ProducerPerformance printed no summary line; its output ends with: ${output.slice(-500).trim()}`)
  }
  const n = (i: number) => Number(m[i])
  return {
    records: n(1),
    recordsPerSecond: n(2),
    mbPerSecond: n(3),
    avgMs: n(4),
    maxMs: n(5),
    p50Ms: n(6),
    p95Ms: n(7),
    p99Ms: n(8),
    p999Ms: n(9),
  }
}

export interface ProducerPerformanceRun {
  readonly topic: string
  readonly brokers: readonly string[]
  readonly records: number
  readonly recordSize: number
  /** Kills the JVM after this long. */
  readonly timeoutMs: number
  readonly log: (line: string) => void
}

/**
 * The producer settings of the comparison: those of the pipeline's publisher (acks=all, idempotent) and the
 * linger the goals name. Everything else is the Java client's default (batch.size 16 KiB, no compression).
 */
export function producerProps(brokers: readonly string[]): string[] {
  return [`bootstrap.servers=${brokers.join(',')}`, 'acks=all', 'enable.idempotence=true', 'linger.ms=5']
}

/** Runs ProducerPerformance unthrottled on `topic` and returns its summary. */
export async function runProducerPerformance(run: ProducerPerformanceRun): Promise<ProducerPerformanceResult> {
  const classPath = toolsClassPath(run.log)
  const args = [
    '-Xms128m',
    '-Xmx512m',
    '-cp',
    classPath,
    'org.apache.kafka.tools.ProducerPerformance',
    '--topic',
    run.topic,
    '--num-records',
    String(run.records),
    '--record-size',
    String(run.recordSize),
    '--throughput',
    '-1',
    '--producer-props',
    ...producerProps(run.brokers),
  ]
  const child = spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'] })
  // Only the tail is kept: the summary is the last line, and the periodic lines before it are not needed.
  let output = ''
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-16_384)
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  const timer = setTimeout(() => child.kill('SIGKILL'), run.timeoutMs)
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject)
      child.on('close', resolve)
    })
    if (code !== 0) throw new Error(`ProducerPerformance exited with ${code}: ${output.slice(-500).trim()}`)
    return parseProducerPerformance(output)
  } finally {
    clearTimeout(timer)
  }
}
