// Rebuilding the projection from the log with no downtime: the operations the CLI and the admin API share.
export { type BadRecord, BadRecordSink, type BadRecords, badRecordsKept } from './bad-records.ts'
export { RebuildError, type RebuildErrorKind } from './errors.ts'
export { lazyGenerations, type RebuildsFromConfig, rebuildsFromConfig } from './from-config.ts'
export { behindLive, durationText, type PartitionProgress, type Progress, progressOf } from './progress.ts'
export {
  type FillEnd,
  type RebuildOptions,
  Rebuilds,
  type VerifyReport,
  verifyLimitMax,
} from './rebuild.ts'
export { retentionRefusal, retentionWarning } from './retention.ts'
export { type RebuildCommand, type RebuildState, rebuildStates, type ShownState } from './state.ts'
export type { TableSummary, VerifySummary } from './state-store.ts'
export type { RebuildStatus } from './status.ts'
export { storeIdOf, storeLocation } from './store-id.ts'
