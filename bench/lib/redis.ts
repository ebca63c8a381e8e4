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
