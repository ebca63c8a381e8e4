import { createClient } from "redis";
import { type DecisionMessage, DecisionSync, parseDecisionMessage } from "../core/decision-sync.ts";
import type { DecisionStore } from "../core/ports.ts";
import { BackgroundInterval } from "../core/time.ts";

export interface RuleSyncOptions {
  /** config redis.url. */
  url: string;
  /** config redis.key_prefix; the channel is `${keyPrefix}decisions`. */
  keyPrefix: string;
  /** This instance's own store: local changes are read from it, remote ones written to it. */
  store: DecisionStore;
  /**
   * Called after rule changes were written here from another instance, or seen here and published:
   * reload the matchers now rather than at their own next poll, so that this instance never
   * enforces a change later than the instances it told.
   */
  onApplied(): void;
  /** Connection trouble and rejected messages; never given the URL (it may hold a password). */
  log(message: string): void;
  /** How often the store is checked for local changes (the RuleSet polls at the same pace). */
  pollMs?: number;
}

/** A running rule sync; `close()` publishes what is pending and disconnects. */
export interface RuleSync {
  instanceId: string;
  /** The channel, for logs and tests. */
  channel: string;
  close(): Promise<void>;
}

const MAX_RECONNECT_DELAY_MS = 1_000;
/** Publishes held while Redis is down, sent when it is back; beyond this they fail (and are logged). */
const MAX_QUEUED_PUBLISHES = 10_000;
const CLOSE_GRACE_MS = 1_000;

function createSyncClient(url: string) {
  return createClient({
    url,
    commandsQueueMaxLength: MAX_QUEUED_PUBLISHES,
    socket: {
      connectTimeout: 2_000,
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 5), MAX_RECONNECT_DELAY_MS),
    },
  });
}

type SyncClient = ReturnType<typeof createSyncClient>;

/**
 * Block/allow changes across instances through Redis pub/sub on `${keyPrefix}decisions`. Each
 * instance keeps its own SQLite: it publishes the changes it sees there and writes the ones it
 * receives. Never blocks start-up: while Redis is unreachable, publishes queue (bounded) and
 * go out on reconnection; messages sent while an instance was cut off do not reach it.
 */
export function startRuleSync(options: RuleSyncOptions): RuleSync {
  const channel = `${options.keyPrefix}decisions`;
  const instanceId = crypto.randomUUID();
  const publisher = createSyncClient(options.url);
  const subscriber = publisher.duplicate();
  watchConnection(publisher, "publishing", options.log);
  watchConnection(subscriber, "receiving", options.log);

  const sync = new DecisionSync(options.store, {
    instanceId,
    publish(message: DecisionMessage) {
      publisher.publish(channel, JSON.stringify(message)).catch((error: Error) => {
        options.log(`rule sync: a change to ${message.ops.length} rule(s) was not published: ${error.message}`);
      });
    },
    onApplied: options.onApplied,
  });

  const onMessage = (text: string) => {
    const message = parseDecisionMessage(text);
    if (message === null) {
      options.log(`rule sync: ignored a malformed message on ${channel}`);
      return;
    }
    try {
      sync.receive(message);
    } catch (error) {
      options.log(`rule sync: applying a change from instance ${message.instance} failed: ${(error as Error).message}`);
    }
  };

  // connect() settles once connected, retrying meanwhile; it rejects only when closed first.
  void publisher.connect().catch(() => undefined);
  subscriber
    .connect()
    .then(() => subscriber.subscribe(channel, onMessage))
    .catch(() => undefined);

  const poller = new BackgroundInterval(() => {
    try {
      if (sync.poll()) options.onApplied();
    } catch (error) {
      options.log(`rule sync: reading local rule changes failed: ${(error as Error).message}`);
    }
  });
  poller.start(options.pollMs ?? 250);

  return {
    instanceId,
    channel,
    async close() {
      poller.stop();
      try {
        // A change made just before shutdown still reaches the others.
        sync.poll();
      } catch {
        // The store may already be gone; nothing more to publish then.
      }
      await Promise.all([closeClient(publisher), closeClient(subscriber)]);
    },
  };
}

/** Logs losing and regaining the connection once each, not on every retry. */
function watchConnection(client: SyncClient, role: string, log: (message: string) => void): void {
  let lost = false;
  client.on("error", (error: Error) => {
    if (lost) return;
    lost = true;
    log(`rule sync: Redis unreachable for ${role} rule changes (${error.message}); retrying`);
  });
  client.on("ready", () => {
    if (!lost) return;
    lost = false;
    log(`rule sync: Redis reachable again for ${role} rule changes`);
  });
}

async function closeClient(client: SyncClient): Promise<void> {
  if (!client.isOpen) return;
  if (client.isReady) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_GRACE_MS);
    });
    await Promise.race([client.close().catch(() => undefined), deadline]);
    clearTimeout(timer);
  }
  if (client.isOpen) client.destroy();
}
