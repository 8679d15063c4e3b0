// WeChat's privacy prompt, answered in place. When a page calls an API that touches user
// data before the user agreed (chooseAvatar, a nickname input, the clipboard, the camera),
// WeChat calls wx.onNeedPrivacyAuthorization with a `resolve`; app.ts hands it here, the
// privacy sheet on the page shows itself, and the user's answer goes back through resolve.

export type PrivacyEvent = 'agree' | 'disagree' | 'exposureAuthorization'
type Resolve = (answer: { event: PrivacyEvent; buttonId?: string }) => void
type Listener = (show: boolean) => void

/** The id of the sheet's open-type="agreePrivacyAuthorization" button (WeChat checks it). */
export const AGREE_BUTTON_ID = 'privacy-agree'

let pending: Resolve | null = null
let reported = false // exposure is reported once per request, however many pages show a sheet
const listeners: Listener[] = []

/** app.ts: WeChat needs an answer. Shown by the sheet of the current page, if any. */
export function needAuthorization(resolve: Resolve): void {
  if (pending) pending({ event: 'disagree' }) // a newer request replaces an unanswered one
  pending = resolve
  reported = false
  listeners.forEach((l) => l(true))
}

/** The sheet became visible: WeChat wants to know the user was shown the prompt. */
export function exposed(): void {
  if (pending && !reported) {
    reported = true
    pending({ event: 'exposureAuthorization' })
  }
}

export function answer(event: 'agree' | 'disagree'): void {
  const resolve = pending
  pending = null
  if (resolve) resolve(event === 'agree' ? { event, buttonId: AGREE_BUTTON_ID } : { event })
  listeners.forEach((l) => l(false))
}

export function isPending(): boolean {
  return pending !== null
}

/** A sheet listens while its page is shown; returns the unsubscribe function. */
export function listen(listener: Listener): () => void {
  listeners.push(listener)
  return () => {
    const at = listeners.indexOf(listener)
    if (at >= 0) listeners.splice(at, 1)
  }
}
