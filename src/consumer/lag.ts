// consumer_lag from the client's lag reports: one series per partition this member consumes. The client reports
// -1 for a partition the member does not own (any more): its series is removed, so a partition handed to another
// member after a rebalance does not keep showing this member's last figure next to the new owner's.
import type { Gauge } from 'prom-client'

export type LagReport = ReadonlyMap<string, readonly bigint[]>

export function recordLag(gauge: Gauge<'topic' | 'partition'>, report: LagReport): void {
  for (const [topic, partitions] of report) {
    partitions.forEach((value, partition) => {
      const labels = { topic, partition: String(partition) }
      if (value >= 0n) gauge.set(labels, Number(value))
      else if (value === -1n) gauge.remove(labels)
    })
  }
}
