// Profile: avatar (chooseAvatar) and nickname (type="nickname" input) — the only ways WeChat
// still gives them — the company binding, unbinding, and the system status.
import { LOGOUT, ME, UNBIND_COMPANY, UPDATE_PROFILE } from '../../graphql/auth'
import { SYSTEM_STATUS } from '../../graphql/monitoring'
import { errorState } from '../../lib/errors'
import { date, dateTime } from '../../lib/format'
import { request } from '../../lib/gql'
import { toast, toLogin } from '../../lib/page'
import { getToken, setToken } from '../../lib/session'

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
    avatarUrl: '',
    bound: false,
    company: null as null | { name: string; code: string; contact: string },
    role: '',
    boundAt: '',
    isAdmin: false,
    status: null as null | { text: string; cls: string; checkedAt: string; banner: string },
  },
  methods: {
    onLoad() {
      if (!getToken()) return toLogin('login')
      return this.load()
    },
    async load() {
      this.setData({ loading: true, error: null })
      try {
        const { data } = await request<{ me: Me }>(ME)
        const me = data.me
        const b = me.binding
        this.setData({
          loading: false,
          nickname: me.nickname || '',
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
      // Status is secondary: its failure must not blank the page.
      try {
        const { data } = await request<{ systemStatus: Status }>(SYSTEM_STATUS)
        const s = data.systemStatus
        const st = ERP_STATES[s.erpState] || ERP_STATES.UNKNOWN
        this.setData({ status: { text: st.text, cls: st.cls, checkedAt: dateTime(s.lastCheckAt), banner: s.banner || '' } })
      } catch (_e) {
        this.setData({ status: { text: '暂不可用', cls: 'muted', checkedAt: '—', banner: '' } })
      }
    },
    async onChooseAvatar(e: WechatMiniprogram.CustomEvent<{ avatarUrl: string }>) {
      const avatarUrl = e.detail.avatarUrl
      this.setData({ avatarUrl })
      await this.saveProfile({ avatarUrl })
    },
    async onNickname(e: WechatMiniprogram.CustomEvent<{ value: string }>) {
      const nickname = String(e.detail.value || '').trim()
      if (!nickname || nickname === this.data.nickname) return
      this.setData({ nickname })
      await this.saveProfile({ nickname })
    },
    async saveProfile(profile: { nickname?: string; avatarUrl?: string }) {
      try {
        await request(UPDATE_PROFILE, { profile })
        toast('已保存')
      } catch (e) {
        toast(errorState(e).message)
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
      setToken('')
      toLogin('login')
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
