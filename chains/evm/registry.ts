/**
 * The reads of the hub's `OperatorRegistry`: the whole operator set at one block (operators, weights,
 * threshold and epoch read at that block number, so all four are of one state).
 *
 * @module
 */
import type { Address as ViemAddress } from "viem"
import { operatorRegistryAbi } from "../../contracts/index.ts"
import { type Address, OperatorWeight, toAddress, toU256 } from "../../schemas/index.ts"
import type { RegistryReader } from "../chain-access.ts"
import { type EvmClient, rpcCall } from "./client.ts"
import { InvalidRpcResponseError } from "./errors.ts"

/** The registry's own bounds (`OperatorRegistry.sol`). */
const MAX_OPERATORS = 512
const BPS = 10_000

/** What an answer breaks of what the registry guarantees of every set it holds (none: it could be one). */
const setProblems = (
  operators: ReadonlyArray<string>,
  weights: ReadonlyArray<bigint>,
  thresholdBps: number,
  epoch: bigint,
): string[] => {
  const problems: string[] = []
  if (operators.length !== weights.length)
    problems.push(`${operators.length} operators but ${weights.length} weights`)
  if (operators.length === 0 || operators.length > MAX_OPERATORS) {
    problems.push(`${operators.length} operators (the registry holds 1 to ${MAX_OPERATORS})`)
  }
  operators.forEach((operator, i) => {
    if (i > 0 && BigInt(operator) <= BigInt(operators[i - 1]!))
      problems.push(`operator ${i} is not above operator ${i - 1}`)
  })
  if (weights.some((weight) => weight === 0n)) problems.push("an operator has weight 0")
  if (thresholdBps < 1 || thresholdBps > BPS)
    problems.push(`threshold ${thresholdBps} bps is outside 1..${BPS}`)
  if (epoch < 1n || epoch > BigInt(Number.MAX_SAFE_INTEGER))
    problems.push(`epoch ${epoch} is outside 1..2^53-1`)
  return problems.slice(0, 8)
}

/**
 * The reads of the registry at `address`: an answer that breaks what the registry guarantees of its set
 * (ascending operators, nonzero weights, a threshold in 1..10000, an epoch of at least 1) is an
 * `InvalidRpcResponseError`, never a set.
 *
 * @example
 * ```ts
 * const set = await makeRegistryReader(client, "0x…").operatorSet(await reader.latestHead())
 * ```
 */
export const makeRegistryReader = (client: EvmClient, address: Address): RegistryReader => ({
  operatorSet: (block) =>
    rpcCall(client, `OperatorRegistry.operators() at block ${block.number}`, async () => {
      const at = {
        address: address as ViemAddress,
        abi: operatorRegistryAbi,
        blockNumber: BigInt(block.number),
      }
      const [[operators, weights], thresholdBps, epoch] = await Promise.all([
        client.viem.readContract({ ...at, functionName: "operators" }),
        client.viem.readContract({ ...at, functionName: "thresholdBps" }),
        client.viem.readContract({ ...at, functionName: "epoch" }),
      ])
      const problems = setProblems(operators, weights, thresholdBps, epoch)
      if (problems.length > 0) {
        throw new InvalidRpcResponseError(
          client.chainId,
          `OperatorRegistry set at block ${block.number}`,
          problems,
        )
      }
      return {
        epoch: Number(epoch),
        operators: operators.map(
          (operator, i) => new OperatorWeight({ address: toAddress(operator), weight: toU256(weights[i]!) }),
        ),
        thresholdBps,
      }
    }),
})
