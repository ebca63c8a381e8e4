import type { Server } from "bun";
import { createApp, type IpwardApp } from "../../src/app.ts";
import { validateConfig } from "../../src/config/load.ts";
import type { Clock } from "../../src/core/ports.ts";
import { tempDir } from "./process.ts";

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(public time = Date.UTC(2026, 10, 25, 12, 0, 0)) {}
  now(): number {
    return this.time;
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

export interface TestApp {
  app: IpwardApp;
  dataDir: string;
  /** Sends a request as if it arrived on a socket from `socketIp`. */
  request(path: string, init?: RequestInit & { socketIp?: string }): Promise<Response>;
  close(): Promise<void>;
}

/** Builds a full ipward app (real SQLite in a temp dir) and drives it without a listening socket. */
export async function testApp(
  rawConfig: Record<string, unknown> = {},
  clock?: Clock,
  application?: (request: Request) => Response | Promise<Response>,
): Promise<TestApp> {
  const dir = tempDir("ipward-app-");
  const config = validateConfig({ data_dir: dir.path, ...rawConfig });
  const app = await createApp({ config, clock, log: () => {}, application });
  return {
    app,
    dataDir: dir.path,
    async request(path, init = {}) {
      const { socketIp = "127.0.0.1", ...rest } = init;
      const server = { requestIP: () => ({ address: socketIp, family: socketIp.includes(":") ? "IPv6" : "IPv4", port: 40000 }) };
      return app.fetch(new Request(`http://127.0.0.1${path}`, rest), server as unknown as Server<unknown>);
    },
    async close() {
      await app.close();
      dir.cleanup();
    },
  };
}
