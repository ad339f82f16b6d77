import { ChorusError } from "../../errors/index.ts"
import type { FieldIssue } from "../../schemas/index.ts"

/**
 * A configuration file that cannot be used. `issues` lists every problem,
 * each with its path in the file, not only the first.
 */
export class ConfigError extends ChorusError {
  override readonly name = "ConfigError"
  readonly file: string
  readonly issues: ReadonlyArray<FieldIssue>

  constructor(file: string, issues: ReadonlyArray<FieldIssue>) {
    super(`Invalid configuration in ${file} (${issues.length} problem${issues.length === 1 ? "" : "s"}):`, {
      details: { file, issues },
      metaMessages: issues.map((i) => `- ${i.path === "" ? "(top level)" : i.path}: ${i.message}`),
      hint: "Fix these and start again; services/config/schema.ts documents every field.",
    })
    this.file = file
    this.issues = issues
  }
}
