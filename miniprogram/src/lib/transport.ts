// How a request reaches the BFF: wx.request to its https domain, or wx.cloud.callContainer to
// WeChat Cloud Run (config.container(), chosen by the build). Everything above speaks paths and
// answers; nothing else calls wx.request. In container mode the platform adds the user's
// X-WX-OPENID (and X-WX-SOURCE, X-WX-APPID) itself: the BFF trusts those headers, no token.
import { baseUrl, container } from '../config'
import { GqlError } from './errors'

export interface Call {
  path: string
  method: 'GET' | 'POST'
  header?: Record<string, string>
  data?: string | Record<string, unknown> | ArrayBuffer
  /** 'arraybuffer' for a file's bytes. */
  responseType?: 'text' | 'arraybuffer'
}

export interface Answer {
  statusCode: number
  data: unknown
}

/** No answer at all (no network, a timeout): `timedOut` tells whether a retry may help. */
export class NetworkError extends GqlError {
  readonly timedOut: boolean

  constructor(errMsg: string) {
    super('NETWORK', '')
    this.timedOut = /time ?out|超时/i.test(errMsg)
  }
}

const TIMEOUT_MS = 10000

export function send(call: Call): Promise<Answer> {
  const target = container()
  return new Promise((resolve, reject) => {
    const success = (res: { statusCode: number; data: unknown }) => resolve({ statusCode: res.statusCode, data: res.data })
    const fail = (err: { errMsg?: string }) => reject(new NetworkError((err && err.errMsg) || ''))
    const binary = call.responseType === 'arraybuffer'
    if (target) {
      wx.cloud.callContainer({
        config: { env: target.env },
        path: call.path,
        method: call.method,
        header: { ...call.header, 'X-WX-SERVICE': target.service },
        data: call.data,
        // Bytes stay bytes: the SDK parses JSON only when asked to.
        dataType: binary ? 'text' : 'json',
        responseType: binary ? 'arraybuffer' : 'text',
        success,
        fail,
      })
    } else {
      wx.request({
        url: baseUrl() + call.path,
        method: call.method,
        header: call.header,
        data: call.data,
        timeout: TIMEOUT_MS,
        dataType: binary ? '其他' : 'json',
        responseType: binary ? 'arraybuffer' : 'text',
        success,
        fail,
      })
    }
  })
}
