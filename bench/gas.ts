/**
 * Gas report for Chorus's on-chain half: `npm run bench:gas` (add `-- --json` for a machine-readable last line).
 *
 * For each operator set (4 and 16 operators, equal stake, threshold 2/3, every operator signs) and batch size
 * (1, 8, 32, 64, 256), it measures on a fresh anvil the transactions a submitter sends for one checkpoint whose new
 * messages are the batch: `commit` then `deliver` (batch 1 uses the one-transaction `commitAndDeliver`; its
 * commitGas is what a standalone commit costs in the same state and deliverGas the rest of that transaction).
 * gasPerMessage = (commitGas + deliverGas) / batch, so it includes the 21,000 base cost of each transaction and
 * calldata. The recipient does nothing, so only Chorus's own cost is counted.
 *
 * The lane already carries `--prefill` messages (default 1000), committed and delivered, so each row measures a lane
 * in use (bitmap words and proof edges as in steady state) rather than the first message ever sent; `--prefill 0`
 * measures a brand-new lane.
 */
import {
  type Account,
  type Address,
  type Chain,
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  type Hex,
  http,
  keccak256,
  type LocalAccount,
  type PublicClient,
  stringToHex,
  type Transport,
  toHex,
  type WalletClient,
} from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { ANVIL_DEFAULT_KEYS, startAnvil } from "../contracts/anvil/index.ts"
import {
  type Checkpoint,
  getCheckpointDomain,
  packSignatures,
  signCheckpoint,
} from "../contracts/checkpoint/index.ts"
import { deployContract, deployInbox } from "../contracts/deploy/index.ts"
import { buildDeliverArgs } from "../contracts/inbox/index.ts"
import { type ChorusMessage, encodeMessages, getMessageId } from "../contracts/message/index.ts"
import { inboxAbi, noopRecipientAbi, noopRecipientBytecode } from "../contracts/out/index.ts"
import {
  appendLeaf,
  createMerkleTree,
  getRangeProof,
  type MerkleTree,
} from "../services/proof-builder/merkle/index.ts"

const BATCHES = [1, 8, 32, 64, 256]
const OPERATOR_SETS = [4, 16]
const THRESHOLD_BPS = 6667
const BODY = toHex(new Uint8Array(32).fill(0xab))
const GAS_LIMIT = 50_000n
const SRC_CHAIN_ID = 777n
const SRC_OUTBOX: Address = "0x00000000000000000000000000000000000a11ce"
const REGISTRY: Address = "0x0000000000000000000000000000000000001234"
const DEPLOYER_KEY = ANVIL_DEFAULT_KEYS[0]

type Row = { batch: number; operators: number; gasPerMessage: number; commitGas: number; deliverGas: number }

function parseArgs(argv: string[]) {
  const json = argv.includes("--json")
  const i = argv.indexOf("--prefill")
  const prefill = i >= 0 ? Number(argv[i + 1]) : 1000
  if (!Number.isInteger(prefill) || prefill < 0) {
    console.error("bench:gas: --prefill takes a non-negative integer (messages already in the lane).")
    process.exit(2)
  }
  return { json, prefill }
}

async function main() {
  const { json, prefill } = parseArgs(process.argv.slice(2))
  const log = json ? (..._: unknown[]) => {} : console.log
  const chainId = 31337
  const anvil = await startAnvil({ chainId, args: ["--gas-limit", "30000000"] })
  try {
    const chain: Chain = defineChain({
      id: chainId,
      name: "anvil",
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: [anvil.rpcUrl] } },
    })
    const transport = http(anvil.rpcUrl)
    const publicClient = createPublicClient({ chain, transport }) as PublicClient
    const walletClient = createWalletClient({
      chain,
      transport,
      account: privateKeyToAccount(DEPLOYER_KEY),
    }) as WalletClient<Transport, Chain | undefined, Account>
    const testClient = createTestClient({ chain, transport, mode: "anvil" })
    const clients = { walletClient, publicClient }
    const domain = getCheckpointDomain({ registryChainId: chainId, registry: REGISTRY })
    const recipient = await deployContract(clients, {
      name: "NoopRecipient",
      abi: noopRecipientAbi,
      bytecode: noopRecipientBytecode,
      args: [],
    })

    const send = async (functionName: string, args: readonly unknown[], inbox: Address) => {
      const hash = await walletClient.writeContract({
        address: inbox,
        abi: inboxAbi,
        functionName,
        args,
        account: walletClient.account,
        chain,
        gas: 16_000_000n,
      } as never)
      const receipt = await publicClient.waitForTransactionReceipt({ hash })
      if (receipt.status !== "success") throw new Error(`${functionName} reverted in tx ${hash}`)
      return Number(receipt.gasUsed)
    }

    const maxBatch = Math.max(...BATCHES)
    const messages: ChorusMessage[] = Array.from({ length: prefill + maxBatch }, (_, nonce) => ({
      version: 1,
      nonce,
      srcChainId: SRC_CHAIN_ID,
      sender: "0x000000000000000000000000000000000000beef",
      dstChainId: BigInt(chainId),
      recipient,
      gasLimit: GAS_LIMIT,
      body: BODY,
    }))
    const tree: MerkleTree = createMerkleTree()
    for (const m of messages) appendLeaf(tree, getMessageId(m))
    const checkpointAt = (count: number): Checkpoint => ({
      srcChainId: SRC_CHAIN_ID,
      outbox: SRC_OUTBOX,
      dstChainId: BigInt(chainId),
      root: getRangeProof(tree, { start: 0, end: count, count }).root,
      count,
    })
    const signAll = async (operators: LocalAccount[], checkpoint: Checkpoint): Promise<Hex> =>
      packSignatures(
        await Promise.all(
          operators.map(async (account) => ({
            signer: account.address,
            signature: await signCheckpoint({ account, domain, checkpoint }),
          })),
        ),
      )

    const rows: Row[] = []
    for (const n of OPERATOR_SETS) {
      const operators = Array.from({ length: n }, (_, i) =>
        privateKeyToAccount(keccak256(stringToHex(`bench-operator-${i}`))),
      ).sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1))
      const inbox = await deployInbox(clients, { registryChainId: chainId, registry: REGISTRY })
      await send(
        "setOperatorSet",
        [operators.map((o) => o.address), operators.map(() => 1n), THRESHOLD_BPS, 1n],
        inbox,
      )
      await send("setSource", [SRC_CHAIN_ID, SRC_OUTBOX], inbox)
      if (prefill > 0) {
        const checkpoint = checkpointAt(prefill)
        await send("commit", [checkpoint, await signAll(operators, checkpoint)], inbox)
        for (let start = 0; start < prefill; start += 500) {
          const end = Math.min(prefill, start + 500)
          const proof = getRangeProof(tree, { start, end, count: prefill })
          await send(
            "deliver",
            buildDeliverArgs({ outbox: SRC_OUTBOX, messages: messages.slice(start, end), proof }),
            inbox,
          )
        }
      }
      for (const batch of BATCHES) {
        const snapshot = await testClient.snapshot()
        const count = prefill + batch
        const checkpoint = checkpointAt(count)
        const signatures = await signAll(operators, checkpoint)
        const proof = getRangeProof(tree, { start: prefill, end: count, count })
        const batchMessages = messages.slice(prefill, count)
        let commitGas: number
        let deliverGas: number
        if (batch === 1) {
          commitGas = await send("commit", [checkpoint, signatures], inbox)
          await testClient.revert({ id: snapshot })
          const inner = await testClient.snapshot()
          const total = await send(
            "commitAndDeliver",
            [checkpoint, signatures, prefill, encodeMessages(batchMessages), proof.siblings],
            inbox,
          )
          deliverGas = total - commitGas
          await testClient.revert({ id: inner })
        } else {
          commitGas = await send("commit", [checkpoint, signatures], inbox)
          deliverGas = await send(
            "deliver",
            buildDeliverArgs({ outbox: SRC_OUTBOX, messages: batchMessages, proof }),
            inbox,
          )
        }
        await testClient.revert({ id: snapshot })
        const gasPerMessage = Math.round((commitGas + deliverGas) / batch)
        rows.push({ batch, operators: n, gasPerMessage, commitGas, deliverGas })
        log(
          `${String(n).padStart(9)} ${String(batch).padStart(6)} ${String(commitGas).padStart(10)} ${String(deliverGas).padStart(11)} ${String(gasPerMessage).padStart(14)}`,
        )
      }
    }
    if (json) {
      console.log(JSON.stringify({ rows }))
    } else {
      const target64 = rows.find((r) => r.batch === 64 && r.operators === 4)!
      const single = rows.find((r) => r.batch === 1 && r.operators === 4)!
      console.log(
        `\ntargets: batch 64 / 4 operators ${target64.gasPerMessage} <= 10000 ${target64.gasPerMessage <= 10_000 ? "ok" : "MISSED"}; ` +
          `single message / 4 operators ${single.gasPerMessage} <= 100000 ${single.gasPerMessage <= 100_000 ? "ok" : "MISSED"}`,
      )
    }
  } finally {
    await anvil.stop()
  }
}

if (!process.argv.includes("--json")) {
  console.log(
    "Chorus gas report (anvil; equal stake, threshold 2/3, all operators sign; 32-byte bodies; no-op recipient)\n" +
      "operators  batch  commitGas  deliverGas  gasPerMessage",
  )
}
await main()
