// Shipment attachments, fetched through the BFF (it holds the ERP session) and opened in WeChat.
// The answer's status is checked: an error is the BFF's JSON ({error: {code, message}}) and is
// shown as such, never handed to openDocument as a file; an expired session is renewed once,
// as for every request; progress is reported. Over callContainer the bytes come back in the
// answer and are written to the user data folder first (callContainer has no download task).
import { baseUrl, container } from '../config'
import { GqlError } from './errors'
import { getToken, login } from './session'
import { NetworkError, send } from './transport'

interface Fetched {
  status: number
  path: string
}

const IMAGE = /\.(png|jpe?g|gif|webp)$/i
const DOCUMENT = /\.(pdf|docx?|xlsx?|pptx?)$/i

function extension(name: string): string {
  const m = /\.[A-Za-z0-9]{1,5}$/.exec(name)
  return m ? m[0].toLowerCase() : ''
}

function overHttps(path: string, token: string, onProgress: (pct: number) => void): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const task = wx.downloadFile({
      url: baseUrl() + path,
      header: token ? { Authorization: `Bearer ${token}` } : {},
      timeout: 60000,
      success: (r) => resolve({ status: r.statusCode, path: r.tempFilePath }),
      fail: (e) => reject(new NetworkError((e && e.errMsg) || '')),
    })
    if (task && task.onProgressUpdate) task.onProgressUpdate((p) => onProgress(p.progress))
  })
}

let written = 0

async function overContainer(path: string, name: string): Promise<Fetched> {
  const res = await send({ path, method: 'GET', responseType: 'arraybuffer' })
  const file = `${wx.env.USER_DATA_PATH}/attachment-${Date.now()}-${(written += 1)}${extension(name)}`
  wx.getFileSystemManager().writeFileSync(file, res.data as ArrayBuffer)
  return { status: res.statusCode, path: file }
}

/** The BFF's error answer, read from the file it was saved to. */
function failure(f: Fetched): GqlError {
  let error: { code?: string; message?: string; requestId?: string } = {}
  try {
    const text = wx.getFileSystemManager().readFileSync(f.path, 'utf8') as string
    error = (JSON.parse(text) as { error?: typeof error }).error || {}
  } catch (_e) {
    // not the BFF's JSON (a proxy's page): judged by its status below
  }
  const byStatus = f.status === 404 ? 'NOT_FOUND' : f.status === 401 ? 'UNAUTHENTICATED' : 'INTERNAL'
  return new GqlError(error.code || byStatus, error.message || '', error.requestId)
}

/** Downloads an attachment (its url as the BFF gave it) to a local file; throws a GqlError. */
export async function fetchAttachment(url: string, name: string, onProgress: (pct: number) => void = () => undefined): Promise<string> {
  const path = url.charAt(0) === '/' ? url : url.replace(/^https?:\/\/[^/]+/, '')
  const fetchOnce = async (token: string) => (container() ? overContainer(path, name) : overHttps(path, token, onProgress))
  let f = await fetchOnce(container() ? '' : getToken() || (await login()).token)
  if (f.status === 401 && !container()) f = await fetchOnce((await login()).token) // an expired session: once
  if (f.status !== 200) throw failure(f)
  return f.path
}

/** Opens a downloaded attachment: pictures in the image viewer, documents in WeChat's reader. */
export function openFile(filePath: string, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const cannot = () => reject(new GqlError('BAD_USER_INPUT', '此类文件无法在微信中打开，请在电脑上查看'))
    if (IMAGE.test(name)) {
      wx.previewImage({ urls: [filePath], success: () => resolve(), fail: cannot })
      return
    }
    const type = DOCUMENT.test(name) ? extension(name).slice(1) : undefined
    wx.openDocument({
      filePath,
      showMenu: true,
      ...(type ? { fileType: type as WechatMiniprogram.OpenDocumentOption['fileType'] } : {}),
      success: () => resolve(),
      fail: cannot,
    })
  })
}
