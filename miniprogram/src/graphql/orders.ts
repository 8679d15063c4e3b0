// Order reads. The home list asks only what a card shows, so the first screen is one small request.

// What one page of order cards shows; shared by the first screen and the next pages.
const ORDER_CARDS = `fragment OrderCards on OrderPage {
  total
  page
  pageSize
  stale
  asOf
  items {
    id code customerOrderCode status statusName date deliveryDate
    deliveryStatus deliveryText shippedRate producedRate overdue amount currency materialSummary trackingState
  }
}`

export const ORDERS = `query Orders($keyword: String, $status: OrderStatus, $shipping: ShippingFilter, $page: Int!, $pageSize: Int!) {
  orders(keyword: $keyword, status: $status, shipping: $shipping, page: $page, pageSize: $pageSize) {
    ...OrderCards
  }
}
${ORDER_CARDS}`

export const ORDER_DETAIL = `query OrderDetail($id: ID!) {
  order(id: $id) {
    id
    code
    customerOrderCode
    date
    deliveryDate
    status
    statusName
    amount
    currency
    remark
    overdue
    followed
    deliveryStatus
    deliveryText
    shippedRate
    producedRate
    timeline { kind title at done current inProgress durationS detail }
    materials {
      id
      name
      spec
      brand
      quantity
      unit
      progress { produced shipped awaitingDispatch exact producedRatio shippedRatio stage }
    }
    shipments {
      id
      code
      state
      shipDate
      logisticsCompany
      trackingNumber
      remark
      address
      contact
      mobile
      attachments { name url size }
      tracking { state updatedAt carrier events { time text location } }
    }
  }
}`

// What one shipment carries: asked after the detail is shown, one request per shipment (one
// ERP read each in the evidenced protocol), so the first screen stays within its budget.
export const SHIPMENT_LINES = `query ShipmentLines($id: ID!) {
  shipment(id: $id) {
    id
    lines { name spec quantity productCode }
  }
}`

export const FOLLOW_ORDER = `mutation FollowOrder($id: ID!, $follow: Boolean!) {
  followOrder(id: $id, follow: $follow)
}`

export const MATERIAL = `query MaterialProgress($id: ID!) {
  material(id: $id) {
    id
    orderId
    orderCode
    productCode
    name
    spec
    brand
    quantity
    unit
    deliveryDate
    progress {
      ordered producing produced unproduced awaitingDispatch shipped returned
      producedRatio shippedRatio stage
    }
    shipments { id code state shipDate logisticsCompany trackingNumber }
  }
}`

// The home page's first screen in one request: the first page of orders, the ERP banner and
// the unread count of the 消息 tab's badge (both optional: a failure there must not hide the orders).
export const HOME = `query Home($keyword: String, $status: OrderStatus, $shipping: ShippingFilter, $pageSize: Int!) {
  orders(keyword: $keyword, status: $status, shipping: $shipping, page: 1, pageSize: $pageSize) {
    ...OrderCards
  }
  systemStatus { erpState banner degraded }
  messages(page: 1, pageSize: 1) { unread }
}
${ORDER_CARDS}`
