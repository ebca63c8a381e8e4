import { runCli } from "../../src/cli/index.ts";

/** Runs `ipward <args>` in this process with captured output (fast; use runIpward for a real process). */
export async function cli(args: string[], options: { stdin?: string; env?: Record<string, string>; cwd?: string } = {}) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    readStdin: async () => options.stdin ?? "",
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    isTTY: false,
  });
  return { code, stdout, stderr };
}
