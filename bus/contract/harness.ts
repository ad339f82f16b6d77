/**
 * What an adapter provides so the contract suite can run against it.
 *
 * The suite needs three things from an adapter: a bus to test with, a second
 * client on the same backing store (to resume, or to take over after a
 * crash), and a way to crash a client. The embedded log provides them as
 * "a fresh data directory / the same directory reopened / an abrupt drop";
 * Kafka as "a client on the test broker / another client on the same broker /
 * a consumer killed without committing or leaving".
 *
 * @module
 */
import type { BusPort } from "../port.ts"

export interface BusHarness {
  /**
   * A bus for one test, on a backing store no other test writes to the same
   * topics of. The suite closes it after the test unless it was crashed.
   */
  open(): Promise<BusPort>
  /**
   * Another bus on the same backing store as `bus` (the same data directory,
   * the same cluster). `bus` has been closed or crashed before this is called.
   */
  reopen(bus: BusPort): Promise<BusPort>
  /**
   * Drops `bus` as `kill -9` would: its consumers stop at once without
   * committing anything more — not even a handler in flight that resolves
   * later — and without a graceful leave. Records it acknowledged stay
   * acknowledged. The suite never uses `bus` again.
   */
  crash(bus: BusPort): Promise<void>
  /** Releases whatever the harness holds, after the whole suite. */
  dispose?(): Promise<void>
  /**
   * How long to wait. `waitMs` bounds each wait for something to happen
   * (default 20 s; Kafka rebalances need more), `testMs` each test
   * (default 60 s).
   */
  readonly timeouts?: { readonly waitMs?: number; readonly testMs?: number }
}
