// Order reads. The home list asks only what a card shows, so the first screen is one small request.

// What one page of order cards shows; shared by the first screen and the next pages.
const ORDER_CARDS = `fragment OrderCards on OrderPage {
  total
  page
  pageSize
  stale
  asOf
  items { id code customerName status statusName date deliveryDate deliveryStatus shippedRate }
}`

export const ORDERS = `query Orders($keyword: String, $status: OrderStatus, $page: Int!, $pageSize: Int!) {
  orders(keyword: $keyword, status: $status, page: $page, pageSize: $pageSize) {
    ...OrderCards
  }
}
${ORDER_CARDS}`

export const ORDER_DETAIL = `query OrderDetail($id: ID!) {
  order(id: $id) {
    id
    code
    customerName
    customerOrderCode
    date
    deliveryDate
    status
    statusName
    quantity
    remark
    deliveryStatus
    shippedRate
    timeline { kind title at done current durationS detail }
    materials {
      id
      name
      spec
      brand
      quantity
      unit
      progress { producedRatio shippedRatio stage }
    }
    shipments {
      id
      code
      shipDate
      logisticsCompany
      trackingNumber
      address
      contact
      mobile
      attachments { name url }
    }
  }
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
      ordered producing produced unproduced shipping shipped returned
      producedRatio shippedRatio stage
    }
    shipments { id code shipDate logisticsCompany trackingNumber }
  }
}`

// The home page's first screen in one request: the first page of orders and the ERP
// banner together (systemStatus is optional: a failure there must not hide the orders).
export const HOME = `query Home($keyword: String, $status: OrderStatus, $pageSize: Int!) {
  orders(keyword: $keyword, status: $status, page: 1, pageSize: $pageSize) {
    ...OrderCards
  }
  systemStatus { erpState banner degraded }
}
${ORDER_CARDS}`
