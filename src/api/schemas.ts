// Response schemas of the read API's 200 answers. Fastify compiles them into serializers (fast-json-stringify),
// which write these shapes several times faster than JSON.stringify; they also pin the contract: a field the
// store adds does not leak into answers until it is listed here.
import Type from 'typebox'

const Order = Type.Object({
  orderId: Type.String(),
  userId: Type.String(),
  total: Type.Number(),
  status: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
})

const Payment = Type.Object({
  orderId: Type.String(),
  status: Type.String(),
  amount: Type.Number(),
  settledAt: Type.String(),
  updatedAt: Type.String(),
})

const User = Type.Object({
  userId: Type.String(),
  name: Type.String(),
  email: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
})

export const userResponse = Type.Object({ user: User, recentOrders: Type.Array(Order) })
export const orderResponse = Type.Object({ order: Order, payment: Type.Union([Payment, Type.Null()]) })
export const inventoryResponse = Type.Object({
  sku: Type.String(),
  quantity: Type.Number(),
  lastAdjustedAt: Type.String(),
})
