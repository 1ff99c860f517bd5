// Offset commits of the consumer: one at a time and off the lanes' path. A lane goes on with its next batch while
// the broker acknowledges, and whatever finished meanwhile rides along in the next commit, so never two commits of
// one partition race and a slow acknowledgement costs no throughput.
//
// A failed commit is tried again after a back-off until it lands (or the committer closes). Commits are otherwise
// only asked for when a batch finishes: without the retry, a commit that failed after the last batch of a quiet
// topic (coordinator moving or loading, a stale member epoch, a timeout) left the partition uncommitted for as long
// as no new record came, its lag never reaching zero and a restart re-applying it all.
import { backoffDelay } from './retry.ts'

export interface CommitOffset {
  readonly topic: string
  readonly partition: number
  /** The offset of the next record to read: everything before it is stored or dead-lettered. */
  readonly offset: bigint
  readonly leaderEpoch: number
}

export interface CommitterOptions {
  /** The offsets that may be committed now, at most one per partition. */
  collect(): Iterable<CommitOffset>
  /** Sends them to the group coordinator (Consumer.commit). */
  send(offsets: CommitOffset[]): Promise<void>
  /** Told of each failed attempt; `failures` counts the attempts that failed in a row. */
  failed(error: unknown, failures: number): void
  /** How long to wait before the next attempt after `failures` failures in a row. */
  retryDelay?: (failures: number) => number
}

export interface Committer {
  /** Commits soon: now, or right after the commit in flight. */
  request(): void
  /** Commits what may be committed and waits until no commit is in flight (one attempt; a failure stays retried). */
  flush(): Promise<void>
  /** Stops retrying; a commit in flight still finishes. */
  close(): void
}

const keyOf = (o: CommitOffset) => `${o.topic}\u0000${o.partition}`

export function createCommitter(options: CommitterOptions): Committer {
  const retryDelay = options.retryDelay ?? (failures => backoffDelay(failures + 2))
  /** Per partition, the offset the coordinator acknowledged last. */
  const committed = new Map<string, bigint>()
  let running: Promise<void> | undefined
  let again = false
  let failures = 0
  let retry: NodeJS.Timeout | undefined
  let closed = false

  /** One attempt; answers whether it failed. */
  async function attempt(): Promise<boolean> {
    const offsets: CommitOffset[] = []
    for (const o of options.collect()) if ((committed.get(keyOf(o)) ?? -1n) < o.offset) offsets.push(o)
    if (offsets.length === 0) return false
    try {
      await options.send(offsets)
    } catch (error) {
      failures++
      options.failed(error, failures)
      return true
    }
    failures = 0
    for (const o of offsets) {
      const key = keyOf(o)
      if ((committed.get(key) ?? -1n) < o.offset) committed.set(key, o.offset)
    }
    return false
  }

  function request(): void {
    if (retry !== undefined) {
      clearTimeout(retry)
      retry = undefined
    }
    if (running !== undefined) {
      again = true
      return
    }
    running = (async () => {
      let failed = false
      do {
        again = false
        failed = await attempt()
      } while (again && !failed)
      return failed
    })().then(
      failed => {
        running = undefined
        // A request that came in during a failed attempt is served by the retry, after the back-off.
        if (failed && !closed) {
          retry = setTimeout(request, retryDelay(failures))
          retry.unref()
        }
      },
      () => {
        running = undefined
      },
    )
  }

  return {
    request,
    async flush(): Promise<void> {
      request()
      while (running !== undefined) await running
    },
    close(): void {
      closed = true
      if (retry !== undefined) clearTimeout(retry)
      retry = undefined
    },
  }
}
