// Session and account operations. Every operation is named: the BFF logs by name.

export const WX_LOGIN = `mutation WxLogin($code: String!, $profile: ProfileInput) {
  wxLogin(code: $code, profile: $profile) {
    token
    expiresAt
    user { openid bound permissions }
  }
}`

export const BIND_COMPANY = `mutation BindCompany($input: BindCompanyInput!) {
  bindCompany(input: $input) {
    bindStatus
    permissions
    companyInfo { name }
  }
}`

export const ME = `query Me {
  me {
    openid
    nickname
    avatarUrl
    bound
    permissions
    binding {
      role
      method
      boundAt
      company { name code contact mobile }
    }
  }
}`

export const UPDATE_PROFILE = `mutation UpdateProfile($profile: ProfileInput!) {
  updateProfile(profile: $profile) { nickname avatarUrl }
}`

export const UNBIND_COMPANY = `mutation UnbindCompany {
  unbindCompany
}`

export const LOGOUT = `mutation Logout {
  logout
}`

export const DELETE_MY_ACCOUNT = `mutation DeleteMyAccount {
  deleteMyAccount
}`
