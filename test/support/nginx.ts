import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { tempDir } from "./process.ts";

export const NGINX = "/usr/sbin/nginx";

export interface RunningNginx {
  url: string;
  port: number;
  /** nginx's error log so far, for failure messages. */
  errorLog(): string;
  stop(): Promise<void>;
}

/**
 * Runs a private nginx (the Debian package) in the foreground as a child process: its config, pid
 * file, logs and temp paths all live in a fresh temp directory. `httpBlock` is the body of the
 * `http {}` block; it may use `{{dir}}` for the temp directory. Resolves once nginx accepts connections.
 */
export async function startNginx(port: number, httpBlock: string): Promise<RunningNginx> {
  if (!existsSync(NGINX)) throw new Error(`${NGINX} not found: the nginx tests need Debian's nginx package (apt-get install -y nginx)`);
  const dir = tempDir("ipward-nginx-");
  const conf = join(dir.path, "nginx.conf");
  writeFileSync(
    conf,
    `daemon off;
worker_processes 1;
pid ${dir.path}/nginx.pid;
error_log ${dir.path}/error.log info;
events { worker_connections 512; }
http {
  access_log ${dir.path}/access.log;
  client_body_temp_path ${dir.path}/client_body;
  proxy_temp_path ${dir.path}/proxy;
  fastcgi_temp_path ${dir.path}/fastcgi;
  uwsgi_temp_path ${dir.path}/uwsgi;
  scgi_temp_path ${dir.path}/scgi;
${httpBlock.replaceAll("{{dir}}", dir.path)}
}
`,
  );
  const child: Subprocess = Bun.spawn([NGINX, "-p", dir.path, "-e", join(dir.path, "error.log"), "-c", conf], {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  const errorLog = () => {
    try {
      return readFileSync(join(dir.path, "error.log"), "utf8");
    } catch {
      return "";
    }
  };
  const started = performance.now();
  while (!(await accepts(port))) {
    if (child.exitCode !== null || performance.now() - started > 10_000) {
      child.kill("SIGKILL");
      const stderr = await new Response(child.stderr as ReadableStream).text();
      dir.cleanup();
      throw new Error(`nginx did not start (exit ${child.exitCode}):\n${stderr}\n${errorLog()}`);
    }
    await Bun.sleep(20);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    errorLog,
    async stop() {
      child.kill("SIGTERM");
      await child.exited;
      dir.cleanup();
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
