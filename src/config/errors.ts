/** A configuration problem: reported as one line naming the file and the field, exit 78. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly field: string | null,
    readonly problem: string,
  ) {
    super(`config ${file}: ${field ? `${field}: ` : ""}${problem}`);
    this.name = "ConfigError";
  }
}
