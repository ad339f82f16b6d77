import { getAddress } from "viem"
import { foundry } from "viem/chains"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ANVIL_DEFAULT_KEYS, type Anvil, anvilClients, startAnvil } from "../anvil/index.ts"
import { inboxAbi, operatorRegistryAbi, pingRecipientAbi } from "../out/index.ts"
import {
  ConfigurationError,
  configureInbox,
  type DeployClients,
  deployInbox,
  deployOperatorRegistry,
  deployOutbox,
  deployPingRecipient,
  readOperatorSet,
} from "./index.ts"

let anvil: Anvil
let clients: DeployClients
beforeAll(async () => {
  anvil = await startAnvil({ chainId: foundry.id })
  const { publicClient, wallet } = anvilClients(anvil)
  clients = { publicClient, walletClient: wallet(ANVIL_DEFAULT_KEYS[0]) }
}, 60_000)
afterAll(async () => {
  await anvil?.stop()
})

describe("deploy helpers", () => {
  it("deploy every contract, sort operators, and mirror the set into an Inbox", async () => {
    const operators = [
      { address: "0x00000000000000000000000000000000000000b2" as const, weight: 2n },
      { address: "0x00000000000000000000000000000000000000a1" as const, weight: 1n },
    ]
    const registry = await deployOperatorRegistry(clients, { operators, thresholdBps: 5000 })
    const outbox = await deployOutbox(clients)
    const inbox = await deployInbox(clients, { registryChainId: foundry.id, registry })
    const ping = await deployPingRecipient(clients, { inbox })
    for (const address of [registry, outbox, inbox, ping])
      expect(await clients.publicClient.getCode({ address })).toMatch(/^0x.+/)
    const set = await readOperatorSet({ publicClient: clients.publicClient, registry })
    expect(set.operators).toEqual([getAddress(operators[1]!.address), getAddress(operators[0]!.address)])
    expect(set.weights).toEqual([1n, 2n])
    await configureInbox(clients, { inbox, operatorSet: set, sources: [{ chainId: 5n, outbox }] })
    // Mirroring the same epoch again is skipped, not an error.
    await configureInbox(clients, { inbox, operatorSet: set })
    const read = (functionName: string, args: readonly unknown[] = []) =>
      clients.publicClient.readContract({ address: inbox, abi: inboxAbi, functionName, args } as never)
    expect(await read("epoch")).toBe(1n)
    expect(await read("source", [5n])).toEqual([outbox, false])
    expect(
      await clients.publicClient.readContract({
        address: ping,
        abi: pingRecipientAbi,
        functionName: "inbox",
      }),
    ).toBe(inbox)
    expect(
      await clients.publicClient.readContract({
        address: registry,
        abi: operatorRegistryAbi,
        functionName: "owner",
      }),
    ).toBe(clients.walletClient.account.address)
  })

  it("reports a configuration step that reverts", async () => {
    const inbox = await deployInbox(clients, {
      registryChainId: foundry.id,
      registry: "0x0000000000000000000000000000000000001234",
      owner: "0x0000000000000000000000000000000000005678",
    })
    await expect(
      configureInbox(clients, { inbox, sources: [{ chainId: 5n, outbox: inbox }] }),
    ).rejects.toThrow()
    void ConfigurationError
  })
})
