// Administrators only (the BFF answers FORBIDDEN to anyone else; the profile page only
// links here for MONITORING_READ): ERP probe, circuit breaker, failover, performance.
import { MONITORING } from '../../graphql/monitoring'
import { errorState } from '../../lib/errors'
import { dateTime } from '../../lib/format'
import { request } from '../../lib/gql'
import { toLogin } from '../../lib/page'
import { hasSession } from '../../lib/session'

interface Detail { latencyP50Ms: number | null; latencyP95Ms: number | null; consecutiveFailures: number; circuitState: string; backupConfigured: boolean; backupInUse: boolean; lastGoodDataAt: string | null; lastError: string | null }
interface Perf { windowS: number; count: number; errors: number; errorRate: number; p95Ms: number | null; operations: { operation: string; count: number; errorRate: number; p95Ms: number | null }[] }
interface Data { systemStatus: { erpState: string; lastCheckAt: string | null; banner: string | null; degraded: boolean; detail: Detail | null }; performance: Perf }

const ms = (n: number | null) => (n == null ? '—' : `${Math.round(n)} ms`)
const pct = (r: number) => `${(r * 100).toFixed(1)}%`

Component({
  data: {
    loading: true,
    error: null as null | { message: string; actionText: string },
    erp: [] as { k: string; v: string; warn: boolean }[],
    perf: [] as { k: string; v: string; warn: boolean }[],
    ops: [] as { name: string; count: number; errorRate: string; p95: string; warn: boolean }[],
  },
  methods: {
    onLoad() {
      if (!hasSession()) return toLogin('login')
      return this.load()
    },
    async onPullDownRefresh() {
      await this.load()
      wx.stopPullDownRefresh()
    },
    async load() {
      this.setData({ loading: this.data.erp.length === 0, error: null })
      try {
        const { data } = await request<Data>(MONITORING)
        const s = data.systemStatus
        const d = s.detail
        const p = data.performance
        this.setData({
          loading: false,
          erp: [
            { k: 'ERP 状态', v: s.erpState, warn: s.erpState !== 'UP' },
            { k: '最近检测', v: dateTime(s.lastCheckAt), warn: false },
            { k: '探测延迟 p50 / p95', v: d ? `${ms(d.latencyP50Ms)} / ${ms(d.latencyP95Ms)}` : '—', warn: false },
            { k: '熔断器', v: d ? d.circuitState : '—', warn: Boolean(d && d.circuitState !== 'CLOSED') },
            { k: '连续失败', v: d ? String(d.consecutiveFailures) : '—', warn: Boolean(d && d.consecutiveFailures > 0) },
            { k: '备用通道', v: d ? (d.backupInUse ? '使用中' : d.backupConfigured ? '待命' : '未配置') : '—', warn: Boolean(d && d.backupInUse) },
            { k: '最近有效数据', v: d ? dateTime(d.lastGoodDataAt) : '—', warn: false },
          ],
          perf: [
            { k: '请求数', v: String(p.count), warn: false },
            { k: '错误率', v: pct(p.errorRate), warn: p.errorRate > 0.05 },
            { k: 'p95 延迟', v: ms(p.p95Ms), warn: (p.p95Ms || 0) > 3000 },
          ],
          ops: p.operations.map((o) => ({ name: o.operation, count: o.count, errorRate: pct(o.errorRate), p95: ms(o.p95Ms), warn: o.errorRate > 0.05 })),
        })
      } catch (e) {
        this.setData({ loading: false, error: errorState(e) })
      }
    },
    onRetry() {
      return this.load()
    },
  },
})
