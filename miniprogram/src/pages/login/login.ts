// Login page: privacy agreement → WeChat login → binding to a company (invite code,
// typed or scanned, or ERP account). Written with Component() so tests can drive it.
import { BIND_COMPANY } from '../../graphql/auth'
import { errorState } from '../../lib/errors'
import { inviteFromScan } from '../../lib/invite'
import { request } from '../../lib/gql'
import { login } from '../../lib/session'

type Step = 'privacy' | 'bind'
type Method = 'invite' | 'account'

// What the app collects and why; the same list as docs/privacy.md and the privacy guide
// declared in the WeChat console (用户隐私保护指引).
const COLLECTED = [
  { what: '微信登录标识', why: '识别您的身份，保持登录（不获取微信号）' },
  { what: '头像、昵称', why: '由您主动选择，显示在“我的”页面' },
  { what: 'ERP 账号（手机号）', why: '用账号绑定企业时验证身份，保存绑定关系；密码不保存' },
  { what: '邀请码', why: '绑定您所在的企业' },
  { what: '摄像头', why: '扫码填入邀请码或搜索订单时使用' },
  { what: '剪贴板', why: '您点击“复制”时写入运单号' },
]

Component({
  data: {
    step: 'privacy' as Step,
    collected: COLLECTED,
    agreed: false,
    busy: false,
    error: '',
    method: 'invite' as Method,
    inviteCode: '',
    username: '',
    password: '',
    /** Where to land once signed in (an order opened from a notification), else the home tab. */
    next: '',
  },
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      const next = decodeURIComponent(query.next || '')
      if (next.indexOf('/pages/') === 0) this.setData({ next })
      if (query.mode === 'bind') this.setData({ step: 'bind', agreed: true })
    },
    enter() {
      if (this.data.next) wx.reLaunch({ url: this.data.next })
      else wx.switchTab({ url: '/pages/home/home' })
    },
    toggleAgree() {
      this.setData({ agreed: !this.data.agreed })
    },
    openPrivacy() {
      const w = wx as unknown as { openPrivacyContract?: (o: object) => void }
      if (w.openPrivacyContract) w.openPrivacyContract({})
    },
    async onLogin() {
      if (!this.data.agreed || this.data.busy) return
      this.setData({ busy: true, error: '' })
      try {
        const result = await login()
        if (result.user.bound) {
          this.enter()
          this.setData({ busy: false })
        } else {
          this.setData({ busy: false, step: 'bind' })
        }
      } catch (e) {
        this.setData({ busy: false, error: errorState(e).message })
      }
    },
    switchMethod(e: WechatMiniprogram.TouchEvent) {
      this.setData({ method: e.currentTarget.dataset.method as Method, error: '' })
    },
    onInput(e: WechatMiniprogram.Input) {
      const field = e.currentTarget.dataset.field as string
      this.setData({ [field]: e.detail.value, error: '' })
    },
    onScan() {
      wx.scanCode({
        onlyFromCamera: false,
        success: (r) => this.setData({ inviteCode: inviteFromScan(r.result), method: 'invite', error: '' }),
      })
    },
    async onBind() {
      if (this.data.busy) return
      const d = this.data
      let input: Record<string, unknown>
      if (d.method === 'invite') {
        const code = d.inviteCode.trim().toUpperCase()
        if (!code) return this.setData({ error: '请输入邀请码' })
        input = { inviteCode: code }
      } else {
        if (!d.username.trim() || !d.password) return this.setData({ error: '请输入 ERP 账号和密码' })
        input = { erpAccount: { username: d.username.trim(), password: d.password } }
      }
      this.setData({ busy: true, error: '' })
      try {
        await request(BIND_COMPANY, { input })
        // The password is not kept anywhere once used.
        this.setData({ busy: false, password: '' })
        this.enter()
      } catch (e) {
        this.setData({ busy: false, error: errorState(e).message })
      }
      return undefined
    },
  },
})
