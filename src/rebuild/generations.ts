// The storage half of a rebuild, as the store builds it (src/store/generations.ts): a shadow generation of the
// projection's tables beside the live ones, filled by the same Store code, compared with the live tables, swapped
// in, rolled back. The rebuild takes a Generations as an argument and names only these types.
import type { Store } from '../store/index.ts'

export interface GenerationInfo {
  readonly name: string
  readonly role: 'live' | 'shadow' | 'old'
  readonly createdAt?: string
}

export interface RowDiff {
  readonly key: string
  readonly live: Record<string, unknown> | null
  readonly shadow: Record<string, unknown> | null
}

export interface TableCheck {
  readonly table: string
  readonly liveRows: number
  readonly shadowRows: number
  readonly liveChecksum: string
  readonly shadowChecksum: string
  readonly differing: readonly RowDiff[]
}

export interface Generations {
  create(name: string): Promise<void>
  open(name: string): Promise<Store>
  compare(name: string, options: { limit: number }): Promise<TableCheck[]>
  swap(name: string): Promise<void>
  rollback(name: string): Promise<void>
  dropOld(name: string): Promise<void>
  drop(name: string): Promise<void>
  list(): Promise<GenerationInfo[]>
  close(): Promise<void>
}
