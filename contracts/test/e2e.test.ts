import {
  type Address,
  type Chain,
  keccak256,
  type PublicClient,
  parseEventLogs,
  stringToHex,
  toHex,
} from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  appendLeaf,
  createMerkleTree,
  getRangeProof,
  getRoot,
} from "../../services/proof-builder/merkle/index.ts"
import { type AccountWallet, type Anvil, anvilClients, startAnvil } from "../anvil/index.ts"
import {
  type Checkpoint,
  getCheckpointDomain,
  packSignatures,
  recoverCheckpointSigner,
  signCheckpoint,
} from "../checkpoint/index.ts"
import {
  configureInbox,
  deployInbox,
  deployOperatorRegistry,
  deployOutbox,
  deployPingRecipient,
  readOperatorSet,
} from "../deploy/index.ts"
import { buildDeliverArgs } from "../inbox/index.ts"
import { inboxAbi, outboxAbi, pingRecipientAbi } from "../out/index.ts"
import { ANVIL_KEYS } from "./world.ts"

// Two chains, as in the devnet: the hub (901) holds the registry and sends; 902 receives.

type Side = {
  anvil: Anvil
  chain: Chain
  publicClient: PublicClient
  walletClient: AccountWallet
}

async function side(chainId: number): Promise<Side> {
  const anvil = await startAnvil({ chainId })
  const { chain, publicClient, wallet } = anvilClients(anvil, `chain-${chainId}`)
  return { anvil, chain, publicClient, walletClient: wallet(ANVIL_KEYS[0]) }
}

const operators = Array.from({ length: 4 }, (_, i) => privateKeyToAccount(keccak256(stringToHex(`e2e-${i}`))))
let hub: Side
let dst: Side

beforeAll(async () => {
  ;[hub, dst] = await Promise.all([side(901), side(902)])
}, 60_000)
afterAll(async () => {
  await Promise.all([hub?.anvil.stop(), dst?.anvil.stop()])
})

describe("end to end: Outbox on one chain, Inbox on another", () => {
  it("deploys with the helpers, sends, signs the chain's own checkpoint, commits and delivers", async () => {
    const registry = await deployOperatorRegistry(hub, {
      operators: operators.map((o) => ({ address: o.address, weight: 10n })),
      thresholdBps: 6667,
    })
    const outbox = await deployOutbox(hub)
    const inbox = await deployInbox(dst, { registryChainId: 901, registry })
    const ping = await deployPingRecipient(dst, { inbox })
    await configureInbox(dst, {
      inbox,
      operatorSet: await readOperatorSet({ publicClient: hub.publicClient, registry }),
      sources: [{ chainId: 901n, outbox }],
    })
    expect(
      await dst.publicClient.readContract({ address: inbox, abi: inboxAbi, functionName: "epoch" }),
    ).toBe(1n)

    const tree = createMerkleTree()
    const messages = []
    for (let i = 0; i < 6; i++) {
      const hash = await hub.walletClient.writeContract({
        address: outbox,
        abi: outboxAbi,
        functionName: "send",
        args: [902n, ping, 150_000n, toHex(`ping ${i}`)],
        account: hub.walletClient.account,
        chain: hub.chain,
      })
      const receipt = await hub.publicClient.waitForTransactionReceipt({ hash })
      const [event] = parseEventLogs({ abi: outboxAbi, logs: receipt.logs, eventName: "MessageSent" })
      messages.push(event!.args.message)
      appendLeaf(tree, event!.args.messageId)
    }
    // Operators sign what their own RPC shows, not what they are told.
    const lane = (await hub.publicClient.readContract({
      address: outbox,
      abi: outboxAbi,
      functionName: "latestCheckpoint",
      args: [902n],
    })) as Omit<Checkpoint, "epoch">
    expect(lane.root).toBe(getRoot(tree))
    // Under the epoch of the set the destination Inbox trusts, read on its own chain.
    const epoch = (await dst.publicClient.readContract({
      address: inbox,
      abi: inboxAbi,
      functionName: "epoch",
    })) as bigint
    const onChain: Checkpoint = { ...lane, epoch }
    const domain = getCheckpointDomain({ registryChainId: 901, registry })
    const signatures = await Promise.all(
      operators.map(async (account) => ({
        signer: account.address,
        signature: await signCheckpoint({ account, domain, checkpoint: onChain }),
      })),
    )
    for (const s of signatures) {
      expect(await recoverCheckpointSigner({ domain, checkpoint: onChain, signature: s.signature })).toBe(
        s.signer,
      )
    }
    const write = async (functionName: string, args: readonly unknown[]) => {
      const hash = await dst.walletClient.writeContract({
        address: inbox,
        abi: inboxAbi,
        functionName,
        args,
        account: dst.walletClient.account,
        chain: dst.chain,
      } as never)
      return dst.publicClient.waitForTransactionReceipt({ hash })
    }
    expect((await write("commit", [onChain, packSignatures(signatures)])).status).toBe("success")
    const proof = getRangeProof(tree, { start: 0, end: 6, count: onChain.count })
    const receipt = await write("deliver", buildDeliverArgs({ outbox, messages, proof }))
    expect(parseEventLogs({ abi: inboxAbi, logs: receipt.logs, eventName: "MessageDelivered" })).toHaveLength(
      6,
    )
    const sender = hub.walletClient.account.address
    expect(
      await dst.publicClient.readContract({
        address: ping,
        abi: pingRecipientAbi,
        functionName: "pings",
        args: [901n, sender],
      }),
    ).toBe(6n)
    expect(
      await dst.publicClient.readContract({ address: ping, abi: pingRecipientAbi, functionName: "lastBody" }),
    ).toBe(toHex("ping 5"))
  })

  it("the example recipient only accepts its Inbox", async () => {
    const ping: Address = await deployPingRecipient(dst, {
      inbox: "0x0000000000000000000000000000000000000001",
    })
    await expect(
      dst.publicClient.simulateContract({
        address: ping,
        abi: pingRecipientAbi,
        functionName: "handle",
        args: [901n, ping, "0x"],
        account: dst.walletClient.account,
      }),
    ).rejects.toThrow(/NotInbox/)
  })
})
