// Every document the mini program sends, by operation name: the validation test walks this list.
import * as auth from './auth'
import * as messages from './messages'
import * as monitoring from './monitoring'
import * as orders from './orders'

export const ALL_DOCUMENTS: Record<string, string> = { ...auth, ...orders, ...messages, ...monitoring }
