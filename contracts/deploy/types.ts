import type { Account, Chain, PublicClient, Transport, WalletClient } from "viem"

/** The clients every deploy helper takes: a wallet client with an account (it pays) and a public client. */
export type DeployClients = {
  walletClient: WalletClient<Transport, Chain | undefined, Account>
  publicClient: PublicClient
}
