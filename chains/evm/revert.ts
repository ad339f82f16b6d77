/**
 * What a failed call or send means for a writer: a contract revert (decoded
 * against the Inbox ABI, e.g. `InsufficientStake(signed=1, required=3)`), a
 * node refusing a transaction, or a transport failure whose effect is
 * unknown. Only `chains/evm/` sees viem's errors; these turn them into
 * Chorus's terms before they leave.
 *
 * @module
 */
import {
  BaseError,
  ContractFunctionRevertedError,
  decodeErrorResult,
  type Hex,
  HttpRequestError,
  NonceTooLowError,
  RawContractError,
  SocketClosedError,
  TimeoutError,
} from "viem"
import { inboxAbi } from "../../contracts/index.ts"
import type { Revert, SendVerdict } from "../chain-access.ts"
import { describeRevertsIn, describeSolidityRevert, ERROR_STRING_SELECTOR } from "./solidity-revert.ts"

// A bytes argument (a recipient's reason inside `RetryFailed`) that holds `Error(string)` or `Panic` is shown in words.
const show = (value: unknown): string =>
  typeof value === "bigint"
    ? value.toString()
    : typeof value === "string"
      ? describeRevertsIn(value)
      : JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v))

/**
 * Decodes revert data against the Inbox ABI, and `Error(string)` / `Panic`
 * whole or cut short (`solidity-revert.ts`): `Name(arg=value, …)`, or a
 * description of data it does not know.
 *
 * @example
 * ```ts
 * describeRevertData("0x…") // "InsufficientStake(signed=1, required=3)"
 * ```
 */
export const describeRevertData = (data: Hex): string => decodeRevertData(data).reason

/**
 * The most revert data a writer keeps. The Inbox's largest error, `RetryFailed` with a recipient's reason
 * (which it cuts at 256 bytes), is about 356 bytes; anything longer comes from elsewhere (a lying RPC), and it
 * would travel into events whose records have a size limit.
 */
export const REVERT_DATA_MAX_BYTES = 1_024

const decodeRevertData = (data: Hex): Revert => {
  const bytes = (data.length - 2) / 2
  if (bytes <= REVERT_DATA_MAX_BYTES) return decodeWhole(data)
  // Its error is still named (a pause stays a pause), but neither its arguments nor all its bytes are kept.
  const { errorName } = decodeWhole(data)
  return {
    reason:
      `${errorName ?? "an unknown error"} with ${bytes} bytes of data, more than any Inbox error carries ` +
      `(${data.slice(0, 74)}…); the first ${REVERT_DATA_MAX_BYTES} are kept`,
    revertData: data.slice(0, 2 + 2 * REVERT_DATA_MAX_BYTES) as Hex,
    errorName,
    args: [],
  }
}

const decodeWhole = (data: Hex): Revert => {
  if (data === "0x") return { reason: "reverted without data", revertData: data, errorName: null, args: [] }
  // Error(string) and Panic, whole (with their arguments) or cut short (no decoder takes those).
  const builtIn = describeSolidityRevert(data)
  try {
    const decoded = decodeErrorResult({ abi: inboxAbi, data })
    const item = decoded.abiItem as { readonly inputs: ReadonlyArray<{ readonly name?: string }> }
    const args = (decoded.args ?? []) as ReadonlyArray<unknown>
    const shown = item.inputs.map((input, i) => `${input.name || i}=${show(args[i])}`).join(", ")
    const reason = builtIn ?? `${decoded.errorName}(${shown})`
    return { reason, revertData: data, errorName: decoded.errorName, args }
  } catch {
    if (builtIn !== undefined) {
      const errorName = data.toLowerCase().startsWith(ERROR_STRING_SELECTOR) ? "Error" : "Panic"
      return { reason: builtIn, revertData: data, errorName, args: [] }
    }
    const reason = `reverted with unknown error data ${data.length > 74 ? `${data.slice(0, 74)}…` : data}`
    return { reason, revertData: data, errorName: null, args: [] }
  }
}

const hexData = (value: unknown): Hex | undefined => {
  if (typeof value === "string" && /^0x(?:[0-9a-fA-F]{2})*$/.test(value)) return value.toLowerCase() as Hex
  if (typeof value === "object" && value !== null && "data" in value) return hexData(value.data)
  return undefined
}

/**
 * The revert inside a viem error (from `estimateContractGas`, `call`, …), or
 * null if the error is not a revert (a transport failure, a node refusal).
 *
 * @example
 * ```ts
 * try { await client.estimateContractGas(…) } catch (error) { describeRevert(error)?.reason }
 * ```
 */
export const describeRevert = (error: unknown): Revert | null => {
  if (!(error instanceof BaseError)) return null
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError)
  if (reverted instanceof ContractFunctionRevertedError) {
    const raw = reverted.raw ?? (reverted.signature as Hex | undefined)
    if (raw !== undefined) return decodeRevertData(raw.toLowerCase() as Hex)
    return { reason: reverted.reason ?? reverted.shortMessage, revertData: "0x", errorName: null, args: [] }
  }
  const rawError = error.walk((e) => e instanceof RawContractError)
  if (rawError instanceof RawContractError) {
    return decodeRevertData(hexData(rawError.data) ?? "0x")
  }
  // Nodes report `execution reverted` with the data on the RPC error itself.
  const withData = error.walk((e) => hexData((e as { data?: unknown }).data) !== undefined)
  const data = withData === null ? undefined : hexData((withData as { data?: unknown }).data)
  if (data !== undefined && /revert/i.test(error.message)) return decodeRevertData(data)
  if (/execution reverted/i.test(error.message)) {
    return { reason: "execution reverted", revertData: "0x", errorName: null, args: [] }
  }
  return null
}

const shortOf = (error: unknown): string =>
  error instanceof BaseError ? error.shortMessage : error instanceof Error ? error.message : String(error)

/**
 * Classifies an `eth_sendRawTransaction` failure.
 *
 * @example
 * ```ts
 * const verdict = classifySendError(error) // { kind: "refused", reason: "nonce too low", nonceTooLow: true }
 * ```
 */
export const classifySendError = (error: unknown): SendVerdict => {
  const text = error instanceof BaseError ? `${error.shortMessage} ${error.details}` : shortOf(error)
  if (/already known|known transaction|already imported/i.test(text)) return { kind: "accepted" }
  if (error instanceof BaseError) {
    if (error.walk((e) => e instanceof NonceTooLowError) !== null || /nonce too low/i.test(text)) {
      return { kind: "refused", reason: "nonce too low", nonceTooLow: true }
    }
    const transport = error.walk(
      (e) =>
        e instanceof TimeoutError ||
        e instanceof SocketClosedError ||
        (e instanceof HttpRequestError && (e.status === undefined || e.status >= 500)),
    )
    if (transport !== null) return { kind: "ambiguous", reason: shortOf(transport) }
  }
  return { kind: "refused", reason: shortOf(error), nonceTooLow: false }
}
