// One POST of a GraphQL document (lib/transport: wx.request or callContainer). No auth logic
// here: see gql.ts. Trial and release builds send only the registered document's id (the BFF
// refuses other documents in production); the developer build sends the text, for a local
// `bff demo`. A query (never a mutation) that timed out is sent once more: reads are idempotent.
// Any request the BFF refused as OVERLOADED is sent once more after its retryAfter: admission
// refuses at the door, before anything has run, so even a mutation did nothing the first time.
import { envVersion } from '../config'
import { DOCUMENT_IDS } from '../graphql/ids'
import { GqlError } from './errors'
import { NetworkError, send } from './transport'

export interface GqlErrorBody {
  message: string
  path?: (string | number)[]
  extensions?: { code?: string; requestId?: string; retryAfter?: number }
}

export interface GqlBody<T> {
  data?: T | null
  errors?: GqlErrorBody[]
  extensions?: { stale?: boolean; [key: string]: unknown }
}

export function requestBody(query: string, variables: Record<string, unknown>): Record<string, unknown> {
  const name = (/^\s*(?:query|mutation)\s+(\w+)/.exec(query) || [])[1]
  const id = envVersion() !== 'develop' && name ? DOCUMENT_IDS[name] : undefined
  return id ? { documentId: id, variables } : { query, variables }
}

async function postOnce<T>(query: string, variables: Record<string, unknown>, token?: string): Promise<GqlBody<T>> {
  const header: Record<string, string> = { 'content-type': 'application/json' }
  if (token) header.Authorization = `Bearer ${token}`
  const res = await send({ path: '/graphql', method: 'POST', header, data: requestBody(query, variables) })
  // The BFF answers GraphQL errors with a JSON body even on 4xx/5xx: read it whenever present.
  const body = res.data as GqlBody<T> | string
  if (body && typeof body === 'object' && ('data' in body || 'errors' in body)) return body
  throw new GqlError(res.statusCode >= 500 ? 'INTERNAL' : 'NETWORK', '')
}

/** Longest OVERLOADED wait the client sits out by itself; a longer one is shown (with 重试). */
const OVERLOADED_WAIT_MAX_S = 5

async function postTimedOutOnce<T>(query: string, variables: Record<string, unknown>, token?: string): Promise<GqlBody<T>> {
  try {
    return await postOnce<T>(query, variables, token)
  } catch (e) {
    if (e instanceof NetworkError && e.timedOut && /^\s*query\b/.test(query)) return postOnce<T>(query, variables, token)
    throw e
  }
}

/** Seconds to wait before sending once more, when the BFF shed the request (else null). */
export function overloadedWait(body: GqlBody<unknown>): number | null {
  const ext = (body.errors && body.errors[0] && body.errors[0].extensions) || {}
  const seconds = Number(ext.retryAfter)
  return ext.code === 'OVERLOADED' && seconds > 0 && seconds <= OVERLOADED_WAIT_MAX_S ? seconds : null
}

export async function post<T>(query: string, variables: Record<string, unknown>, token?: string): Promise<GqlBody<T>> {
  const body = await postTimedOutOnce<T>(query, variables, token)
  const wait = overloadedWait(body)
  if (wait === null) return body
  await new Promise((resolve) => setTimeout(resolve, wait * 1000))
  return postTimedOutOnce<T>(query, variables, token)
}

export function firstError(body: GqlBody<unknown>): GqlError | null {
  const e = body.errors && body.errors[0]
  if (!e) return null
  const ext = e.extensions || {}
  return new GqlError(ext.code || 'INTERNAL', e.message, ext.requestId)
}
