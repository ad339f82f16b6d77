import { privateKeyToAccount } from "viem/accounts"
import { describe, expect, it } from "vitest"
import { deriveSigningKey, signerFromSeed } from "../bus/authentication/index.ts"
import { ANVIL_DEFAULT_KEYS } from "../contracts/index.ts"
import { busIdentities } from "./bus-identities.ts"
import { decodeConfig } from "./config/index.ts"
import { SERVICE_DEFINITIONS } from "./registry.ts"

const OPERATOR = ANVIL_DEFAULT_KEYS[1]
const SUBMITTER = ANVIL_DEFAULT_KEYS[2]
const BUS_KEY = `0x${"5b".repeat(32)}` as const
const remote = (key: `0x${string}`) => ({
  web3signer: "http://signer:9000",
  publicKey: privateKeyToAccount(key).publicKey,
})

const configWith = (operator: object, submitter: object) =>
  decodeConfig(
    {
      network: { registryChainId: 901, registry: "0x5fbdb2315678afecb367f032d93f642f64180aa3" },
      chains: [
        {
          chainId: 901,
          rpcUrls: ["http://127.0.0.1:1"],
          outbox: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
          inbox: "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512",
          finality: { tag: "finalized" },
        },
      ],
      bus: { authentication: { producers: [] } },
      operators: [operator],
      submitters: [{ chainId: 901, ...submitter }],
    },
    "<test>",
  )

describe("bus identities of operators and submitters", () => {
  it("given keys here and no busKey, then each signs with the key derived from its chain key, bound to its instance", () => {
    const identities = busIdentities(
      configWith({ privateKey: OPERATOR }, { privateKey: SUBMITTER }),
      SERVICE_DEFINITIONS,
    )
    const operator = identities.grants.find((g) => g.service === "operator")!
    expect(operator.instance).toBe(privateKeyToAccount(OPERATOR).address)
    expect(operator.publicKey).toBe(signerFromSeed(deriveSigningKey(OPERATOR)).publicKey)
  })

  it("given keys in remote signers and a busKey each, then each signs with its busKey, as its own instance", () => {
    const identities = busIdentities(
      configWith(
        { privateKey: remote(OPERATOR), busKey: BUS_KEY },
        { privateKey: remote(SUBMITTER), busKey: BUS_KEY },
      ),
      SERVICE_DEFINITIONS,
    )
    const operator = identities.grants.find((g) => g.service === "operator")!
    expect(operator.instance).toBe(privateKeyToAccount(OPERATOR).address)
    expect(operator.publicKey).toBe(signerFromSeed(BUS_KEY).publicKey)
    expect(identities.signerFor("submitter", "901")?.publicKey).toBe(signerFromSeed(BUS_KEY).publicKey)
  })

  it("given a key in a remote signer and no busKey under authentication, then it is refused naming the busKey path", () => {
    expect(() =>
      busIdentities(
        configWith({ privateKey: remote(OPERATOR) }, { privateKey: SUBMITTER }),
        SERVICE_DEFINITIONS,
      ),
    ).toThrow(/operators\[0\]\.privateKey: is kept in a remote signer.*give operators\[0\]\.busKey/)
    expect(() =>
      busIdentities(
        configWith({ privateKey: OPERATOR }, { privateKey: remote(SUBMITTER) }),
        SERVICE_DEFINITIONS,
      ),
    ).toThrow(/submitters\[0\]\.privateKey: is kept in a remote signer.*give submitters\[0\]\.busKey/)
  })

  it("given a busKey in a remote signer, then the instance signs records with the signer's secp256k1 key", () => {
    const identities = busIdentities(
      configWith({ privateKey: remote(OPERATOR), busKey: remote(SUBMITTER) }, { privateKey: SUBMITTER }),
      SERVICE_DEFINITIONS,
    )
    const operator = identities.grants.find((g) => g.service === "operator")!
    expect(operator.publicKey).toBe(privateKeyToAccount(SUBMITTER).publicKey.toLowerCase())
  })
})
