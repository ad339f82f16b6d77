export { encodeMessages, MessageEncodingError } from "./encodeMessages.ts"
export { getMessageId } from "./getMessageId.ts"
export { type ChorusMessage, MESSAGE_VERSION, messageAbiParameter } from "./types.ts"
