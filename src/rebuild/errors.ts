// What a rebuild command refuses, by kind: the CLI prints the message and exits 2 (usage) or 1; the admin API
// answers 400 (usage), 404 (absent) or 409 (busy, state, refused).

export type RebuildErrorKind =
  /** Another rebuild of the store is under way, or another process works on this one now. */
  | 'busy'
  /** The rebuild is in a state the command cannot run in. */
  | 'state'
  /** The topic or the projection does not allow it (records deleted, shadow behind the live tables). */
  | 'refused'
  /** There is no rebuild of this store. */
  | 'absent'
  /** The request itself is wrong (a timestamp that is not one). */
  | 'usage'

export class RebuildError extends Error {
  readonly kind: RebuildErrorKind

  constructor(kind: RebuildErrorKind, message: string) {
    super(message)
    this.name = 'RebuildError'
    this.kind = kind
  }
}
