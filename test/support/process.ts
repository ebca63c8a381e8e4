import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

export const ROOT = join(import.meta.dir, "..", "..");
export const BUN = process.execPath;
export const MAIN = join(ROOT, "src", "main.ts");

/** The environment of a running process as the kernel holds it (after any execve). */
export function environmentOf(pid: number): Record<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").filter(Boolean);
  return Object.fromEntries(entries.map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)]));
}

/** A temporary directory removed by `cleanup()`. */
export function tempDir(prefix = "ipward-test-"): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the ipward CLI (from source, or the given binary) as a separate process. */
export async function runIpward(args: string[], options: { cwd?: string; stdin?: string; binary?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  const cmd = options.binary ? [options.binary, ...args] : [BUN, MAIN, ...args];
  const child = Bun.spawn(cmd, {
    cwd: options.cwd ?? ROOT,
    stdin: options.stdin === undefined ? "ignore" : new Blob([options.stdin]),
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...options.env },
  });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, stdout, stderr };
}

export interface RunningServer {
  url: string;
  port: number;
  process: Subprocess;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  /** Sends a signal and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number>;
}

/** Starts `ipward serve` on a free port and resolves once it listens. */
export async function startServer(args: string[], options: { cwd?: string; binary?: string; env?: Record<string, string> } = {}): Promise<RunningServer> {
  const cmd = options.binary ? [options.binary, "serve", "--port", "0", ...args] : [BUN, MAIN, "serve", "--port", "0", ...args];
  const child = Bun.spawn(cmd, {
    cwd: options.cwd ?? ROOT,
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...options.env },
  });
  let stderr = "";
  const decoder = new TextDecoder();
  const reader = (child.stderr as ReadableStream<Uint8Array>).getReader();
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${stderr}`)), 15_000);
    (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          clearTimeout(timer);
          reject(new Error(`server exited before listening:\n${stderr}`));
          return;
        }
        stderr += decoder.decode(value, { stream: true });
        const match = /listening on http:\/\/[^\s]*:(\d+)/.exec(stderr);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
          break;
        }
      }
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        stderr += decoder.decode(value, { stream: true });
      }
    })();
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    process: child,
    stderr: () => stderr,
    async stop(signal = "SIGTERM") {
      child.kill(signal);
      return child.exited;
    },
  };
}

/** Polls `check` until it returns true or `timeoutMs` passes; resolves with the elapsed ms or rejects. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (await check()) return performance.now() - started;
    await Bun.sleep(20);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
