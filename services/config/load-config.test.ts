import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { privateKeyToAccount } from "viem/accounts"
import { describe, expect, it } from "vitest"
import { operatorIdentity } from "./identities.ts"
import { encryptKeystore } from "./keystore.ts"
import { ConfigError, decodeConfig, loadConfig, plaintextKeysOf, resolvePrivateKey } from "./load-config.ts"

const address = (n: number) => `0x${n.toString(16).padStart(40, "0")}`
const valid = {
  network: { registryChainId: 901, registry: address(1) },
  chains: [{ chainId: 901, rpcUrls: ["http://127.0.0.1:8545"], outbox: address(2), inbox: address(3) }],
}

describe("decodeConfig", () => {
  it("fills every default", () => {
    const config = decodeConfig(valid)
    expect(config.chains[0]!.finality).toEqual({ tag: "finalized" })
    expect(config.proofBuilder.chunkSize).toBe(32)
    expect(config.chainWatcher.initialRange).toBe(500)
    expect(config.operators).toEqual([])
  })

  it("reads each finality rule: the finalized tag, the safe tag, a confirmation depth", () => {
    const withFinality = (finality: unknown) =>
      decodeConfig({ ...valid, chains: [{ ...valid.chains[0]!, finality }] }).chains[0]!.finality
    expect(withFinality({ tag: "finalized" })).toEqual({ tag: "finalized" })
    expect(withFinality({ tag: "safe" })).toEqual({ tag: "safe" })
    expect(withFinality({ confirmations: 12 })).toEqual({ confirmations: 12 })
    expect(() => withFinality({ tag: "latest" })).toThrow(ConfigError)
  })

  it("lists every problem by path, not only the first", () => {
    const bad = {
      network: { registryChainId: -1, registry: "0x12" },
      chains: [
        { chainId: 901, rpcUrls: [], outbox: address(2), inbox: "nope", finality: { confirmations: -3 } },
      ],
      proofBuilder: { chunkSize: 0 },
      submitters: [{ chainId: 902, privateKey: "0xabc" }],
    }
    let error: unknown
    try {
      decodeConfig(bad, "bad.json")
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ConfigError)
    const paths = (error as ConfigError).issues.map((i) => i.path)
    expect(paths).toEqual(
      expect.arrayContaining([
        "network.registryChainId",
        "network.registry",
        "chains[0].rpcUrls",
        "chains[0].inbox",
        "proofBuilder.chunkSize",
        "submitters[0].privateKey",
      ]),
    )
    expect((error as ConfigError).message).toContain("bad.json")
    expect((error as ConfigError).message).toContain("submitters[0].privateKey")
  })

  const issuesOf = (input: unknown) => {
    try {
      decodeConfig(input, "chorus.json")
    } catch (error) {
      if (error instanceof ConfigError) return error.issues
      throw error
    }
    throw new Error("decoded")
  }

  it("given a misspelt key anywhere, then it names it instead of dropping it and using the default", () => {
    expect(
      issuesOf({
        ...valid,
        chainWatchr: {},
        submitters: [{ chainId: 901, privateKey: `0x${"11".repeat(32)}`, batchSise: 8 }],
      }),
    ).toEqual([
      { path: "chainWatchr", message: expect.stringMatching(/^unknown key/) },
      { path: "submitters[0].batchSise", message: expect.stringMatching(/^unknown key/) },
    ])
  })

  it("given a wrong finality, then it names the forms it takes once, with what the file holds", () => {
    expect(issuesOf({ ...valid, chains: [{ ...valid.chains[0]!, finality: { tag: "latest" } }] })).toEqual([
      {
        path: "chains[0].finality",
        message:
          'expected {"tag": "finalized"}, {"tag": "safe"} or {"confirmations": <0 to 10000>}, got {"tag":"latest"}',
      },
    ])
  })

  it("takes a checksummed address, and names a wrong one without claiming only lowercase is accepted", () => {
    const checksummed = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
    expect(
      decodeConfig({ ...valid, network: { ...valid.network, registry: checksummed } }).network.registry,
    ).toBe(checksummed.toLowerCase())
    expect(issuesOf({ ...valid, network: { ...valid.network, registry: "0x5FbDB23" } })).toEqual([
      {
        path: "network.registry",
        message: 'expected an address: 0x and 40 hex digits (checksummed or not), got "0x5FbDB23"',
      },
    ])
  })
})

describe("resolvePrivateKey", () => {
  const key = `0x${"11".repeat(32)}`
  it("reads env: keys from the environment", () => {
    expect(resolvePrivateKey("env:K", "operators[0].privateKey", { K: key })).toBe(key)
  })
  it("names the variable and the path when it is missing", () => {
    expect(() => resolvePrivateKey("env:K", "operators[0].privateKey", {})).toThrow(
      /operators\[0\]\.privateKey: K is not set/,
    )
  })
})

describe("keys from a keystore", () => {
  const key = `0x${"42".repeat(32)}` as const
  const withDir = (use: (dir: string) => void) => {
    const dir = mkdtempSync(join(tmpdir(), "chorus-keys-"))
    try {
      use(dir)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }

  it("given a keystore beside the config and its passphrase in a file, then the operator signs as the key's address", () => {
    withDir((dir) => {
      writeFileSync(join(dir, "operator.json"), JSON.stringify(encryptKeystore(key, "s3cret", { n: 1024 })))
      writeFileSync(join(dir, "passphrase.txt"), "s3cret\n")
      writeFileSync(
        join(dir, "chorus.json"),
        JSON.stringify({
          ...valid,
          operators: [{ privateKey: { keystore: "operator.json", passphrase: "file:passphrase.txt" } }],
        }),
      )
      const config = loadConfig(join(dir, "chorus.json"))
      expect(plaintextKeysOf(config)).toEqual([])
      const identity = operatorIdentity(config, config.operators[0]!)
      expect(identity.address).toBe(privateKeyToAccount(key).address)
    })
  })

  it("names the config path and the variable when the passphrase is not set, and the file when it is wrong", () => {
    withDir((dir) => {
      const file = join(dir, "k.json")
      writeFileSync(file, JSON.stringify(encryptKeystore(key, "right", { n: 1024 })))
      expect(() =>
        resolvePrivateKey({ keystore: file, passphrase: "env:NO_SUCH_PASS" }, "submitters[0].privateKey", {}),
      ).toThrow(/submitters\[0\]\.privateKey\.passphrase: NO_SUCH_PASS is not set/)
      let message = ""
      try {
        resolvePrivateKey({ keystore: file, passphrase: "env:P" }, "submitters[0].privateKey", { P: "wrong" })
      } catch (error) {
        message = (error as Error).message
      }
      expect(message).toContain(
        `submitters[0].privateKey.keystore: keystore ${file}: the passphrase does not open it`,
      )
      expect(message).not.toContain("wrong")
      expect(() =>
        resolvePrivateKey(
          { keystore: join(dir, "missing.json"), passphrase: "env:P" },
          "operators[0].privateKey",
          {
            P: "x",
          },
        ),
      ).toThrow(/operators\[0\]\.privateKey\.keystore: cannot read .*missing\.json: ENOENT/)
    })
  })

  it("given a keystore entry with the passphrase written in place, names the fields and never shows it", () => {
    let message = ""
    try {
      decodeConfig({
        ...valid,
        operators: [{ privateKey: { keystore: "k.json", passphrase: "hunter2", password: "hunter3" } }],
      })
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toContain("operators[0].privateKey.passphrase: expected env:VARIABLE or file:<path>")
    expect(message).toContain("operators[0].privateKey.password: unknown key")
    expect(message).not.toMatch(/hunter/)
  })

  it("lists every key written in the file, and never shows a mistyped one", () => {
    const config = decodeConfig({
      ...valid,
      operators: [{ privateKey: key }, { privateKey: "env:OP_KEY" }],
      submitters: [{ chainId: 901, privateKey: key }],
    })
    expect(plaintextKeysOf(config)).toEqual(["operators[0].privateKey", "submitters[0].privateKey"])
    const typo = `0x${"42".repeat(31)}4`
    let message = ""
    try {
      decodeConfig({ ...valid, operators: [{ privateKey: typo }] })
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toContain("operators[0].privateKey: expected 0x + 64 hex digits, env:VARIABLE, {")
    expect(message).toContain("got a 65-character string")
    expect(message).not.toContain("4242")
  })
})

describe("a submitter's remote signer", () => {
  const publicKey = `0x04${"ab".repeat(64)}`
  it("decodes a web3signer key for a submitter, and names what is wrong in one without the other form's noise", () => {
    const config = decodeConfig({
      ...valid,
      submitters: [{ chainId: 901, privateKey: { web3signer: "https://signer:9000", publicKey } }],
    })
    expect(config.submitters[0]!.privateKey).toMatchObject({ web3signer: "https://signer:9000", publicKey })
    let message = ""
    try {
      decodeConfig({
        ...valid,
        submitters: [{ chainId: 901, privateKey: { web3signer: "signer", publicKey: "0x12" } }],
      })
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toContain("submitters[0].privateKey.web3signer: expected the signer's http(s) URL")
    expect(message).toContain("submitters[0].privateKey.publicKey: expected the uncompressed public key")
    expect(message).not.toMatch(/keystore|passphrase/)
  })
})
