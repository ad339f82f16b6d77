/**
 * A synthetic relay log for the incident-tool benchmarks (`bench:trace`, `bench:trace-startup`): per lane
 * of six, per checkpoint of 10 messages, the observations, the proposal, the range proof, 3 signatures
 * with their verdicts, the attestation, and a submitted and a confirmed `commitAndDeliver` that delivers
 * all ten. Every record is a real, schema-valid envelope from the service that writes it in a relay.
 *
 * @module
 */
import { keccak256, toHex } from "viem"
import { publishEvents } from "../bus/events/index.ts"
import type { BusPort as Bus } from "../bus/port.ts"
import {
  Address,
  AttestationSigned,
  BlockRef,
  Bytes32,
  ChainId,
  Checkpoint,
  CheckpointAttested,
  CheckpointProposed,
  DeliveryConfirmed,
  DeliverySubmitted,
  type Envelope,
  Hex,
  Lane,
  MessageId,
  MessageObserved,
  MessageOutcome,
  MessageProven,
  makeEnvelope,
  SignatureVerdict,
  TxHash,
  U256,
} from "../schemas/index.ts"
import { producerOf } from "../services/runtime/index.ts"
import { testMessage } from "../test/fixtures/message.ts"

export const PER_CHECKPOINT = 10
export const LANES = [
  [901, 902],
  [901, 903],
  [902, 901],
  [902, 903],
  [903, 901],
  [903, 902],
] as const
const OUTBOX = Address.make("0x5fbdb2315678afecb367f032d93f642f64180aa3")
const OPERATORS = ["0x1", "0x2", "0x3"].map((n) => Address.make(`0x${n.slice(2).padStart(40, "0")}`))
const word = (seed: string) => keccak256(toHex(seed))

/**
 * Writes every lane's messages of nonces `[from, to)` (`to` capped at `perLane`), checkpoint by checkpoint,
 * timed from `t0` (100 ms a nonce). Returns the ids of the messages written, in order, and the records.
 */
export const writeRelayLog = async (
  bus: Bus,
  { from, to, perLane, t0 }: { from: number; to: number; perLane: number; t0: number },
): Promise<{ ids: MessageId[]; records: number }> => {
  const ids: MessageId[] = []
  let records = 0
  for (const [src, dst] of LANES) {
    const lane = new Lane({ srcChainId: ChainId.make(src), outbox: OUTBOX, dstChainId: ChainId.make(dst) })
    for (let start = from; start < Math.min(to, perLane); start += PER_CHECKPOINT) {
      const batch: Envelope[] = []
      const at = new Date(t0 + start * 100)
      const envelope = (
        event: Parameters<typeof makeEnvelope>[0],
        service: "chain-watcher" | "proof-builder" | "operator" | "attestation-collector" | "submitter",
        cause: string | null,
      ) =>
        makeEnvelope(event, {
          producer: producerOf(service, String(src)),
          causationId: cause as never,
          time: at,
        })
      const messageIds: MessageId[] = []
      const messages = []
      let lastObserved = ""
      for (let nonce = start; nonce < Math.min(start + PER_CHECKPOINT, perLane); nonce++) {
        const message = testMessage({
          nonce,
          srcChainId: src,
          dstChainId: dst,
          body: `bench ${src}-${dst} #${nonce}`,
        })
        const id = MessageId.make(word(`${src}-${dst}-${nonce}`))
        messageIds.push(id)
        messages.push(message)
        ids.push(id)
        const observed = envelope(
          new MessageObserved({
            message,
            messageId: id,
            outbox: OUTBOX,
            block: new BlockRef({ number: nonce + 1, hash: Bytes32.make(word(`block ${src} ${nonce}`)) }),
            blockTimestamp: 1_700_000_000 + nonce,
            transactionHash: TxHash.make(word(`tx ${src} ${nonce}`)),
            logIndex: 0,
          }),
          "chain-watcher",
          null,
        )
        lastObserved = observed.id
        batch.push(observed)
      }
      const count = start + messageIds.length
      const checkpoint = new Checkpoint({
        srcChainId: ChainId.make(src),
        outbox: OUTBOX,
        dstChainId: ChainId.make(dst),
        root: Bytes32.make(word(`root ${src} ${dst} ${count}`)),
        count,
      })
      const proposed = envelope(
        new CheckpointProposed({
          checkpoint,
          previousCount: start,
          block: new BlockRef({ number: count, hash: Bytes32.make(word(`b${count}`)) }),
        }),
        "proof-builder",
        lastObserved,
      )
      batch.push(proposed)
      batch.push(
        envelope(
          new MessageProven({
            checkpoint,
            kind: "range",
            start,
            messages,
            messageIds,
            proof: [Bytes32.make(word("sibling"))],
          }),
          "proof-builder",
          lastObserved,
        ),
      )
      const digest = Bytes32.make(word(`digest ${count}`))
      for (const operator of OPERATORS) {
        const signature = Hex.make(`0x${"11".repeat(65)}`)
        const signed = envelope(
          new AttestationSigned({ checkpoint, epoch: 1, digest, operator, signature }),
          "operator",
          proposed.id,
        )
        batch.push(signed)
        batch.push(
          envelope(
            new SignatureVerdict({
              checkpoint,
              digest,
              operator,
              signer: operator,
              signature,
              result: "accepted",
              weight: U256.make("3000"),
              epoch: 1,
              reason: "member of the set",
            }),
            "attestation-collector",
            signed.id,
          ),
        )
      }
      batch.push(
        envelope(
          new CheckpointAttested({
            checkpoint,
            digest,
            epoch: 1,
            signatures: [],
            signedStake: U256.make("9000"),
            totalStake: U256.make("10000"),
            thresholdBps: 6667,
          }),
          "attestation-collector",
          proposed.id,
        ),
      )
      const tx = TxHash.make(word(`delivery ${src} ${dst} ${count}`))
      batch.push(
        envelope(
          new DeliverySubmitted({
            lane,
            action: "commitAndDeliver",
            messageIds,
            transactionHash: tx,
            nonce: count,
            maxFeePerGas: U256.make("1"),
            gasLimit: U256.make("1"),
            replaces: null,
          }),
          "submitter",
          null,
        ),
      )
      batch.push(
        envelope(
          new DeliveryConfirmed({
            lane,
            action: "commitAndDeliver",
            transactionHash: tx,
            block: new BlockRef({ number: count, hash: Bytes32.make(word(`d${count}`)) }),
            gasUsed: U256.make("1"),
            outcomes: messageIds.map(
              (messageId) => new MessageOutcome({ messageId, result: "delivered", reason: null }),
            ),
          }),
          "submitter",
          null,
        ),
      )
      await publishEvents(bus, batch)
      records += batch.length
    }
  }
  return { ids, records }
}
