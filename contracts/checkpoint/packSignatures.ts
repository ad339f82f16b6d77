import { concat, type Hex, size } from "viem"
import { ChorusError } from "../../errors/index.ts"
import { sortSignatures } from "./sortSignatures.ts"
import type { SignerSignature } from "./types.ts"

/** A signature that is not 65 bytes. */
export class SignatureLengthError extends ChorusError {
  override readonly name = "SignatureLengthError"
  declare readonly details: { index: number; length: number }
  constructor(details: { index: number; length: number }) {
    super(`signature ${details.index} is ${details.length} bytes, 65 expected`, {
      details,
      hint: "Produce it with signCheckpoint.",
    })
  }
}

/**
 * Sorts signatures by signer and concatenates them into the `signatures` bytes of `Inbox.commit`.
 *
 * @example
 * await inbox.write.commit([checkpoint, packSignatures(collected)])
 */
export function packSignatures(signatures: readonly SignerSignature[]): Hex {
  const sorted = sortSignatures(signatures)
  sorted.forEach(({ signature }, index) => {
    if (size(signature) !== 65) throw new SignatureLengthError({ index, length: size(signature) })
  })
  return concat(sorted.map((s) => s.signature))
}
