import { Schema } from "effect"
import { IsoTime, Uint } from "../primitives.ts"

/**
 * A record a consumer could not decode, or that no trusted producer wrote,
 * with its raw bytes and origin.
 *
 * It is the one record that does not travel in an envelope: the envelope is
 * what failed to decode. `bus/dead-letter.ts` writes it.
 */
export class DeadLetter extends Schema.Class<DeadLetter>("DeadLetter")({
  type: Schema.Literal("chorus.DeadLetter"),
  version: Schema.Literal(1),
  deadLetteredAt: IsoTime,
  consumer: Schema.Struct({ groupId: Schema.String, memberId: Schema.String }),
  source: Schema.Struct({ topic: Schema.String, partition: Uint, offset: Uint, timestamp: Uint }),
  // Letters written before records were authenticated lack it: they were all undecodable.
  reason: Schema.optionalKey(Schema.Literals(["undecodable", "unauthenticated"])),
  error: Schema.Struct({
    message: Schema.String,
    issues: Schema.Array(Schema.Struct({ path: Schema.String, message: Schema.String })),
  }),
  raw: Schema.Struct({
    key: Schema.NullOr(Schema.String),
    valueBase64: Schema.String,
    headers: Schema.Record(Schema.String, Schema.String),
    // Letters written before dead letters were bounded lack these three.
    size: Schema.optionalKey(Uint),
    sha256: Schema.optionalKey(Schema.String),
    truncated: Schema.optionalKey(Schema.Boolean),
  }),
}) {}
