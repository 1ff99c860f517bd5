// Turns the message stream of @platformatic/kafka into batches: up to `max` records, or whatever arrived
// within `waitMs` of the first one. The stream is paused while a full batch waits to be taken, so memory stays
// bounded (backpressure) while heartbeats go on in the client.
import type { Message, MessagesStream } from '@platformatic/kafka'

// Keys and values are typed as Buffer, but a record with a null key or value arrives with undefined/null there:
// the consumer treats both as possibly absent.
export type RawMessage = Message<Buffer, Buffer, Buffer, Buffer>
export type RawStream = MessagesStream<Buffer, Buffer, Buffer, Buffer>

export class BatchReader {
  readonly #stream: RawStream
  readonly #max: number
  #buffer: RawMessage[] = []
  #wake: (() => void) | undefined
  #error: Error | undefined
  #ended = false

  constructor(stream: RawStream, max: number) {
    this.#stream = stream
    this.#max = max
    stream.on('data', (message: RawMessage) => {
      this.#buffer.push(message)
      if (this.#buffer.length >= this.#max) stream.pause()
      this.#notify()
    })
    stream.on('error', (error: Error) => {
      this.#error = error
      this.#notify()
    })
    stream.on('close', () => {
      this.#ended = true
      this.#notify()
    })
  }

  /** Why the stream stopped, if it did: the caller then opens a new one. */
  get failure(): Error | undefined {
    return this.#error ?? (this.#ended ? new Error('message stream closed') : undefined)
  }

  #notify(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }

  #waitForData(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise(resolve => {
      const done = () => {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        this.#wake = undefined
        resolve()
      }
      const timer = setTimeout(done, ms)
      signal.addEventListener('abort', done, { once: true })
      this.#wake = done
    })
  }

  /**
   * Resolves with the next batch (possibly empty when `idleMs` passed with nothing, the signal aborted or the
   * stream failed). Records keep their order per partition.
   */
  async next(waitMs: number, idleMs: number, signal: AbortSignal): Promise<RawMessage[]> {
    while (this.#buffer.length === 0) {
      if (signal.aborted || this.failure) return []
      await this.#waitForData(idleMs, signal)
      if (this.#buffer.length === 0) return []
    }
    const deadline = Date.now() + waitMs
    while (this.#buffer.length < this.#max && !signal.aborted && !this.failure) {
      const left = deadline - Date.now()
      if (left <= 0) break
      await this.#waitForData(left, signal)
    }
    const batch = this.#buffer.length <= this.#max ? this.#buffer : this.#buffer.slice(0, this.#max)
    this.#buffer = this.#buffer.length <= this.#max ? [] : this.#buffer.slice(this.#max)
    if (this.#stream.isPaused() && this.#buffer.length < this.#max) this.#stream.resume()
    return batch
  }

  async close(): Promise<void> {
    if (!this.#stream.closed && !this.#stream.destroyed) await this.#stream.close().catch(() => {})
  }
}
