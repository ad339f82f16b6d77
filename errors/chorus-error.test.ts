import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { ChorusError } from "./chorus-error.ts"

class SampleError extends ChorusError {
  override readonly name = "SampleError"
  constructor(cause?: unknown) {
    super("chain 901: the RPC is down", {
      details: { chainId: 901 },
      metaMessages: ["url: http://127.0.0.1:8545"],
      hint: "check the chain's rpcUrls",
      ...(cause === undefined ? {} : { cause }),
    })
  }
}

describe("ChorusError", () => {
  it("given details and a hint, when thrown, then the message tells what, where and what next", () => {
    const error = new SampleError(new Error("ECONNREFUSED"))
    expect(error.message).toBe(
      "chain 901: the RPC is down\n  url: http://127.0.0.1:8545\ncheck the chain's rpcUrls",
    )
    expect(error.shortMessage).toBe("chain 901: the RPC is down")
    expect(error.details).toEqual({ chainId: 901 })
    expect(error.hint).toBe("check the chain's rpcUrls")
    expect((error.cause as Error).message).toBe("ECONNREFUSED")
    expect(error).toBeInstanceOf(Error)
  })

  it("given Effect code, when it fails with one, then catchTag matches it by name", async () => {
    const recovered = await Effect.runPromise(
      Effect.fail(new SampleError()).pipe(Effect.catchTag("SampleError", (e) => Effect.succeed(e.details))),
    )
    expect(recovered).toEqual({ chainId: 901 })
  })
})
