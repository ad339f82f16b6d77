export { buildDeliverArgs, DeliveryRangeError } from "./buildDeliverArgs.ts"
