import { readFileSync } from "node:fs";
import { RedisClient } from "bun";

function connect(url: string): RedisClient {
  return new RedisClient(url, { connectionTimeout: 1_000, autoReconnect: false, maxRetries: 0 });
}

/** Returns null when Redis answers PING, else why not. */
export async function redisProblem(url: string): Promise<string | null> {
  const client = connect(url);
  try {
    await client.ping();
    return null;
  } catch (error) {
    return `Redis at ${url} does not answer (${(error as Error).message})`;
  } finally {
    client.close();
  }
}

/** Deletes every key under `prefix` and returns how many there were (0 means ipward never wrote to Redis). */
export async function deleteKeys(url: string, prefix: string): Promise<number> {
  const client = connect(url);
  try {
    let cursor = "0";
    let deleted = 0;
    do {
      const [next, keys] = (await client.send("SCAN", [cursor, "MATCH", `${prefix}*`, "COUNT", "1000"])) as [string, string[]];
      cursor = next;
      if (keys.length > 0) deleted += (await client.send("DEL", keys)) as number;
    } while (cursor !== "0");
    return deleted;
  } finally {
    client.close();
  }
}

/**
 * The pid of the Redis server, when it runs on this machine (INFO's process_id names a local
 * redis-server process), so that its CPU time can be told apart from unrelated load; else null.
 */
export async function localRedisPid(url: string): Promise<number | null> {
  const client = connect(url);
  try {
    const info = (await client.send("INFO", ["server"])) as string;
    const pid = Number(/^process_id:(\d+)/m.exec(info)?.[1]);
    if (!Number.isInteger(pid) || pid <= 0) return null;
    const command = readFileSync(`/proc/${pid}/comm`, "utf8");
    return command.startsWith("redis") ? pid : null;
  } catch {
    return null;
  } finally {
    client.close();
  }
}
