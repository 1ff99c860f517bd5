// Bearer tokens: an optional one per door (PRODUCE_TOKEN, READ_TOKEN) and the admin token for /ready's details.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { onRequestAsyncHookHandler } from 'fastify'
import { HttpError } from './errors.ts'

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest()

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive, RFC 6750), else undefined. */
function bearerOf(header: string | undefined): string | undefined {
  if (header === undefined || header.length < 7 || header.slice(0, 7).toLowerCase() !== 'bearer ') return undefined
  const token = header.slice(7).trim()
  return token === '' ? undefined : token
}

/**
 * Whether an Authorization header carries `token`. Both sides are compared as SHA-256 digests with
 * timingSafeEqual, so neither the time taken nor an early exit on a length mismatch tells how much of a guess was
 * right. Without a token nothing matches.
 */
export function bearerMatcher(token: string | undefined): (authorization: string | undefined) => boolean {
  if (token === undefined) return () => false
  const expected = digest(token)
  return authorization => {
    const presented = bearerOf(authorization)
    return presented !== undefined && timingSafeEqual(digest(presented), expected)
  }
}

/**
 * An onRequest hook that answers 401 unless the request carries `token` (named by `variable` in the answer). It
 * runs before the body is read, so a client without the token cannot make the server buffer or parse anything.
 */
export function requireBearer(token: string, variable: string): onRequestAsyncHookHandler {
  const matches = bearerMatcher(token)
  return async request => {
    if (!matches(request.headers.authorization)) {
      throw new HttpError(401, 'UNAUTHORIZED', `send Authorization: Bearer <${variable}>`, {
        'www-authenticate': 'Bearer',
      })
    }
  }
}
