/**
 * A config held against the live chains, before a service runs on it: what
 * `chorus config check` reports. Every check runs, each bounded by a
 * timeout, and every problem is named with the config path it is about, so
 * one run lists everything to fix.
 *
 * Checks:
 * - every key opens (env: set, keystore readable with its passphrase);
 * - every RPC URL (each chain's, and each operator's own) answers, serves the
 *   chain it is configured for, and answers the chain's finality rule (the
 *   `finalized` or `safe` tag, where the rule uses one);
 * - each chain's Outbox and Inbox, and the hub's registry, hold code;
 * - each operator is in the hub registry's set, and each Inbox trusts a set;
 * - each submitter's account holds funds.
 *
 * @module
 */
import { makeChainAccess, remoteSignerProblem, type SigningKey } from "../../chains/index.ts"
import type { Address } from "../../schemas/index.ts"
import {
  type ChorusConfig,
  ConfigError,
  operatorIdentity,
  resolveSigningKey,
} from "../../services/config/index.ts"
import type { PrivateKey } from "../../services/config/private-key.ts"

export interface Finding {
  /** The config path it is about, e.g. `chains[1].rpcUrls[0]`. */
  readonly path: string
  readonly ok: boolean
  readonly message: string
}

/** How long one live read may take before it counts as no answer. */
export const READ_TIMEOUT_MS = 10_000

const within = async <T>(what: Promise<T>, timeoutMs: number): Promise<T> => {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      what,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1_000} s`)), timeoutMs)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}

/** What went wrong, in one line: a config problem's own messages, or an error's short message (URLs redacted). */
const reasonOf = (error: unknown) =>
  error instanceof ConfigError
    ? error.issues.map((issue) => issue.message).join("; ")
    : (error instanceof Error ? error.message : String(error)).split("\n")[0]!

const formatEth = (wei: bigint) => `${(Number(wei) / 1e18).toFixed(4)} ETH`

/**
 * Every finding of `config` against the chains it names.
 *
 * @example
 * ```ts
 * const findings = await checkConfigLive(config)
 * findings.filter((f) => !f.ok) // [{ path: "chains[1].rpcUrls[0]", ok: false, message: "serves chain 1, not 902" }, …]
 * ```
 */
export const checkConfigLive = async (
  config: ChorusConfig,
  options: { readonly timeoutMs?: number; readonly env?: NodeJS.ProcessEnv } = {},
): Promise<ReadonlyArray<Finding>> => {
  const timeoutMs = options.timeoutMs ?? READ_TIMEOUT_MS
  const env = options.env ?? process.env
  const findings: Finding[] = []
  const ok = (path: string, message: string) => findings.push({ path, ok: true, message })
  const problem = (path: string, message: string) => findings.push({ path, ok: false, message })
  const chains = makeChainAccess(config)
  const chainIndex = new Map<number, number>(config.chains.map((c, i) => [c.chainId, i]))

  // Keys: each must open (or its signer hold it) before anything can be said of its account.
  const checks: Array<Promise<void>> = []
  /** A key opened here, or asked of its remote signer; undefined when it does not open. */
  const openKey = (path: string, value: PrivateKey): SigningKey | undefined => {
    let key: SigningKey
    try {
      key = resolveSigningKey(value, path, env)
    } catch (error) {
      problem(path, reasonOf(error))
      return undefined
    }
    if (typeof key !== "string") {
      const signer = key
      checks.push(
        (async () => {
          const wrong = await remoteSignerProblem(signer, timeoutMs)
          if (wrong === null) ok(path, `the remote signer holds the key of ${signer.address}`)
          else problem(path, wrong)
        })(),
      )
    }
    return key
  }
  const instanceKey = (
    section: "operators" | "submitters",
    index: number,
    entry: { readonly privateKey: PrivateKey; readonly busKey?: PrivateKey | undefined },
  ) => {
    const key = openKey(`${section}[${index}].privateKey`, entry.privateKey)
    if (entry.busKey !== undefined) openKey(`${section}[${index}].busKey`, entry.busKey)
    else if (key !== undefined && typeof key !== "string" && config.bus?.authentication !== undefined) {
      problem(
        `${section}[${index}].busKey`,
        "bus.authentication is on and the key is in a remote signer, so no bus key can be derived from it: give a busKey",
      )
    }
    return key
  }
  const operators: Array<{ readonly index: number; readonly address: string }> = []
  config.operators.forEach((operator, index) => {
    if (instanceKey("operators", index, operator) !== undefined)
      operators.push({ index, address: operatorIdentity(config, operator).address })
  })
  const submitters: Array<{ readonly index: number; readonly key: SigningKey }> = []
  config.submitters.forEach((submitter, index) => {
    const key = instanceKey("submitters", index, submitter)
    if (key !== undefined) submitters.push({ index, key })
  })
  ;(config.bus?.authentication?.producers ?? []).forEach((producer, index) => {
    if (producer.privateKey !== undefined)
      openKey(`bus.authentication.producers[${index}].privateKey`, producer.privateKey)
  })

  // Every RPC URL on its own: a fallback URL that serves another chain is found too.
  const endpoints = [
    ...config.chains.flatMap((chain, i) =>
      chain.rpcUrls.map((url, u) => ({ chainId: chain.chainId, url, path: `chains[${i}].rpcUrls[${u}]` })),
    ),
    ...config.operators.flatMap((operator, o) =>
      Object.entries(operator.rpcUrls ?? {}).flatMap(([chainId, urls]) =>
        urls.map((url, u) => ({
          chainId: Number(chainId),
          url,
          path: `operators[${o}].rpcUrls.${chainId}[${u}]`,
        })),
      ),
    ),
  ]
  for (const endpoint of endpoints) {
    if (!chainIndex.has(endpoint.chainId)) {
      problem(endpoint.path, `chain ${endpoint.chainId} is not in chains[]`)
      continue
    }
    checks.push(
      (async () => {
        const reader = makeChainAccess(config, {
          rpcUrlsOverride: { [endpoint.chainId]: [endpoint.url] },
          retryCount: 0,
        }).reader(endpoint.chainId)
        try {
          const head = await within(reader.latestHead(), timeoutMs)
          const rule = reader.finality
          try {
            const final = await within(reader.finalizedHead(), timeoutMs)
            ok(
              endpoint.path,
              `chain ${endpoint.chainId}, latest block ${head.number}, ${
                final === null ? "nothing final yet" : `final block ${final.number}`
              } (${"tag" in rule ? `the ${rule.tag} tag` : `${rule.confirmations} confirmations`})`,
            )
          } catch (error) {
            problem(
              endpoint.path,
              "tag" in rule
                ? `does not answer the \`${rule.tag}\` block tag (${reasonOf(error)}); use an RPC that does, or set chains[${chainIndex.get(endpoint.chainId)}].finality to {"confirmations": <n>}`
                : reasonOf(error),
            )
          }
        } catch (error) {
          problem(endpoint.path, reasonOf(error))
        }
      })(),
    )
  }

  // Contracts, through each chain's configured URLs (with their fallback).
  const hasCode = (path: string, chainId: number, address: Address, what: string) =>
    checks.push(
      (async () => {
        try {
          const deployed = await within(chains.reader(chainId).hasCode(address), timeoutMs)
          if (deployed) ok(path, `${what} ${address} has code on chain ${chainId}`)
          else
            problem(
              path,
              `no contract at ${address} on chain ${chainId} (${what}); deploy it, or fix the address`,
            )
        } catch (error) {
          problem(path, `cannot read the code at ${address} on chain ${chainId}: ${reasonOf(error)}`)
        }
      })(),
    )
  config.chains.forEach((chain, i) => {
    hasCode(`chains[${i}].outbox`, chain.chainId, chain.outbox, "the Outbox")
    hasCode(`chains[${i}].inbox`, chain.chainId, chain.inbox, "the Inbox")
  })
  const hub = config.network.registryChainId
  if (!chainIndex.has(hub)) {
    problem(
      "network.registryChainId",
      `the hub chain ${hub} is not in chains[]: nothing can read the registry`,
    )
  } else {
    hasCode("network.registry", hub, config.network.registry, "the operator registry")
    checks.push(
      (async () => {
        try {
          const reader = chains.reader(hub)
          const head = await within(reader.latestHead(), timeoutMs)
          const set = await within(reader.registry(config.network.registry).operatorSet(head), timeoutMs)
          const members = new Set(set.operators.map((o) => o.address.toLowerCase()))
          ok("network.registry", `the hub's set: epoch ${set.epoch}, ${set.operators.length} operator(s)`)
          for (const { index, address } of operators) {
            if (members.has(address.toLowerCase()))
              ok(`operators[${index}]`, `${address} is in the hub's set`)
            else
              problem(
                `operators[${index}]`,
                `${address} is not in the hub registry's set (epoch ${set.epoch}): its signatures count for nothing`,
              )
          }
          for (const [i, chain] of config.chains.entries()) {
            try {
              const { epoch } = await within(
                chains.reader(chain.chainId).inbox(chain.inbox).epoch(),
                timeoutMs,
              )
              if (epoch === 0)
                problem(
                  `chains[${i}].inbox`,
                  `the Inbox on chain ${chain.chainId} trusts no operator set yet`,
                )
              else if (epoch !== set.epoch)
                ok(
                  `chains[${i}].inbox`,
                  `the Inbox trusts epoch ${epoch}, the hub is at ${set.epoch} (the submitters carry the update)`,
                )
              else ok(`chains[${i}].inbox`, `the Inbox trusts the hub's epoch ${epoch}`)
            } catch (error) {
              problem(`chains[${i}].inbox`, `cannot read the Inbox's epoch: ${reasonOf(error)}`)
            }
          }
        } catch (error) {
          problem("network.registry", `cannot read the hub's operator set: ${reasonOf(error)}`)
        }
      })(),
    )
  }

  for (const { index, key } of submitters) {
    const chainId = config.submitters[index]!.chainId
    if (!chainIndex.has(chainId)) {
      problem(`submitters[${index}].chainId`, `chain ${chainId} is not in chains[]`)
      continue
    }
    checks.push(
      (async () => {
        const writer = chains.writer(chainId, key)
        try {
          const balance = await within(writer.balance(), timeoutMs)
          if (balance === 0n)
            problem(
              `submitters[${index}]`,
              `${writer.sender} holds nothing on chain ${chainId}: fund it before it runs`,
            )
          else ok(`submitters[${index}]`, `${writer.sender} holds ${formatEth(balance)} on chain ${chainId}`)
        } catch (error) {
          problem(`submitters[${index}]`, `cannot read the balance of ${writer.sender}: ${reasonOf(error)}`)
        }
      })(),
    )
  }
  await Promise.all(checks)
  const order = (path: string) => path.replace(/\d+/g, (n) => n.padStart(6, "0"))
  return findings.sort((a, b) => order(a.path).localeCompare(order(b.path)))
}
