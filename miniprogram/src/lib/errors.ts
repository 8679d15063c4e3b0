// The BFF's error codes (extensions.code) as the user should read them: what happened
// in Chinese, and the one thing they can do next.

export type NextStep = 'retry' | 'login' | 'bind' | 'contact' | 'fix-input' | 'wait' | 'none'

export interface ErrorInfo {
  message: string
  action: NextStep
  actionText: string
}

const TABLE: Record<string, ErrorInfo> = {
  UNAUTHENTICATED: { message: '登录已过期，请重新登录', action: 'login', actionText: '重新登录' },
  NOT_BOUND: { message: '请先绑定您的企业', action: 'bind', actionText: '去绑定' },
  FORBIDDEN: { message: '您没有权限查看此内容', action: 'contact', actionText: '联系销售代表' },
  BAD_USER_INPUT: { message: '输入有误，请检查后重试', action: 'fix-input', actionText: '修改' },
  NOT_FOUND: { message: '没有找到该记录，可能已被删除', action: 'none', actionText: '返回' },
  RATE_LIMITED: { message: '操作太频繁，请稍后再试', action: 'wait', actionText: '稍后再试' },
  BIND_FAILED: { message: '绑定失败：邀请码或账号不正确', action: 'fix-input', actionText: '重新输入' },
  WX_LOGIN_FAILED: { message: '微信登录失败，请重试', action: 'retry', actionText: '重试' },
  ERP_UNAVAILABLE: { message: 'ERP 系统暂时无法连接，请稍后重试', action: 'retry', actionText: '重试' },
  ERP_DATA_INVALID: { message: 'ERP 返回的数据异常，已通知管理员', action: 'contact', actionText: '联系销售代表' },
  ATTACHMENT_TOO_LARGE: { message: '附件过大，请联系销售获取', action: 'contact', actionText: '联系销售代表' },
  QUERY_TOO_EXPENSIVE: { message: '一次查询的内容过多，请缩小范围后重试', action: 'fix-input', actionText: '重试' },
  ERP_REFUSED: { message: '订单系统拒绝了本次请求，请联系您的销售代表', action: 'contact', actionText: '联系销售代表' },
  WX_UNAVAILABLE: { message: '微信服务繁忙，请稍后重试', action: 'retry', actionText: '重试' },
  OVERLOADED: { message: '访问人数较多，请稍等几秒后重试', action: 'retry', actionText: '重试' },
  DATABASE_UNAVAILABLE: { message: '系统维护中，请稍后重试', action: 'retry', actionText: '重试' },
  REQUEST_TIMEOUT: { message: '网络较慢，请检查网络后重试', action: 'retry', actionText: '重试' },
  PAYLOAD_TOO_LARGE: { message: '内容过大，请减少后重试', action: 'fix-input', actionText: '修改' },
  PERSISTED_DOCUMENT_REQUIRED: { message: '请使用最新版小程序访问', action: 'none', actionText: '返回' },
  PERSISTED_DOCUMENT_NOT_FOUND: { message: '小程序版本过旧，请重新进入小程序后再试', action: 'none', actionText: '返回' },
  INTERNAL: { message: '系统繁忙，请稍后重试', action: 'retry', actionText: '重试' },
  NETWORK: { message: '网络不可用，请检查网络后重试', action: 'retry', actionText: '重试' },
}

const FALLBACK: ErrorInfo = TABLE.INTERNAL

export function describe(code: string): ErrorInfo {
  return TABLE[code] || FALLBACK
}

export class GqlError extends Error {
  readonly code: string
  readonly info: ErrorInfo
  readonly serverMessage: string
  readonly requestId?: string

  constructor(code: string, serverMessage: string, requestId?: string) {
    const info = describe(code)
    // The BFF's own Chinese message is usually more specific (e.g. "邀请码无效"); the
    // table is the fallback for codes without one and supplies the next step.
    super(serverMessage && /[\u4e00-\u9fa5]/.test(serverMessage) ? serverMessage : info.message)
    this.code = code
    this.info = info
    this.serverMessage = serverMessage
    this.requestId = requestId
  }
}

/** Page-state view of any thrown value, for the error panels. */
export function errorState(e: unknown): { code: string; message: string; actionText: string; action: NextStep } {
  if (e instanceof GqlError) {
    return { code: e.code, message: e.message, actionText: e.info.actionText, action: e.info.action }
  }
  const info = FALLBACK
  return { code: 'INTERNAL', message: info.message, actionText: info.actionText, action: info.action }
}
