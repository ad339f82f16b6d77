/**
 * Prints the SASL user of every principal the topology's ACLs name
 * (`topology/acls.ts`), one per line: the SCRAM users
 * `scripts/kafka-local start --secure` creates besides `admin`.
 *
 * Usage: node scripts/kafka/principals.ts
 */
import { SERVICE_DEFINITIONS } from "../../services/registry.ts"
import { aclPrincipals } from "../../topology/acls.ts"
import { ALL_TOPICS, TOOLS } from "../../topology/index.ts"

for (const principal of aclPrincipals({ services: SERVICE_DEFINITIONS, tools: TOOLS, topics: ALL_TOPICS })) {
  process.stdout.write(`${principal.user}\n`)
}
