import {
  type Account,
  type Chain,
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  type Hex,
  http,
  type PublicClient,
  type TestClient,
  type Transport,
  type WalletClient,
} from "viem"
import { privateKeyToAccount } from "viem/accounts"
import type { Anvil } from "./startAnvil.ts"

/** A wallet client with its account bound, as the deploy helpers and transaction senders take it. */
export type AccountWallet = WalletClient<Transport, Chain | undefined, Account>

/** viem's view of one anvil: its chain, a public client, anvil's test client, and a wallet for any key. */
export type AnvilClients = {
  readonly chain: Chain
  readonly publicClient: PublicClient
  readonly testClient: TestClient<"anvil", Transport, Chain>
  /** A wallet that signs with `key` (e.g. one of `ANVIL_DEFAULT_KEYS`). */
  wallet(key: Hex): AccountWallet
}

/**
 * Connects viem to a started anvil.
 *
 * @example
 * const anvil = await startAnvil({ chainId: 902 })
 * const { publicClient, wallet } = anvilClients(anvil)
 * const clients = { publicClient, walletClient: wallet(ANVIL_DEFAULT_KEYS[0]) } // for the deploy helpers
 */
export function anvilClients(anvil: Anvil, name = `anvil-${anvil.chainId}`): AnvilClients {
  const chain = defineChain({
    id: anvil.chainId,
    name,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [anvil.rpcUrl] } },
  })
  const transport = http(anvil.rpcUrl)
  return {
    chain,
    publicClient: createPublicClient({ chain, transport }) as PublicClient,
    testClient: createTestClient({ chain, transport, mode: "anvil" }),
    wallet: (key) => createWalletClient({ chain, transport, account: privateKeyToAccount(key) }),
  }
}
