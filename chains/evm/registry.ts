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

/**
 * The reads of the registry at `address`.
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
      if (operators.length !== weights.length) {
        throw new InvalidRpcResponseError(client.chainId, "OperatorRegistry.operators()", [
          `${operators.length} operators but ${weights.length} weights`,
        ])
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
