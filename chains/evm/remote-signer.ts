/**
 * An account whose key is held by a remote signer speaking Web3Signer's
 * signing API: a submitter's transaction signing payload (its unsigned
 * serialized form), or the EIP-712 preimage of what an operator signs, goes to `POST <url>/api/v1/eth1/sign/<publicKey>` as `{"data": …}`,
 * and the signer answers the 65-byte signature of its keccak256.
 *
 * The signer is trusted with the key, not with the answer: a signature that
 * does not recover to the configured account is refused, so a misrouted or
 * hostile signer cannot make the writer send as someone else (or send
 * garbage the node would refuse).
 *
 * @module
 */
import {
  type Hex,
  hexToBigInt,
  keccak256,
  numberToHex,
  parseSignature,
  recoverAddress,
  type Signature,
  serializeSignature,
  serializeTransaction,
  type TransactionSerializable,
} from "viem"
import { type LocalAccount, toAccount } from "viem/accounts"
import { ChorusError } from "../../errors/index.ts"
import type { RemoteSignerRef } from "../chain-access.ts"
import { redactUrl } from "./errors.ts"

/** A remote signer that did not sign, or signed as another account. */
export class RemoteSignerError extends ChorusError {
  override readonly name = "RemoteSignerError"
  constructor(signer: RemoteSignerRef, problem: string) {
    super(`remote signer ${redactUrl(signer.url)} for ${signer.address}: ${problem}`, {
      details: { signer: redactUrl(signer.url), account: signer.address },
      hint: "check the signer is up, holds this key, and that the config's publicKey is the key's",
    })
  }
}

/** How long one signing request may take. */
const SIGN_TIMEOUT_MS = 10_000

/** The most a signer's answer may hold: a signature is 132 characters. */
const MAX_ANSWER_CHARS = 1_024

/**
 * The signature of keccak256(`data`), from the signer, checked against the account.
 *
 * @example
 * ```ts
 * const signature = await remoteSign(signer, unsignedTransaction)
 * ```
 */
export const remoteSign = async (signer: RemoteSignerRef, data: Hex): Promise<Signature> => {
  const url = `${signer.url.replace(/\/+$/, "")}/api/v1/eth1/sign/${signer.publicKey}`
  let text: string
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/plain, application/json" },
      body: JSON.stringify({ data }),
      signal: AbortSignal.timeout(SIGN_TIMEOUT_MS),
    })
    text = (await response.text()).slice(0, MAX_ANSWER_CHARS).trim()
    if (!response.ok)
      throw new RemoteSignerError(signer, `answered HTTP ${response.status}: ${text.slice(0, 200)}`)
  } catch (error) {
    if (error instanceof RemoteSignerError) throw error
    throw new RemoteSignerError(
      signer,
      `no answer (${error instanceof Error ? error.message : String(error)})`,
    )
  }
  const hex = text.replace(/^"|"$/g, "")
  if (!/^0x[0-9a-fA-F]{130}$/.test(hex)) {
    throw new RemoteSignerError(
      signer,
      `answered ${JSON.stringify(hex.slice(0, 80))}, not a 65-byte signature`,
    )
  }
  const signature = parseSignature(hex as Hex)
  const recovered = await recoverAddress({ hash: keccak256(data), signature })
  if (recovered.toLowerCase() !== signer.address.toLowerCase()) {
    throw new RemoteSignerError(signer, `signed as ${recovered}, not as the configured account`)
  }
  return signature
}

/**
 * Whether the signer holds the key: its `GET /api/v1/eth1/publicKeys` lists it. Resolves to null when it does,
 * or to what is wrong (no answer, not a list, the key not in it), for `chorus config check`.
 *
 * @example
 * ```ts
 * const problem = await remoteSignerProblem(signer) // null, or "lists 2 key(s), not 0x04ab…"
 * ```
 */
export const remoteSignerProblem = async (
  signer: RemoteSignerRef,
  timeoutMs = SIGN_TIMEOUT_MS,
): Promise<string | null> => {
  const url = `${signer.url.replace(/\/+$/, "")}/api/v1/eth1/publicKeys`
  let listed: unknown
  try {
    const response = await fetch(url, {
      headers: { accept: "application/json" },
      signal: AbortSignal.timeout(timeoutMs),
    })
    const text = (await response.text()).slice(0, MAX_LIST_CHARS)
    if (!response.ok) return `${redactUrl(url)} answered HTTP ${response.status}`
    listed = JSON.parse(text)
  } catch (error) {
    return `${redactUrl(url)} gave no list of keys (${error instanceof Error ? error.message : String(error)})`
  }
  if (!Array.isArray(listed)) return `${redactUrl(url)} answered something that is not a list of keys`
  // Listed with or without the 04 prefix of an uncompressed key; the last 128 digits are the key.
  const bare = (key: unknown) => (typeof key === "string" ? key.toLowerCase().slice(-128) : "")
  return listed.some((key) => bare(key) === bare(signer.publicKey))
    ? null
    : `the signer lists ${listed.length} key(s), and not ${signer.publicKey.slice(0, 12)}…; load the key into it, or fix publicKey`
}

/** The most a list of keys may hold here: a few thousand keys. */
const MAX_LIST_CHARS = 1_000_000

/** secp256k1's group order: a signature's `s` above half of it is the malleable twin of `n - s`. */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n

/**
 * The 65-byte `r ‖ s ‖ v` signature (v 27/28, low `s`, as Inboxes and the collector take it) of keccak256(`preimage`),
 * from the signer, checked against the account. A signer answering the high-`s` twin is taken and normalized:
 * both recover to the same key, and only the low one is accepted on chain.
 *
 * @example
 * ```ts
 * const signature = await remoteDigestSignature(signer, preimageForInbox({ domain, typed }))
 * ```
 */
export const remoteDigestSignature = async (signer: RemoteSignerRef, preimage: Hex): Promise<Hex> => {
  const { r, s, yParity } = await remoteSign(signer, preimage)
  const high = hexToBigInt(s) > SECP256K1_N / 2n
  return serializeSignature({
    r,
    s: high ? numberToHex(SECP256K1_N - hexToBigInt(s), { size: 32 }) : s,
    yParity: high ? 1 - (yParity ?? 0) : (yParity ?? 0),
  })
}

/**
 * An account that signs transactions with the remote signer; it signs nothing else (a writer needs nothing else).
 *
 * @example
 * ```ts
 * const account = web3signerAccount({ kind: "web3signer", url, publicKey, address })
 * ```
 */
export const web3signerAccount = (signer: RemoteSignerRef): LocalAccount =>
  toAccount({
    address: signer.address,
    signMessage: async () => {
      throw new RemoteSignerError(signer, "asked to sign a message; a writer signs transactions only")
    },
    signTypedData: async () => {
      throw new RemoteSignerError(signer, "asked to sign typed data; a writer signs transactions only")
    },
    signTransaction: async (transaction) => {
      const unsigned = serializeTransaction(transaction as TransactionSerializable)
      const signature = await remoteSign(signer, unsigned)
      return serializeTransaction(transaction as TransactionSerializable, signature)
    },
  })
