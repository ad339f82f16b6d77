// What `chorus devnet open-recipients` says when it cannot act: no flag, no devnet.json, a broken one, a devnet
// that is not running, a chain that is not the one described. The happy path runs against a real devnet in
// devnet-reverting.test.ts.
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { startAnvil } from "../../contracts/index.ts"
import { closedPort } from "../../test/fixtures/ports.ts"
import { runCommand } from "../../test/fixtures/run-cli.ts"
import { useTempDirs } from "../../test/fixtures/temp-dirs.ts"
import { parseCommandArgs, UsageError } from "../command.ts"
import { DevnetFileInvalidError, DevnetFileMissingError } from "../devnet/devnet-file.ts"
import { DevnetMismatchError, DevnetNotRunningError } from "../devnet/gates.ts"
import { ANVIL_KEYS } from "../devnet/world.ts"
import { devnetOpenRecipients } from "./devnet-open-recipients.ts"

const tempDir = useTempDirs("chorus-open-recipients-")

const run = (argv: ReadonlyArray<string>) => runCommand(devnetOpenRecipients, argv)

const A = (n: number) => `0x${n.toString(16).padStart(40, "0")}`

/** A well-formed devnet.json for one chain at `rpcUrl`. */
const devnetJson = (rpcUrl: string, chainId = 901) => ({
  version: 1,
  config: "config.json",
  bus: { kind: "embedded", dataDir: "/nowhere/log" },
  network: { registryChainId: chainId, registry: A(1) },
  chains: [{ chainId, rpcUrl, outbox: A(2), inbox: A(3), pingRecipient: A(4), gatedRecipient: A(5) }],
  gatedRecipientOwner: {
    anvilAccount: 0,
    address: "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
    privateKey: ANVIL_KEYS.deployer,
  },
  trafficSender: { anvilAccount: 4, address: "0x15d34aaf54267db7d7c367839aaf71a00a2c6a65" },
})

const writeDevnet = async (content: unknown) => {
  const dir = await tempDir()
  writeFileSync(join(dir, "devnet.json"), typeof content === "string" ? content : JSON.stringify(content))
  return dir
}

describe("chorus devnet open-recipients, when it cannot act", () => {
  it("requires --data-dir and takes no arguments", async () => {
    await expect(run([])).rejects.toThrow(new UsageError("--data-dir is required"))
    expect(() => parseCommandArgs(devnetOpenRecipients, ["--data-dir", "x", "extra"])).toThrow(UsageError)
  })

  it("names the missing devnet.json and says which directory it needs", async () => {
    const dir = await tempDir()
    const failure = run(["--data-dir", dir])
    await expect(failure).rejects.toBeInstanceOf(DevnetFileMissingError)
    await expect(failure).rejects.toThrow(`no devnet description at ${join(dir, "devnet.json")}`)
  })

  it("lists every problem of a devnet.json that is not one, by path", async () => {
    const broken = devnetJson("ftp://x") as Record<string, unknown>
    broken.chains = [{ ...(broken.chains as object[])[0]!, gatedRecipient: "0x12" }]
    const failure = run(["--data-dir", await writeDevnet(broken)])
    await expect(failure).rejects.toBeInstanceOf(DevnetFileInvalidError)
    await expect(failure).rejects.toThrow(/chains\[0\]\.rpcUrl: expected an http\(s\) URL/)
    await expect(failure).rejects.toThrow(/chains\[0\]\.gatedRecipient: expected an address/)
    await expect(run(["--data-dir", await writeDevnet("{ not json")])).rejects.toThrow(/not valid JSON/)
  })

  it("says the devnet is not running when its chain does not answer", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`
    const failure = run(["--data-dir", await writeDevnet(devnetJson(url))])
    await expect(failure).rejects.toBeInstanceOf(DevnetNotRunningError)
    await expect(failure).rejects.toThrow(`chain 901 does not answer at ${url}`)
    await expect(failure).rejects.toThrow("No gate was changed.")
  })

  it("refuses a chain that answers but is not the one devnet.json describes", async () => {
    const anvil = await startAnvil({ chainId: 31337 })
    try {
      const wrongId = run(["--data-dir", await writeDevnet(devnetJson(anvil.rpcUrl, 901))])
      await expect(wrongId).rejects.toBeInstanceOf(DevnetMismatchError)
      await expect(wrongId).rejects.toThrow("it has chain id 31337")
      const noContract = run(["--data-dir", await writeDevnet(devnetJson(anvil.rpcUrl, 31337))])
      await expect(noContract).rejects.toThrow(`no contract at the GatedRecipient ${A(5)}`)
    } finally {
      await anvil.stop()
    }
  })
})
