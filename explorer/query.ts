/**
 * The explorer's query parameters, checked: each reader names the parameter it could not take, and a request
 * naming one the route does not take is refused, so a mistyped filter never silently lists everything.
 *
 * @module
 */

/** A query parameter the API cannot take: answered 400, naming it. */
export class QueryError extends Error {
  override readonly name = "QueryError"
  readonly parameter: string
  constructor(parameter: string, problem: string) {
    super(`${parameter}: ${problem}`)
    this.parameter = parameter
  }
}

/** The parameters of one request, read by name; `done` refuses any the route did not read. */
export class Query {
  readonly #params: URLSearchParams
  readonly #read = new Set<string>()
  constructor(params: URLSearchParams) {
    this.#params = params
  }

  /** The parameter's one value, or undefined; given twice, or empty, is refused. */
  text(name: string, maxLength = 200): string | undefined {
    this.#read.add(name)
    const values = this.#params.getAll(name)
    if (values.length === 0) return undefined
    if (values.length > 1) throw new QueryError(name, `given ${values.length} times; give it once`)
    const value = values[0]!
    if (value === "") throw new QueryError(name, "is empty; leave it out, or give a value")
    if (value.length > maxLength)
      throw new QueryError(name, `is ${value.length} characters, more than ${maxLength}`)
    return value
  }

  /** One of `choices`. */
  choice<T extends string>(name: string, choices: ReadonlyArray<T>): T | undefined {
    const value = this.text(name)
    if (value === undefined) return undefined
    if (!choices.includes(value as T))
      throw new QueryError(name, `${JSON.stringify(value)} is not one of ${choices.join(", ")}`)
    return value as T
  }

  /** A whole number in [min, max]. */
  integer(name: string, min: number, max: number): number | undefined {
    const value = this.text(name)
    if (value === undefined) return undefined
    const n = Number(value)
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max)
      throw new QueryError(name, `${JSON.stringify(value)} is not a whole number from ${min} to ${max}`)
    return n
  }

  /** Text matching `pattern`, described by `what` when it does not. */
  matching(name: string, pattern: RegExp, what: string): string | undefined {
    const value = this.text(name)
    if (value === undefined) return undefined
    if (!pattern.test(value)) throw new QueryError(name, `${JSON.stringify(value)} is not ${what}`)
    return value
  }

  /** Refuses every parameter the route did not read. */
  done(): void {
    for (const name of this.#params.keys()) {
      if (!this.#read.has(name))
        throw new QueryError(
          name,
          `is not a parameter of this route; it takes ${[...this.#read].join(", ") || "none"}`,
        )
    }
  }
}
