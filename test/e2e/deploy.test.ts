/**
 * `chorus deploy` on fresh chains, as an operator preparing a network runs
 * it: a config with no contracts yet (0x000…0) gets the registry on its hub,
 * an Outbox and an Inbox on every chain, every Inbox trusting the hub's set
 * and taking every other chain's Outbox; the addresses are written back into
 * the config and the synced operator config. A second run sends nothing and
 * says so, and `chorus config check` then finds nothing to fix.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createPublicClient, http, type PublicClient } from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  ANVIL_DEFAULT_KEYS,
  type Anvil,
  inboxAbi,
  readOperatorSet,
  startAnvil,
} from "../../contracts/index.ts"
import { runCli } from "../fixtures/run-cli.ts"

const ZERO = "0x0000000000000000000000000000000000000000"
const OPERATOR_KEYS = [`0x${"a1".repeat(32)}`, `0x${"a2".repeat(32)}`, `0x${"a3".repeat(32)}`] as const

describe("chorus deploy", () => {
  const dir = mkdtempSync(join(tmpdir(), "chorus-deploy-"))
  const anvils: Anvil[] = []
  const config = join(dir, "chorus.json")
  const operatorConfig = join(dir, "operator-0.json")
  const env = { CHORUS_TEST_DEPLOYER: ANVIL_DEFAULT_KEYS[0], CHORUS_TEST_SUBMITTER: ANVIL_DEFAULT_KEYS[1] }

  beforeAll(async () => {
    for (const chainId of [901, 902]) anvils.push(await startAnvil({ chainId, slotsInAnEpoch: 1 }))
    const chains = anvils.map((a) => ({ chainId: a.chainId, rpcUrls: [a.rpcUrl], outbox: ZERO, inbox: ZERO }))
    const network = { registryChainId: 901, registry: ZERO }
    writeFileSync(
      config,
      JSON.stringify({
        network,
        chains,
        operators: OPERATOR_KEYS.map((_, i) => ({ privateKey: `env:CHORUS_TEST_OPERATOR_${i}` })),
        submitters: [{ chainId: 902, privateKey: "env:CHORUS_TEST_SUBMITTER" }],
      }),
    )
    writeFileSync(
      operatorConfig,
      JSON.stringify({ network, chains, operators: [{ privateKey: "env:CHORUS_TEST_OPERATOR_0" }] }),
    )
    Object.assign(process.env, env, ...OPERATOR_KEYS.map((k, i) => ({ [`CHORUS_TEST_OPERATOR_${i}`]: k })))
  }, 60_000)

  afterAll(async () => {
    await Promise.allSettled(anvils.map((a) => a.stop()))
    rmSync(dir, { recursive: true, force: true })
  })

  const deploy = () =>
    runCli([
      "deploy",
      "--config",
      config,
      "--deployer-key",
      "env:CHORUS_TEST_DEPLOYER",
      "--sync",
      operatorConfig,
    ])

  it("deploys every contract, configures every Inbox and writes the addresses back; a second run changes nothing", async () => {
    const first = await deploy()
    expect(first.code, first.text).toBe(0)
    expect(first.text).toMatch(/deployed the OperatorRegistry .* on 901 at 0x/)
    expect(first.text).toMatch(/registered chain 901's Outbox .* on the Inbox on 902/)
    const written = JSON.parse(readFileSync(config, "utf8"))
    expect(written.network.registry).not.toBe(ZERO)
    expect(JSON.parse(readFileSync(operatorConfig, "utf8")).chains).toEqual(written.chains)

    // Ground truth on the chains: the hub's set is the configured operators, each Inbox trusts it and takes the
    // other chain's Outbox.
    const clientOf = (anvil: Anvil) => createPublicClient({ transport: http(anvil.rpcUrl) }) as PublicClient
    const set = await readOperatorSet({
      publicClient: clientOf(anvils[0]!),
      registry: written.network.registry,
    })
    expect(set.operators.map((a) => a.toLowerCase()).sort()).toEqual(
      OPERATOR_KEYS.map((k) => privateKeyToAccount(k).address.toLowerCase()).sort(),
    )
    for (const [i, anvil] of anvils.entries()) {
      const inbox = written.chains[i].inbox
      const other = written.chains[1 - i]
      expect(
        await clientOf(anvil).readContract({ address: inbox, abi: inboxAbi, functionName: "epoch" }),
      ).toBe(set.epoch)
      const [outbox] = await clientOf(anvil).readContract({
        address: inbox,
        abi: inboxAbi,
        functionName: "source",
        args: [BigInt(other.chainId)],
      })
      expect(outbox.toLowerCase()).toBe(other.outbox.toLowerCase())
    }

    const before = readFileSync(config, "utf8")
    const second = await deploy()
    expect(second.code, second.text).toBe(0)
    expect(second.text).toContain("nothing to do")
    expect(second.text).not.toMatch(/^(deployed|registered|set|wrote) /m)
    expect(readFileSync(config, "utf8")).toBe(before)

    const check = await runCli(["config", "check", "--config", config, "--timeout", "5"])
    expect(
      check.out.filter((l) => l.startsWith("PROBLEM")),
      check.text,
    ).toEqual([])
  }, 180_000)

  it("refuses to reuse a configured address that holds another contract, naming it", async () => {
    const written = JSON.parse(readFileSync(config, "utf8"))
    const wrong = join(dir, "wrong.json")
    // The Inbox address of chain 902 names its Outbox: code, but no Inbox.
    written.chains[1].inbox = written.chains[1].outbox
    writeFileSync(wrong, JSON.stringify(written))
    const { code, text } = await runCli([
      "deploy",
      "--config",
      wrong,
      "--deployer-key",
      "env:CHORUS_TEST_DEPLOYER",
    ])
    expect(code).toBe(1)
    expect(text).toContain(
      `the contract at ${written.chains[1].outbox.toLowerCase()} on chain 902 is not an Inbox`,
    )
    expect(JSON.parse(readFileSync(wrong, "utf8")).chains[1].inbox).toBe(written.chains[1].outbox)
  })

  it("refuses a deployer key written on the command line, and names it", async () => {
    const { code, text } = await runCli([
      "deploy",
      "--config",
      config,
      "--deployer-key",
      ANVIL_DEFAULT_KEYS[0],
    ])
    expect(code).toBe(2)
    expect(text).toContain("--deployer-key: give env:NAME, not the key itself")
    expect(text).not.toContain(ANVIL_DEFAULT_KEYS[0].slice(2, 20))
  })
})
