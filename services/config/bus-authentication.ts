/**
 * Who may write to the bus, as the config says it: the `bus.authentication`
 * section. Every record a producer writes is signed with its Ed25519 key, or
 * its secp256k1 key in a remote signer (`bus/authentication/`), and every consumer refuses records from a key
 * this section does not list, or from a listed key on a topic its service
 * does not write (the topology decides which).
 *
 * Operators and submitters need no entry: their bus keys are their `busKey`,
 * or are derived from their configured chain keys. A process that only verifies a producer lists
 * its `publicKey`; the process that runs it lists its `privateKey` (or both).
 *
 * @module
 */
import { Effect, Schema } from "effect"
import { PrivateKey } from "./private-key.ts"

/** An Ed25519 public key (0x and 64 hex digits), or the uncompressed secp256k1 key of a remote signer's (0x04 and 128). */
export const SignerPublicKey = Schema.String.check(
  Schema.isPattern(/^0x([0-9a-fA-F]{64}|04[0-9a-fA-F]{128})$/, {
    message:
      "expected an Ed25519 public key (0x + 64 hex digits), or a remote signer's uncompressed secp256k1 key (0x04 + 128 hex digits)",
  }),
)

export class ProducerKeyConfig extends Schema.Class<ProducerKeyConfig>("ProducerKeyConfig")({
  /** A service (`chain-watcher`, `proof-builder`, `attestation-collector`, …) or an operator tool (`retry`). */
  service: Schema.NonEmptyString,
  /** The one instance this key may claim (a chain id for a watcher); any instance when absent. */
  instance: Schema.optionalKey(Schema.NonEmptyString),
  /**
   * The 32-byte Ed25519 seed this process signs with (`env:NAME`, a keystore, or hex on a devnet), or a remote
   * signer holding a secp256k1 key (Web3Signer's API; one round trip per record).
   */
  privateKey: Schema.optionalKey(PrivateKey),
  /** The key others verify it by; derived from `privateKey` when absent (one of the two is required). */
  publicKey: Schema.optionalKey(SignerPublicKey),
}) {}

export class BusAuthenticationConfig extends Schema.Class<BusAuthenticationConfig>("BusAuthenticationConfig")(
  {
    /**
     * True: consumers dead-letter (reason `unauthenticated`) every record no listed key wrote.
     * False: producers sign, but consumers take unsigned records too (a migration step; `chorus verify-log`
     * still reports them).
     */
    enforce: Schema.Boolean.pipe(Schema.withDecodingDefaultKey(Effect.succeed(true))),
    producers: Schema.Array(ProducerKeyConfig).pipe(Schema.withDecodingDefaultKey(Effect.succeed([]))),
  },
) {}
