/**
 * An operator that equivocates, as an attacker holding its keys would: it signs, with its real chain key, a
 * root for a lane and count it already signed honestly, and publishes the signature on the bus under its own
 * bus identity, exactly as its service publishes the honest one.
 */

import { privateKeyToAccount } from "viem/accounts"
import { authenticatedBus, deriveSigningKey, signerFromSeed } from "../../bus/authentication/index.ts"
import { waitFor } from "../../bus/contract/index.ts"
import { publishEvents, readEvents } from "../../bus/events/index.ts"
import { signCheckpoint } from "../../contracts/index.ts"
import { AttestationSigned, Bytes32, Checkpoint, Hex, makeEnvelope, toAddress } from "../../schemas/index.ts"
import { checkpointDigest } from "../../services/attestation-collector/verify-signature.ts"
import { checkpointDomainOf, localKeyOf, operatorIdentity } from "../../services/config/index.ts"
import { toTypedCheckpoint } from "../../services/operator/sign-checkpoint.ts"
import { producerOf } from "../../services/runtime/index.ts"
import { TOPICS } from "../../topology/index.ts"
import type { Devnet } from "./devnet.ts"

/** The root the equivocating operator signs besides the real one. */
export const EQUIVOCATED_ROOT = Bytes32.make(`0x${"e0".repeat(32)}`)

/**
 * Waits for the devnet's operator `index` to sign a checkpoint, then publishes its signature over
 * `EQUIVOCATED_ROOT` for the same lane and count. Returns the operator and both checkpoints.
 *
 * @example
 * const { operator, honest, rival } = await equivocate(devnet, 0)
 */
export const equivocate = async (devnet: Devnet, index: number) => {
  const operator = devnet.config.operators[index]!
  const identity = operatorIdentity(devnet.config, operator)
  const { address } = identity
  const privateKey = localKeyOf(identity, "to sign a rival checkpoint")
  let honest: Checkpoint | undefined
  let epoch = 0
  await waitFor(
    `operator ${address} signed a checkpoint`,
    async () => {
      for await (const read of readEvents(devnet.bus, {
        topic: TOPICS.attestationsSigned.name,
        from: "earliest",
      })) {
        if (!read.ok || read.envelope.event._tag !== "AttestationSigned") continue
        if (read.envelope.event.operator.toLowerCase() === address.toLowerCase()) {
          honest = read.envelope.event.checkpoint
          epoch = read.envelope.event.epoch
          return true
        }
      }
      return false
    },
    { timeoutMs: 60_000 },
  )
  const rival = new Checkpoint({ ...honest!, root: EQUIVOCATED_ROOT })
  const domain = checkpointDomainOf(devnet.config)
  const signature = await signCheckpoint({
    account: privateKeyToAccount(privateKey),
    domain,
    checkpoint: toTypedCheckpoint(rival, epoch),
  })
  const asOperator = authenticatedBus(devnet.bus, { signer: signerFromSeed(deriveSigningKey(privateKey)) })
  await publishEvents(asOperator, [
    makeEnvelope(
      new AttestationSigned({
        checkpoint: rival,
        epoch,
        digest: checkpointDigest(domain, rival, epoch),
        operator: toAddress(address),
        signature: Hex.make(signature.toLowerCase()),
      }),
      { producer: producerOf("operator", address), causationId: null, time: new Date() },
    ),
  ])
  return { operator: address, honest: honest!, rival }
}
