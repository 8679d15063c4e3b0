// The GraphQL client the pages use: bearer token, Chinese errors, and a silent
// re-login when the session has expired (wx.login → wxLogin, then the request once more).
// Over callContainer there is no token: the platform vouches for the user on each request.
import { container } from '../config'
import { GqlError } from './errors'
import { firstError, GqlBody, post } from './http'
import { getToken, login } from './session'

export interface Result<T> {
  data: T
  /** The BFF served kept data because the ERP failed. */
  stale: boolean
}

export interface Options {
  /** Top-level fields whose failure must not fail the page (e.g. the status banner). */
  optional?: string[]
}

function fatal(body: GqlBody<unknown>, optional: string[]): GqlError | null {
  const errors = (body.errors || []).filter((e) => !(body.data && e.path && optional.indexOf(String(e.path[0])) >= 0))
  return firstError({ errors })
}

export async function request<T>(
  query: string,
  variables: Record<string, unknown> = {},
  options: Options = {},
): Promise<Result<T>> {
  const optional = options.optional || []
  const vouched = container() !== null
  let token = vouched ? '' : getToken()
  if (!token && !vouched) token = (await login()).token
  let body = await post<T>(query, variables, token)
  let err = fatal(body, optional)
  if (err && err.code === 'UNAUTHENTICATED' && !vouched) {
    // Only once: a second UNAUTHENTICATED right after a fresh login is a real failure.
    token = (await login()).token
    body = await post<T>(query, variables, token)
    err = fatal(body, optional)
  }
  if (err) throw err
  if (!body.data) throw new GqlError('INTERNAL', '')
  return { data: body.data, stale: Boolean(body.extensions && body.extensions.stale) }
}
