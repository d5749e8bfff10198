import { EXIT, type ExitCode } from "../../report/exit.js";
export async function runCommand(_a: unknown): Promise<ExitCode> {
  return EXIT.FAILURE;
}
