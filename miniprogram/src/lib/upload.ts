// The avatar from <button open-type="chooseAvatar"> is a temporary local file (http://tmp/…,
// wxfile://…): upload it to the BFF, which keeps it and answers the https URL the profile keeps.
import { baseUrl } from '../config'
import { GqlError } from './errors'
import { getToken, login } from './session'

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

export async function uploadAvatar(filePath: string): Promise<string> {
  let token = getToken() || (await login()).token
  let answer = await uploadOnce(filePath, token)
  if (answer.status === 401) {
    token = (await login()).token // an expired session: log in again, once
    answer = await uploadOnce(filePath, token)
  }
  if (answer.status === 200 && answer.body.avatarUrl) return answer.body.avatarUrl
  const e = answer.body.error || {}
  throw new GqlError(e.code || (answer.status >= 500 ? 'INTERNAL' : 'BAD_USER_INPUT'), e.message || '', e.requestId)
}
