// 注销账号: deleteMyAccount removes everything the BFF keeps of the user (docs/privacy.md). The
// page says what goes and what stays, asks for a tick and a final confirmation, then signs out.
import { DELETE_MY_ACCOUNT } from '../../../graphql/auth'
import { errorState } from '../../../lib/errors'
import { request } from '../../../lib/gql'
import { toast, toLogin } from '../../../lib/page'
import { hasSession, signOut } from '../../../lib/session'

Component({
  data: {
    understood: false,
    busy: false,
    error: '',
  },
  methods: {
    onLoad() {
      if (!hasSession()) toLogin('login')
    },
    toggle() {
      this.setData({ understood: !this.data.understood, error: '' })
    },
    onDelete() {
      if (!this.data.understood || this.data.busy) return
      wx.showModal({
        title: '确定注销账号？',
        content: '注销后无法恢复，再次使用需要重新登录并绑定企业。',
        confirmText: '注销',
        confirmColor: '#CF1322',
        success: async (r) => {
          if (!r.confirm) return
          this.setData({ busy: true, error: '' })
          try {
            await request(DELETE_MY_ACCOUNT)
            signOut()
            toast('账号已注销')
            toLogin('login')
          } catch (e) {
            this.setData({ busy: false, error: errorState(e).message })
          }
        },
      })
    },
  },
})
