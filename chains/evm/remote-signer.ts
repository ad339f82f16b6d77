/**
 * An account whose key is held by a remote signer speaking Web3Signer's
 * signing API: the transaction's signing payload (its unsigned serialized
 * form) goes to `POST <url>/api/v1/eth1/sign/<publicKey>` as `{"data": …}`,
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
  keccak256,
  parseSignature,
  recoverAddress,
  type Signature,
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
