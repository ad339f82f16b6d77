import { Schema } from "effect"

/** A 32-byte private key, or `env:NAME` to read it from the environment at start. */
export const PrivateKey = Schema.String.check(
  Schema.isPattern(/^(0x[0-9a-fA-F]{64}|env:[A-Za-z_][A-Za-z0-9_]*)$/, {
    message: "expected a 32-byte hex private key (0x + 64 hex digits) or env:VARIABLE",
  }),
)
