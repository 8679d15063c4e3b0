const simulate = require('miniprogram-simulate')
const { installWx, openPage } = require('../support/wx-shim')
test('probe', async () => {
  installWx()
  const login = await openPage(simulate, 'login', { mode: 'bind' })
  console.log(login.dom.outerHTML.slice(0, 3000))
  console.log(document.head.innerHTML.slice(0, 500))
})
