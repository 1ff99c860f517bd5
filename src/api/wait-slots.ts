// Places for reads that wait on ?after=, bounded in total and per client address, so that one address cannot
// take every place and starve the others' reads. A place is taken before a read starts waiting (for the
// applied offsets, and for the log's end offsets it is checked against) and given back when it stops.

export interface WaitSlotsOptions {
  /** Most reads waiting at once in total (READ_WAITERS_MAX). */
  readonly max: number
  /** Most reads waiting at once from one address (READ_WAITERS_PER_ADDRESS). */
  readonly perAddress: number
}

export type Admission =
  | { readonly ok: true; readonly release: () => void }
  | { readonly ok: false; readonly full: 'address' | 'all'; readonly limit: number }

export class WaitSlots {
  readonly #max: number
  readonly #perAddress: number
  readonly #byAddress = new Map<string, number>()
  #taken = 0

  constructor(options: WaitSlotsOptions) {
    this.#max = options.max
    this.#perAddress = options.perAddress
  }

  /** Places taken now, in total. */
  get taken(): number {
    return this.#taken
  }

  /** Places taken now by `address`. */
  takenBy(address: string): number {
    return this.#byAddress.get(address) ?? 0
  }

  /**
   * A place for `address`, or why there is none. The address's own bound is checked first, so a client past it
   * is told it is the one to slow down (429) even when the server is full as well. `release` may be called more
   * than once; only the first call gives the place back.
   */
  acquire(address: string): Admission {
    const mine = this.takenBy(address)
    if (mine >= this.#perAddress) return { ok: false, full: 'address', limit: this.#perAddress }
    if (this.#taken >= this.#max) return { ok: false, full: 'all', limit: this.#max }
    this.#taken++
    this.#byAddress.set(address, mine + 1)
    let released = false
    return {
      ok: true,
      release: () => {
        if (released) return
        released = true
        this.#taken--
        const left = this.takenBy(address) - 1
        if (left > 0) this.#byAddress.set(address, left)
        else this.#byAddress.delete(address)
      },
    }
  }
}
