import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { spawnChild } from "./cleanup.ts";

/** A server under test, running as its own process on 127.0.0.1. */
export interface ServerProcess {
  label: string;
  url: string;
  child: Subprocess;
  stdoutPath: string;
  stderrPath: string;
  /** Responses the server sent to the harness's own requests (readiness polls and probes). */
  harnessResponses: number;
}

/** Asks the kernel for a free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const listener = createServer();
    listener.once("error", reject);
    listener.listen(0, "127.0.0.1", () => {
      const address = listener.address();
      listener.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** Starts `cmd` with its output in files under `logDir`, so that a full pipe never stalls it; `env` replaces the inherited environment. */
export function startServer(label: string, cmd: string[], port: number, logDir: string, cwd: string, env?: Record<string, string | undefined>): ServerProcess {
  const stdoutPath = join(logDir, `${label}.stdout.log`);
  const stderrPath = join(logDir, `${label}.stderr.log`);
  const child = spawnChild(cmd, { cwd, env, stdin: "ignore", stdout: Bun.file(stdoutPath), stderr: Bun.file(stderrPath) });
  return { label, url: `http://127.0.0.1:${port}/`, child, stdoutPath, stderrPath, harnessResponses: 0 };
}

/** The last lines the server printed, for error messages. */
export function outputTail(server: ServerProcess, lines = 20): string {
  const read = (path: string) => {
    try {
      return readFileSync(path, "utf8");
    } catch {
      return "";
    }
  };
  const text = `${read(server.stdoutPath)}${read(server.stderrPath)}`.trimEnd();
  return text === "" ? "(no output)" : text.split("\n").slice(-lines).join("\n");
}

/** Sends one GET / and counts it when the server answered (ipward logs every answered request). */
export async function request(server: ServerProcess, headers: Record<string, string> = {}): Promise<Response> {
  const response = await fetch(server.url, { headers, signal: AbortSignal.timeout(5_000) });
  server.harnessResponses += 1;
  return response;
}

/** Polls GET / until the server answers 200; throws with the server's output if it exits or never answers. */
export async function waitUntilReady(server: ServerProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = "no answer yet";
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      throw new Error(`${server.label} exited (${server.child.exitCode ?? server.child.signalCode}) before answering:\n${outputTail(server)}`);
    }
    try {
      const response = await request(server);
      await response.arrayBuffer();
      if (response.status === 200) return;
      lastProblem = `GET / answered ${response.status}`;
    } catch (error) {
      lastProblem = (error as Error).message;
    }
    await Bun.sleep(100);
  }
  throw new Error(`${server.label} did not answer GET / with 200 within ${timeoutMs / 1000} s (${lastProblem}):\n${outputTail(server)}`);
}

/** How a server ended after SIGTERM. */
export interface StopOutcome {
  exitCode: number | null;
  /** True when it ignored SIGTERM for `timeoutMs` and had to be killed. */
  killed: boolean;
  seconds: number;
}

/** Sends SIGTERM, waits up to `timeoutMs` for a graceful exit, then SIGKILLs. */
export async function stopServer(server: ServerProcess, timeoutMs: number): Promise<StopOutcome> {
  const started = performance.now();
  if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill("SIGTERM");
  const timeout = Bun.sleep(timeoutMs).then(() => "timeout" as const);
  const killed = (await Promise.race([server.child.exited, timeout])) === "timeout";
  if (killed) {
    server.child.kill("SIGKILL");
    await server.child.exited;
  }
  return { exitCode: killed ? null : server.child.exitCode, killed, seconds: (performance.now() - started) / 1000 };
}
