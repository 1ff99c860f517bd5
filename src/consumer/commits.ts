// Offset commits of the consumer: one at a time and off the lanes' path. A lane goes on with its next batch while
// the broker acknowledges, and whatever finished meanwhile rides along in the next commit, so never two commits of
// one partition race and a slow acknowledgement costs no throughput.
//
// A finished batch asks for a commit at once (request). The consume loop also ticks the committer at every turn
// (at least once a second), which commits whatever is still behind: after a failed commit once its back-off has
// passed, and after a partition's floor became known. A refused commit (a stale member epoch during a rebalance,
// the coordinator moving, a timeout) is therefore tried again even when no further batch comes to ask for it.
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
  /** How long a tick waits before the next attempt after `failures` failures in a row. */
  retryDelay?: (failures: number) => number
  now?: () => number
}

export interface Committer {
  /** A batch finished: commits now, or right after the commit in flight, or after the back-off of a failure. */
  request(): void
  /** Commits what is behind, unless a commit is in flight or the back-off after a failure still runs. */
  tick(): void
  /** Commits what is behind, back-off or not, and waits for it (one attempt: shutdown, starting over). */
  flush(): Promise<void>
  /** Ticks do nothing from now on; a commit in flight still finishes. */
  close(): void
}

const keyOf = (o: CommitOffset) => `${o.topic}\u0000${o.partition}`

export function createCommitter(options: CommitterOptions): Committer {
  const retryDelay = options.retryDelay ?? (failures => backoffDelay(failures + 2))
  const now = options.now ?? Date.now
  /** Per partition, the offset the coordinator acknowledged last. */
  const committed = new Map<string, bigint>()
  let running: Promise<void> | undefined
  let again = false
  let failures = 0
  let retryAt = 0
  let closed = false

  function behind(): CommitOffset[] {
    const offsets: CommitOffset[] = []
    for (const o of options.collect()) if ((committed.get(keyOf(o)) ?? -1n) < o.offset) offsets.push(o)
    return offsets
  }

  /** One attempt; answers whether it failed. */
  async function attempt(): Promise<boolean> {
    const offsets = behind()
    if (offsets.length === 0) return false
    try {
      await options.send(offsets)
    } catch (error) {
      failures++
      retryAt = now() + retryDelay(failures)
      options.failed(error, failures)
      return true
    }
    failures = 0
    retryAt = 0
    // Only one commit is in flight and it sent only offsets ahead of these, so they simply replace them.
    for (const o of offsets) committed.set(keyOf(o), o.offset)
    return false
  }

  function start(): void {
    running = (async () => {
      let failed = false
      do {
        again = false
        failed = await attempt()
      } while (again && !failed)
    })().finally(() => {
      running = undefined
    })
  }

  /** Commits now, or right after the commit in flight; during the back-off after a failure, the tick after it does. */
  function request(): void {
    if (running !== undefined) again = true
    else if (now() >= retryAt) start()
  }

  return {
    request,
    tick(): void {
      // An attempt with nothing behind ends at once, without a request to the coordinator.
      if (!closed && running === undefined) request()
    },
    async flush(): Promise<void> {
      while (running !== undefined) await running
      start()
      while (running !== undefined) await running
    },
    close(): void {
      closed = true
    },
  }
}
