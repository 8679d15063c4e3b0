// The avatar from <button open-type="chooseAvatar"> is a temporary local file (http://tmp/…,
// wxfile://…): upload it to the BFF, which keeps it and answers the https URL the profile keeps.
// Over callContainer (no uploadFile there) the same multipart body is built and sent as bytes.
import { baseUrl, container } from '../config'
import { GqlError } from './errors'
import { getToken, login } from './session'
import { send } from './transport'

interface UploadAnswer { avatarUrl?: string; error?: { code?: string; message?: string; requestId?: string } }

function uploadOnce(filePath: string, token: string): Promise<{ status: number; body: UploadAnswer }> {
  return new Promise((resolve, reject) => {
    wx.uploadFile({
      url: `${baseUrl()}/api/user/avatar`,
      filePath,
      name: 'file',
      header: { Authorization: `Bearer ${token}` },
      timeout: 20000,
      success(res) {
        let body: UploadAnswer = {}
        try {
          body = JSON.parse(res.data) as UploadAnswer
        } catch (_e) {
          // not JSON: a proxy's page; treated below by its status
        }
        resolve({ status: res.statusCode, body })
      },
      fail() {
        reject(new GqlError('NETWORK', ''))
      },
    })
  })
}

function ascii(text: string): number[] {
  const out: number[] = []
  for (let i = 0; i < text.length; i += 1) out.push(text.charCodeAt(i) & 0x7f)
  return out
}

/** multipart/form-data with the one file field, as wx.uploadFile would send it. */
async function uploadThroughContainer(filePath: string): Promise<{ status: number; body: UploadAnswer }> {
  const bytes = new Uint8Array(wx.getFileSystemManager().readFileSync(filePath) as ArrayBuffer)
  const boundary = `----mpavatar${Date.now().toString(16)}`
  const head = ascii(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="avatar"\r\nContent-Type: application/octet-stream\r\n\r\n`)
  const tail = ascii(`\r\n--${boundary}--\r\n`)
  const body = new Uint8Array(head.length + bytes.length + tail.length)
  body.set(head, 0)
  body.set(bytes, head.length)
  body.set(tail, head.length + bytes.length)
  const res = await send({ path: '/api/user/avatar', method: 'POST', header: { 'content-type': `multipart/form-data; boundary=${boundary}` }, data: body.buffer })
  let parsed: UploadAnswer = {}
  if (res.data && typeof res.data === 'object') parsed = res.data as UploadAnswer
  else if (typeof res.data === 'string') {
    try {
      parsed = JSON.parse(res.data) as UploadAnswer
    } catch (_e) {
      // not JSON: judged by its status
    }
  }
  return { status: res.statusCode, body: parsed }
}

export async function uploadAvatar(filePath: string): Promise<string> {
  if (container()) return answered(await uploadThroughContainer(filePath))
  let token = getToken() || (await login()).token
  let answer = await uploadOnce(filePath, token)
  if (answer.status === 401) {
    token = (await login()).token // an expired session: log in again, once
    answer = await uploadOnce(filePath, token)
  }
  return answered(answer)
}

function answered(answer: { status: number; body: UploadAnswer }): string {
  if (answer.status === 200 && answer.body.avatarUrl) return answer.body.avatarUrl
  const e = answer.body.error || {}
  throw new GqlError(e.code || (answer.status >= 500 ? 'INTERNAL' : 'BAD_USER_INPUT'), e.message || '', e.requestId)
}
