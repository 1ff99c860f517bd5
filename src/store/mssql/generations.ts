// SQL Server generations (placeholder while the statements are written): every operation refuses clearly.
import type { Database } from '../../config/index.ts'
import type { CompareTuning } from '../generation-compare.ts'
import { GenerationError, type GenerationInfo, type Generations, type TableCheck } from '../generations.ts'
import type { Store, StoreOptions } from '../types.ts'

const refuse = () =>
  Promise.reject(new GenerationError('unsupported', 'projection generations are not supported on SQL Server yet'))

export class MssqlGenerations implements Generations {
  constructor(_database: Database, _options: StoreOptions = {}, _tuning: CompareTuning = {}) {}
  create(): Promise<void> {
    return refuse()
  }
  open(): Promise<Store> {
    return refuse()
  }
  compare(): Promise<TableCheck[]> {
    return refuse()
  }
  swap(): Promise<void> {
    return refuse()
  }
  rollback(): Promise<void> {
    return refuse()
  }
  dropOld(): Promise<void> {
    return refuse()
  }
  drop(): Promise<void> {
    return refuse()
  }
  list(): Promise<GenerationInfo[]> {
    return refuse()
  }
  async close(): Promise<void> {}
}
