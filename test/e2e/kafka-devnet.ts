import { deleteChorusLog } from "../../bus/kafka/index.ts"
import { type Devnet, startDevnet } from "../../cli/devnet/devnet.ts"
import { quietLogger } from "../../services/runtime/index.ts"

/**
 * A devnet on Kafka whose services the test runs itself, as processes: its chains and contracts, and a
 * config every `chorus run` can take. The broker's Chorus log is deleted first: another file of this run, or
 * an earlier local run, may have used it, and a devnet needs an empty log.
 *
 * @example
 * ```ts
 * const devnet = await startKafkaDevnet(inject("kafkaBrokers"))
 * ```
 */
export const startKafkaDevnet = async (brokers: string): Promise<Devnet> => {
  await deleteChorusLog(brokers.split(","))
  return startDevnet({
    bus: { kind: "kafka", brokers: brokers.split(",") },
    runServices: false,
    logger: quietLogger(),
  })
}
