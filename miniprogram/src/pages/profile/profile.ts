// Profile: avatar (chooseAvatar, uploaded to the BFF) and nickname (type="nickname" input,
// saved once WeChat's own nickname review passed; the BFF checks it again with msgSecCheck)
// — the only ways WeChat still gives them — the company binding, unbinding, system status.
import { LOGOUT, ME, UNBIND_COMPANY, UPDATE_PROFILE } from '../../graphql/auth'
import { SYSTEM_STATUS } from '../../graphql/monitoring'
import { errorState } from '../../lib/errors'
import { date, dateTime } from '../../lib/format'
import { request } from '../../lib/gql'
import { forgetAll } from '../../lib/keep'
import { toast, toLogin } from '../../lib/page'
import { hasSession, signOut } from '../../lib/session'
import { uploadAvatar } from '../../lib/upload'

interface Me {
  openid: string; nickname: string | null; avatarUrl: string | null; bound: boolean; permissions: string[]
  binding: null | { role: string; method: string; boundAt: string; company: { name: string; code: string | null; contact: string | null; mobile: string | null } }
}
interface Status { erpState: string; lastCheckAt: string | null; banner: string | null; degraded: boolean }

const ERP_STATES: Record<string, { text: string; cls: string }> = {
  UP: { text: '正常', cls: 'ok' },
  DEGRADED: { text: '响应缓慢', cls: 'warn' },
  DOWN: { text: '无法连接', cls: 'bad' },
  UNKNOWN: { text: '检测中', cls: 'muted' },
}

Component({
  data: {
    loading: true,
    error: null as null | { message: string; actionText: string },
    nickname: '',
    /** What the user typed, waiting for WeChat's nickname review. */
    draft: '',
    avatarUrl: '',
    uploading: false,
    bound: false,
    company: null as null | { name: string; code: string; contact: string },
    role: '',
    boundAt: '',
    isAdmin: false,
    status: null as null | { text: string; cls: string; checkedAt: string; banner: string },
  },
  methods: {
    onLoad() {
      if (!hasSession()) return toLogin('login')
      return this.load()
    },
    async load() {
      this.setData({ loading: true, error: null })
      // Both requests together; the status is secondary: its failure must not blank the page.
      const status = request<{ systemStatus: Status }>(SYSTEM_STATUS).then(
        ({ data }) => {
          const s = data.systemStatus
          const st = ERP_STATES[s.erpState] || ERP_STATES.UNKNOWN
          return { text: st.text, cls: st.cls, checkedAt: dateTime(s.lastCheckAt), banner: s.banner || '' }
        },
        () => ({ text: '暂不可用', cls: 'muted', checkedAt: '—', banner: '' }),
      )
      try {
        const { data } = await request<{ me: Me }>(ME)
        const me = data.me
        const b = me.binding
        this.setData({
          loading: false,
          nickname: me.nickname || '',
          draft: me.nickname || '',
          avatarUrl: me.avatarUrl || '',
          bound: me.bound,
          company: b ? { name: b.company.name, code: b.company.code || '', contact: [b.company.contact, b.company.mobile].filter(Boolean).join(' ') } : null,
          role: b ? (b.role === 'ADMIN' ? '批发商管理员' : '企业采购员') : '',
          boundAt: b ? date(b.boundAt) : '',
          isAdmin: me.permissions.indexOf('MONITORING_READ') >= 0,
        })
      } catch (e) {
        this.setData({ loading: false, error: errorState(e) })
        return
      }
      this.setData({ status: await status })
    },
    /** chooseAvatar gives a temporary local file: shown at once, uploaded, then the kept https URL. */
    async onChooseAvatar(e: WechatMiniprogram.CustomEvent<{ avatarUrl: string }>) {
      const before = this.data.avatarUrl
      this.setData({ avatarUrl: e.detail.avatarUrl, uploading: true })
      try {
        const avatarUrl = await uploadAvatar(e.detail.avatarUrl)
        this.setData({ avatarUrl, uploading: false })
        toast('头像已更新')
      } catch (err) {
        this.setData({ avatarUrl: before, uploading: false })
        toast(errorState(err).message)
      }
    },
    onNicknameInput(e: WechatMiniprogram.CustomEvent<{ value: string }>) {
      this.setData({ draft: String(e.detail.value || '').trim() })
    },
    /** WeChat reviews a type="nickname" input after blur; only a passed nickname is saved. */
    async onNicknameReview(e: WechatMiniprogram.CustomEvent<{ pass: boolean; timeout: boolean }>) {
      const nickname = this.data.draft
      if (!nickname || nickname === this.data.nickname) return
      if (!e.detail.pass && !e.detail.timeout) {
        this.setData({ draft: this.data.nickname })
        toast('昵称未通过微信审核，请修改')
        return
      }
      // A review that timed out is decided by the BFF's own check (msgSecCheck).
      try {
        const { data } = await request<{ updateProfile: { nickname: string | null } }>(UPDATE_PROFILE, { profile: { nickname } })
        this.setData({ nickname: data.updateProfile.nickname || '', draft: data.updateProfile.nickname || '' })
        toast('已保存')
      } catch (err) {
        this.setData({ draft: this.data.nickname })
        toast(errorState(err).message)
      }
    },
    onUnbind() {
      wx.showModal({
        title: '解除绑定',
        content: '解除后将无法查看贵公司的订单，需要重新绑定。确定解除吗？',
        confirmColor: '#F5222D',
        success: async (r) => {
          if (!r.confirm) return
          try {
            await request(UNBIND_COMPANY)
            forgetAll() // the company's orders kept on the device go with the binding
            toLogin('bind')
          } catch (e) {
            toast(errorState(e).message)
          }
        },
      })
    },
    async onLogout() {
      try {
        await request(LOGOUT)
      } catch (_e) {
        // Signing out locally is what the user asked for, whatever the server says.
      }
      signOut()
      toLogin('login')
    },
    openDelete() {
      wx.navigateTo({ url: '/packages/account/delete/delete' }) // a subpackage: downloaded when first opened
    },
    openMonitor() {
      wx.navigateTo({ url: '/pages/monitor/monitor' })
    },
    onBind() {
      toLogin('bind')
    },
    onRetry() {
      return this.load()
    },
  },
})
