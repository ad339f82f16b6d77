/**
 * Where a configured key comes from: the key itself (hex, for devnets and
 * tests), the environment, or an encrypted keystore file. Every key field of
 * the config (an operator's, a submitter's, a bus producer's) takes any of
 * them, and `resolvePrivateKey` (load-config.ts) turns it into the key at start.
 *
 * @module
 */
import { Schema } from "effect"

const HEX_OR_ENV = /^(0x[0-9a-fA-F]{64}|env:[A-Za-z_][A-Za-z0-9_]*)$/

/** An encrypted Ethereum JSON keystore (version 3) and where its passphrase is. */
export class KeystoreKey extends Schema.Class<KeystoreKey>("KeystoreKey")({
  /** The keystore file; a relative path is read from the config file's directory. */
  keystore: Schema.String.check(Schema.isMinLength(1, { message: "expected the keystore file's path" })),
  /** `env:NAME`, or `file:<path>` (a file holding the passphrase, e.g. a mounted secret; trailing newline ignored). */
  passphrase: Schema.String.check(
    Schema.isPattern(/^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/, {
      message: "expected env:VARIABLE or file:<path> (never the passphrase itself)",
    }),
  ),
}) {}

/**
 * A key held by a remote signer speaking Web3Signer's signing API: an operator's checkpoints and set updates, or a
 * submitter's transactions, are signed there, and the key never enters the process.
 */
export class RemoteSignerKey extends Schema.Class<RemoteSignerKey>("RemoteSignerKey")({
  /** The signer's base URL, e.g. `https://web3signer:9000`. */
  web3signer: Schema.String.check(
    Schema.isPattern(/^https?:\/\/[^\s]+$/, { message: "expected the signer's http(s) URL" }),
  ),
  /** The key's uncompressed public key, as the signer lists it (`GET /api/v1/eth1/publicKeys`). */
  publicKey: Schema.String.check(
    Schema.isPattern(/^0x(04)?[0-9a-fA-F]{128}$/, {
      message: "expected the uncompressed public key: 0x, optionally 04, then 128 hex digits",
    }),
  ),
}) {}

/**
 * A 32-byte private key: `0x` + 64 hex digits, `env:NAME`, `{ "keystore": …, "passphrase": … }`, or (an
 * operator's or a submitter's privateKey) `{ "web3signer": …, "publicKey": … }`.
 */
export const PrivateKey = Schema.Union([
  Schema.String.check(
    Schema.isPattern(HEX_OR_ENV, {
      message: "expected a 32-byte hex private key (0x + 64 hex digits) or env:VARIABLE",
    }),
  ),
  KeystoreKey,
  RemoteSignerKey,
])
export type PrivateKey = typeof PrivateKey.Type

/** How a key field may be written, for errors. */
export const PRIVATE_KEY_FORMS =
  '0x + 64 hex digits, env:VARIABLE, {"keystore": "<file>", "passphrase": "env:VARIABLE" | "file:<path>"}, or (an operator\'s or a submitter\'s privateKey) {"web3signer": "<url>", "publicKey": "0x…"}'

/** Is this key written in the file itself? */
export const isPlaintextKey = (key: PrivateKey): boolean => typeof key === "string" && key.startsWith("0x")
