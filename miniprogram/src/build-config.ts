// Values a build injects. These are the development ones (DevTools opening src/, `npm run
// build`, the tests); `npm run build:release` replaces this module with the release values
// from release.config.json or the environment, and refuses placeholders (scripts/release-config.js).
export const BUILD = {
  release: false,
  /** How requests reach the BFF: 'https' (wx.request to bffUrl, a legal domain in the console)
   *  or 'container' (wx.cloud.callContainer to WeChat Cloud Run: no domain, the platform vouches
   *  for the user with its X-WX-* headers, the BFF in trusted-header mode). */
  transport: 'https' as 'https' | 'container',
  /** The BFF: a local `bff demo` in development (a developer build may also override it, see config.ts). */
  bffUrl: 'http://127.0.0.1:8000',
  /** WeChat Cloud Run (transport 'container'): the environment id and the service name. */
  container: { env: '', service: '' },
  /** Subscription template ids, as configured in the WeChat console (the BFF's BFF_TPL_*). */
  templates: {
    ORDER_STATUS: 'TPL_ORDER_STATUS',
    PRODUCTION_DONE: 'TPL_PRODUCTION_DONE',
    ORDER_SHIPPED: 'TPL_ORDER_SHIPPED',
  },
}
