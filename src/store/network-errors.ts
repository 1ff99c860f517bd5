// Socket-level failures that every networked engine reports the same way: the database cannot be reached, so
// the batch is retried, never dead-lettered.
export const socketErrorCodes: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
])

/** The socket error code of `error`, also inside the AggregateError Node raises when every address refuses. */
export function socketErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string' && socketErrorCodes.has(code)) return code
  const inner = (error as { errors?: unknown }).errors
  return Array.isArray(inner) ? inner.map(socketErrorCode).find(c => c !== undefined) : undefined
}
