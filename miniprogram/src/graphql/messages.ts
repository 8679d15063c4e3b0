// Message centre, subscription grants and notification settings (the notifications part of the BFF).

export const RECORD_SUBSCRIPTIONS = `mutation RecordSubscriptions($results: [SubscriptionResultInput!]!) {
  recordSubscriptions(results: $results) { templateId kind remaining }
}`

export const MESSAGES = `query Messages($page: Int!, $pageSize: Int!) {
  messages(page: $page, pageSize: $pageSize) {
    total
    unread
    items { id kind title summary orderId page createdAt read }
  }
}`

export const MARK_MESSAGE_READ = `mutation MarkMessageRead($id: ID!) {
  markMessageRead(id: $id)
}`

export const NOTIFICATION_SETTINGS = `query NotificationSettings {
  notificationSettings { enabledKinds dndStart dndEnd followAll timezone }
  subscriptionGrants { templateId kind remaining }
}`

export const UPDATE_NOTIFICATION_SETTINGS = `mutation UpdateNotificationSettings($input: NotificationSettingsInput!) {
  updateNotificationSettings(input: $input) { enabledKinds dndStart dndEnd followAll timezone }
}`
