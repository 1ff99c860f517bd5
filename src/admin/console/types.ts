// The shapes the console renders, taken from the admin routes' TypeBox schemas. Imported as types only: nothing
// of the server lands in the browser's bundle.
import type { Static } from 'typebox'
import type { EventStatusBody } from '../../event-status/index.ts'
import type { OverviewSchema } from '../overview.ts'
import type { PauseBody, PauseStateResponse, ResumeBody } from '../pause-routes.ts'
import type { RebuildStatus as RebuildStatusSchema, StartBody, VerifyResponse } from '../rebuild-routes.ts'
import type {
  AuditResponse,
  DeadLetter as DeadLetterSchema,
  Filter as FilterSchema,
  ListResponse,
  PurgeResponse,
  RedriveAccepted,
  RedriveBody,
  RedriveDryRunResponse,
  RedriveStatus,
  ShowResponse,
  StatsResponse,
} from '../schemas.ts'
import type { SeriesResponse } from '../series-routes.ts'
import type { ShownState } from './rebuild-text.ts'

export type Overview = Static<typeof OverviewSchema>
export type PartitionRow = NonNullable<Overview['partitions']>[number]
export type Stats = Static<typeof StatsResponse>
export type DeadLetter = Static<typeof DeadLetterSchema>
export type Filter = Static<typeof FilterSchema>
export type DeadLetterPage = Static<typeof ListResponse>
export type EventDeadLetters = Static<typeof ShowResponse>
export type RedriveRequest = Static<typeof RedriveBody>
export type RedrivePreview = Static<typeof RedriveDryRunResponse>
export type RedriveStarted = Static<typeof RedriveAccepted>
export type RedriveJob = Static<typeof RedriveStatus>
export type PurgeResult = Static<typeof PurgeResponse>
export type Audit = Static<typeof AuditResponse>
export type AuditEntry = Audit['entries'][number]
export type EventStatus = Static<typeof EventStatusBody>
export type Position = NonNullable<EventStatus['position']>
export type PauseState = Static<typeof PauseStateResponse>
export type PauseRequest = Static<typeof PauseBody>
export type ResumeRequest = Static<typeof ResumeBody>
export type Series = Static<typeof SeriesResponse>
/** The schema's state is a union built from a list, which TypeBox types as never: the
 * states as the rebuild view lists them here (rebuild-text.ts). */
export type RebuildStatus = Omit<Static<typeof RebuildStatusSchema>, 'state'> & { state: ShownState }
export type RebuildVerify = Static<typeof VerifyResponse>
export type RebuildStart = Static<typeof StartBody>
