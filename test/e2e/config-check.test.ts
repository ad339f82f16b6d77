/**
 * `chorus config check` against live chains, as an operator preparing a
 * deployment runs it: a devnet's own config passes, and a config broken in
 * every way the chains can show (an RPC that does not answer, an RPC of
 * another chain, an address with no contract, a key that does not open, an
 * operator outside the hub's set, a submitter with no funds, keys written in
 * the file) names every problem at once, with its config path.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { privateKeyToAccount } from "viem/accounts"
import { afterAll, describe, expect, it } from "vitest"
import { main } from "../../cli/main.ts"
import { fakeWeb3Signer } from "../fixtures/web3signer.ts"
import { useEmbeddedDevnet } from "./embedded-devnet.ts"

const net = useEmbeddedDevnet("config-check")
const written: string[] = []
afterAll(() => {
  for (const file of written) rmSync(file, { force: true })
})

const check = async (file: string) => {
  const out: string[] = []
  const err: string[] = []
  const code = await main(["config", "check", "--config", file, "--timeout", "5"], {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  })
  return { code, lines: out, err: err.join("\n") }
}

describe("chorus config check", () => {
  it("given the devnet's own config, finds nothing to fix", async () => {
    const { code, lines } = await check(net.devnet.configPath)
    expect(lines.filter((l) => l.startsWith("PROBLEM"))).toEqual([])
    expect(lines.at(-1)).toMatch(/no problem found in \d+ check\(s\)$/)
    expect(code).toBe(0)
  }, 60_000)

  it("given a config broken in every way the chains show, names every problem by its path", async () => {
    const config = JSON.parse(readFileSync(net.devnet.configPath, "utf8"))
    const urls = config.chains.map((c: { rpcUrls: string[] }) => c.rpcUrls[0])
    config.chains[0].rpcUrls.push("http://127.0.0.1:1")
    config.chains[1].rpcUrls = [urls[2]]
    config.chains[2].inbox = "0x000000000000000000000000000000000000dEaD"
    config.operators[0].privateKey = "env:CHORUS_TEST_NO_SUCH_KEY"
    config.operators.push({ privateKey: `0x${"77".repeat(32)}` })
    config.submitters[2].privateKey = `0x${"78".repeat(32)}`
    // Operator 1's signer holds another key; operator 2's holds its own, but has no bus key under authentication;
    // operator 3's holds its own, with a bus key.
    const stranger = await fakeWeb3Signer(`0x${"79".repeat(32)}`)
    const signers = [
      stranger,
      await fakeWeb3Signer(config.operators[2].privateKey),
      await fakeWeb3Signer(config.operators[3].privateKey),
    ]
    const remote = (index: number, signer: { url: string }) => ({
      web3signer: signer.url,
      publicKey: privateKeyToAccount(config.operators[index].privateKey).publicKey,
    })
    process.env.CHORUS_TEST_BUS_KEY_3 = `0x${"7a".repeat(32)}`
    config.operators[3].busKey = "env:CHORUS_TEST_BUS_KEY_3"
    config.operators[1].privateKey = remote(1, stranger)
    config.operators[2].privateKey = remote(2, signers[1]!)
    config.operators[3].privateKey = remote(3, signers[2]!)
    // Not beside devnet.json: a production config, whose hex keys are a problem too.
    const file = join(net.dir, "..", `chorus-config-check-${process.pid}.json`)
    written.push(file)
    writeFileSync(file, JSON.stringify(config))
    const { code, lines } = await check(file).finally(() =>
      Promise.all(signers.map((signer) => signer.close())),
    )
    const problems = lines.filter((l) => l.startsWith("PROBLEM")).join("\n")
    for (const expected of [
      /chains\[0\]\.rpcUrls\[1\]: .*http:\/\/127\.0\.0\.1:1/,
      /chains\[1\]\.rpcUrls\[0\]: the RPC at .*, configured for chain 902, serves chain 903/,
      /chains\[2\]\.inbox: no contract at 0x000000000000000000000000000000000000dead on chain 903/,
      /operators\[0\]\.privateKey: CHORUS_TEST_NO_SUCH_KEY is not set/,
      /operators\[4\]: 0x[0-9a-fA-F]{40} is not in the hub registry's set/,
      /submitters\[2\]: 0x[0-9a-fA-F]{40} holds nothing on chain 903/,
      /submitters\[0\]\.privateKey: a private key written in the file/,
      /operators\[1\]\.privateKey: the signer lists 1 key\(s\), and not 0x/,
      /operators\[2\]\.busKey: bus\.authentication is on and the key is in a remote signer/,
    ]) {
      expect(problems).toMatch(expected)
    }
    expect(problems).not.toContain("77".repeat(8))
    expect(problems).not.toMatch(/operators\[3\]/)
    expect(lines.join("\n")).toMatch(/operators\[3\]\.privateKey: the remote signer holds the key of 0x/)
    expect(code).toBe(1)
  }, 60_000)

  it("given a file that does not decode, lists every problem of the file and exits 2", async () => {
    const file = join(net.dir, "..", `chorus-config-bad-${process.pid}.json`)
    written.push(file)
    writeFileSync(
      file,
      JSON.stringify({
        network: { registryChainId: 901, registry: "0x12" },
        chains: [
          { chainId: 901, rpcUrls: ["http://x"], outbox: "0xZZ", inbox: "0x12", finality: { tag: "latest" } },
        ],
        submiters: [],
      }),
    )
    const { code, err } = await check(file)
    expect(code).toBe(2)
    for (const path of [
      "network.registry",
      "chains[0].outbox",
      "chains[0].inbox",
      "chains[0].finality",
      "submiters",
    ]) {
      expect(err).toContain(`  - ${path}:`)
    }
  })
})
