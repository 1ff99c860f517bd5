// A redrive run's hold on its job, as the run itself can know it. Redis expires the lease key `leaseMs` after the
// last renewal it applied; the run cannot see that moment, only when it sent the renewal, which came before. So
// the run counts its lease valid until (send time of its last successful renewal) + leaseMs − marginMs, on the
// monotonic clock, and starts a Kafka send only when the send's whole deadline falls inside that. A run cut off
// from Redis therefore stops sending before its lease can expire, and a newer run, which takes the job only after
// that, finds in Kafka everything the older one will ever have sent.

/** A run stopped because it can no longer prove it holds its job: nothing more is sent or written by it. */
export class LeaseLost extends Error {
  constructor(id: string, reason: string) {
    super(
      `redrive ${id} lost its lease (${reason}); this run stopped before its next send, and the run that holds ` +
        `the job now (or dlq redrive --resume ${id}) completes it`,
    )
    this.name = 'LeaseLost'
  }
}

export interface LeaseTimings {
  /** How long the lease lasts without renewal. */
  readonly leaseMs: number
  /** Taken off the lease's end: the abandon of a send that overran, bytes already on their way, clock rates. */
  readonly marginMs: number
  /** How often the run renews in the background. */
  readonly renewEveryMs: number
  /** The longest a send may take: its deadline, after which the run shuts its producer. */
  readonly sendMs: number
}

/**
 * Lease timings for sends bounded by `kafkaTimeoutMs`. The default lease leaves two seconds beyond one send and
 * the margin, so the background renewals (every quarter) keep the window open between sends; a lease that could
 * not cover a single send is refused.
 */
export function leaseTimings(kafkaTimeoutMs: number, leaseMs?: number, marginMs = 1000): LeaseTimings {
  const lease = leaseMs ?? Math.max(6000, kafkaTimeoutMs + marginMs + 2000)
  if (lease <= kafkaTimeoutMs + marginMs) {
    throw new Error(
      `a redrive lease of ${lease} ms cannot cover a ${kafkaTimeoutMs} ms Kafka send and its ${marginMs} ms margin`,
    )
  }
  return Object.freeze({ leaseMs: lease, marginMs, renewEveryMs: lease / 4, sendMs: kafkaTimeoutMs })
}

/** Until when the run may count on its lease: moved on by each renewal, closed for good once the lease is lost. */
export class LeaseWindow {
  readonly #validityMs: number
  #validUntil: number
  #lost: string | undefined

  constructor(timings: LeaseTimings, acquiredAt: number) {
    this.#validityMs = timings.leaseMs - timings.marginMs
    this.#validUntil = acquiredAt + this.#validityMs
  }

  /** A renewal sent at `sentAt` was applied: Redis counts the lease from a moment no earlier than that. */
  renewed(sentAt: number): void {
    if (this.#lost === undefined) this.#validUntil = Math.max(this.#validUntil, sentAt + this.#validityMs)
  }

  lose(reason: string): void {
    this.#lost ??= reason
  }

  get lost(): string | undefined {
    return this.#lost
  }

  get validUntil(): number {
    return this.#lost === undefined ? this.#validUntil : Number.NEGATIVE_INFINITY
  }

  /** Whether something that is over by `deadline` ends while the run surely still holds the lease. */
  covers(deadline: number): boolean {
    return deadline <= this.validUntil
  }
}

export interface LeaseHolder {
  /**
   * Makes sure the lease covers a step of `ms` starting now, renewing first when it does not; resolves the step's
   * deadline (monotonic clock). Throws LeaseLost when it cannot.
   */
  ensure(ms: number): Promise<number>
  /** Throws LeaseLost once a renewal or a fenced write was refused. */
  check(): void
  /** A fenced write was refused: another run holds the job. */
  lose(reason: string): void
  stop(): void
}

/**
 * Keeps `window` open by calling `renew` every `renewEveryMs` (and in `ensure` when needed). A renewal that fails
 * (Redis unreachable, timed out) leaves the window to close by itself; one refused (the lease is someone else's)
 * closes it at once.
 */
export function holdLease(
  id: string,
  timings: LeaseTimings,
  acquiredAt: number,
  renew: () => Promise<boolean>,
  now: () => number = () => performance.now(),
): LeaseHolder {
  const window = new LeaseWindow(timings, acquiredAt)
  let lastFailure: string | undefined
  const renewOnce = async () => {
    const sentAt = now()
    try {
      if (await renew()) window.renewed(sentAt)
      else window.lose('another run holds it now')
    } catch (error) {
      lastFailure = (error as Error).message
    }
  }
  const heartbeat = setInterval(() => void renewOnce(), timings.renewEveryMs)
  const check = () => {
    if (window.lost !== undefined) throw new LeaseLost(id, window.lost)
  }
  return {
    async ensure(ms) {
      check()
      if (window.covers(now() + ms)) return now() + ms
      await renewOnce()
      check()
      const deadline = now() + ms
      if (window.covers(deadline)) return deadline
      throw new LeaseLost(id, `it could not be renewed in time${lastFailure ? `: ${lastFailure}` : ''}`)
    },
    check,
    lose: reason => window.lose(reason),
    stop: () => clearInterval(heartbeat),
  }
}
