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

/** A 32-byte private key: `0x` + 64 hex digits, `env:NAME`, or `{ "keystore": …, "passphrase": … }`. */
export const PrivateKey = Schema.Union([
  Schema.String.check(
    Schema.isPattern(HEX_OR_ENV, {
      message: "expected a 32-byte hex private key (0x + 64 hex digits) or env:VARIABLE",
    }),
  ),
  KeystoreKey,
])
export type PrivateKey = typeof PrivateKey.Type

/** How a key field may be written, for errors. */
export const PRIVATE_KEY_FORMS =
  '0x + 64 hex digits, env:VARIABLE, or {"keystore": "<file>", "passphrase": "env:VARIABLE" | "file:<path>"}'

/** Is this key written in the file itself? */
export const isPlaintextKey = (key: PrivateKey): boolean => typeof key === "string" && key.startsWith("0x")
