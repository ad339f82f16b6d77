/**
 * An operator's signatures made by a remote signer after its core decided: given what the core signed with a
 * throwaway key, the seal asks a Web3Signer stand-in for the EIP-712 preimage of exactly that digest, and puts
 * on the output a signature that recovers to the operator, as the Inbox takes it (low `s`, v 27/28).
 */
import { keccak256, parseSignature, recoverAddress, stringToHex } from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { describe, expect, it } from "vitest"
import { recoverCheckpointSigner } from "../../contracts/index.ts"
import {
  Address,
  AttestationRefused,
  AttestationSigned,
  ChainId,
  OperatorSetSigned,
  OperatorWeight,
  toAddress,
  U256,
  Uint,
} from "../../schemas/index.ts"
import { TEST_DOMAIN, testCheckpoint } from "../../test/fixtures/checkpoint.ts"
import { SECP256K1_N, useFakeWeb3Signers } from "../../test/fixtures/web3signer.ts"
import { remoteSignatures } from "./remote-signatures.ts"
import { SHADOW_SIGNING_KEY } from "./service.ts"
import { checkpointDigest, signDigest, toTypedCheckpoint } from "./sign-checkpoint.ts"
import { operatorSetDigest } from "./sign-operator-set.ts"

const KEY = keccak256(stringToHex("remote-operator"))
const account = privateKeyToAccount(KEY)
const ME = toAddress(account.address)
const OTHER_KEY = keccak256(stringToHex("someone else"))
const N_HALF = SECP256K1_N / 2n

const startSigner = useFakeWeb3Signers(account)
const started = (key = KEY) => startSigner(key)

/** What the core outputs for a checkpoint it decided to sign, signed with the throwaway key. */
const decided = (epoch = 3) => {
  const checkpoint = testCheckpoint()
  const digest = checkpointDigest(TEST_DOMAIN, checkpoint, epoch)
  return new AttestationSigned({
    checkpoint,
    epoch,
    digest,
    operator: ME,
    signature: signDigest(SHADOW_SIGNING_KEY, digest),
  })
}

describe("an operator's signatures from a remote signer", () => {
  it("given a checkpoint the core signed with the throwaway key, when sealed, then the signer was asked for its EIP-712 preimage once, and the signature recovers to the operator under that epoch", async () => {
    const { signer, ref } = await started()
    const [sealed] = await remoteSignatures(ref, TEST_DOMAIN)([decided(3)])
    expect(sealed).toBeInstanceOf(AttestationSigned)
    const attestation = sealed as AttestationSigned
    expect(signer.asked).toHaveLength(1)
    expect(signer.asked[0]!.path).toBe(`/api/v1/eth1/sign/${account.publicKey}`)
    expect(signer.asked[0]!.data.startsWith("0x1901")).toBe(true)
    expect(keccak256(signer.asked[0]!.data)).toBe(attestation.digest)
    const recovered = await recoverCheckpointSigner({
      domain: TEST_DOMAIN,
      checkpoint: toTypedCheckpoint(attestation.checkpoint, 3),
      signature: attestation.signature as `0x${string}`,
    })
    expect(recovered.toLowerCase()).toBe(ME)
    // Web3Signer signs RFC 6979 as this process would: the same bytes as signing here.
    expect(attestation.signature).toBe(signDigest(KEY, attestation.digest))
  })

  it("given a signer answering the high-s twin, when sealed, then the signature is the low-s one the Inbox takes", async () => {
    const { signer, ref } = await started()
    signer.behave("high-s")
    const [sealed] = await remoteSignatures(ref, TEST_DOMAIN)([decided()])
    const { s, v } = parseSignature((sealed as AttestationSigned).signature as `0x${string}`)
    expect(BigInt(s) <= N_HALF).toBe(true)
    expect(v === 27n || v === 28n).toBe(true)
    expect((sealed as AttestationSigned).signature).toBe(
      signDigest(KEY, (sealed as AttestationSigned).digest),
    )
  })

  it("given an operator-set update the core signed, when sealed, then its signature recovers to the operator over the update's digest", async () => {
    const { ref } = await started()
    const fields = {
      chainId: ChainId.make(901),
      registry: Address.make("0x5fbdb2315678afecb367f032d93f642f64180aa3"),
      epoch: Uint.make(2),
      operators: [new OperatorWeight({ address: ME, weight: U256.make("1000") })],
      thresholdBps: Uint.make(6667),
    }
    const digest = operatorSetDigest(TEST_DOMAIN, fields)
    const output = new OperatorSetSigned({
      ...fields,
      digest,
      operator: ME,
      signature: signDigest(SHADOW_SIGNING_KEY, digest),
    })
    const [sealed] = await remoteSignatures(ref, TEST_DOMAIN)([output])
    const recovered = await recoverAddress({
      hash: digest as `0x${string}`,
      signature: (sealed as OperatorSetSigned).signature as `0x${string}`,
    })
    expect(recovered.toLowerCase()).toBe(ME)
  })

  it("given a signer holding another key, or failing, when sealed, then it throws naming the signer and the account, and returns nothing to publish", async () => {
    const { signer, ref } = await started(OTHER_KEY)
    await expect(remoteSignatures(ref, TEST_DOMAIN)([decided()])).rejects.toThrow(
      new RegExp(
        `remote signer ${signer.url} for ${account.address}: signed as 0x[0-9a-fA-F]{40}, not as the configured account`,
      ),
    )
    signer.behave("refuse")
    await expect(remoteSignatures(ref, TEST_DOMAIN)([decided()])).rejects.toThrow(/answered HTTP 500/)
  })

  it("given a refusal, when sealed, then it passes unchanged and the signer is never asked", async () => {
    const { signer, ref } = await started()
    const refusal = new AttestationRefused({
      checkpoint: testCheckpoint(),
      operator: ME,
      reason: "root-mismatch",
      detail: "its own RPC showed another root",
    })
    expect(await remoteSignatures(ref, TEST_DOMAIN)([refusal])).toEqual([refusal])
    expect(signer.asked).toHaveLength(0)
  })

  it("given an output whose digest is not its fields' (never made by the core), when sealed, then nothing is asked of the signer", async () => {
    const { signer, ref } = await started()
    const tampered = new AttestationSigned({ ...decided(3), epoch: 4 } as never)
    await expect(remoteSignatures(ref, TEST_DOMAIN)([tampered])).rejects.toThrow(/not to the digest signed/)
    expect(signer.asked).toHaveLength(0)
  })
})
