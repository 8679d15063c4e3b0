// The privacy prompt as a bottom sheet on the page that needs it (see lib/privacy.ts).
import { AGREE_BUTTON_ID, answer, exposed, isPending, listen } from '../../lib/privacy'

Component({
  data: { show: false, agreeId: AGREE_BUTTON_ID },
  lifetimes: {
    attached() {
      const self = this as unknown as { stop?: () => void }
      self.stop = listen((show) => {
        this.setData({ show })
        if (show) exposed()
      })
      if (isPending()) {
        this.setData({ show: true })
        exposed()
      }
    },
    detached() {
      const self = this as unknown as { stop?: () => void }
      if (self.stop) self.stop()
    },
  },
  methods: {
    onAgree() {
      answer('agree')
    },
    onDisagree() {
      answer('disagree')
    },
    openContract() {
      const w = wx as unknown as { openPrivacyContract?: (o: object) => void }
      if (w.openPrivacyContract) w.openPrivacyContract({})
    },
  },
})
