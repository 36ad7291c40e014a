import pg from 'pg';

/**
 * LISTEN on PostgreSQL for one database handle: every channel shares one connection of its own (LISTEN
 * cannot use the pool, whose connections change hands), so a process holds one idle connection beyond
 * its pool however many channels it listens on; operators running many processes reach
 * max_connections that much later.
 *
 * The connection opens with the first subscription and ends with the last. Subscriptions outlive the
 * connection: if it goes away on its own (a server restart, a failover, pg_terminate_backend) every
 * subscriber hears `lost`, since notices may be missed from then on, and the listener connects again
 * with a growing pause until it listens on every channel again, when every subscriber hears `restored`.
 * Without that, one database restart would leave a process without caches until it restarted itself.
 */

/** Names the connection in pg_stat_activity, for operators (and tests) to tell it from the pool's. */
export const LISTEN_APPLICATION_NAME = 'plugboard-listen';

/** What a subscriber hears besides notices. */
export interface ListenEvents {
  /** The connection went away: notices may be missed until `restored`. */
  lost?: () => void;
  /** Listening again on a new connection; what was sent in between is unknown. */
  restored?: () => void;
}

export type Listen = (
  channel: string,
  onNotify: (payload: string) => void,
  events?: ListenEvents,
) => Promise<() => Promise<void>>;

/** The pause before connecting again after a loss, doubled after each failure up to `maxMs`. */
export interface ReconnectDelays {
  firstMs: number;
  maxMs: number;
}
const RECONNECT: ReconnectDelays = { firstMs: 500, maxMs: 30_000 };

interface Subscriber {
  onNotify: (payload: string) => void;
  events: ListenEvents | undefined;
  /** pending until its channel's first LISTEN completes (a loss then fails its listen() call instead). */
  state: 'pending' | 'live' | 'lost';
}

interface Connection {
  client: pg.Client;
  /** The LISTEN sent on this connection, per channel, which that channel's subscribers wait for. */
  listening: Map<string, Promise<unknown>>;
  /** Set once we end it or it is lost. */
  gone: boolean;
  /** The last LISTEN/UNLISTEN sent: pg 8 deprecates queueing a query behind another on one client. */
  queue: Promise<unknown>;
}

/** Runs LISTEN/UNLISTEN one after another, in the order called, so the latest for a channel wins. */
function run(conn: Connection, text: string): Promise<unknown> {
  const result = conn.queue.then(() => conn.client.query(text));
  conn.queue = result.catch(() => {});
  return result;
}

export function createPostgresListener(
  url: string,
  reconnect: ReconnectDelays = RECONNECT,
): { listen: Listen; close: () => Promise<void> } {
  const channels = new Map<string, Set<Subscriber>>();
  let current: Connection | undefined;
  /** The connection being opened: concurrent callers wait for this one rather than open their own. */
  let opening: Promise<Connection> | undefined;
  let retry: NodeJS.Timeout | undefined;
  let delay = reconnect.firstMs;
  let handleClosed = false;

  const end = (conn: Connection) => {
    conn.gone = true;
    if (current === conn) current = undefined;
    return conn.client.end().catch(() => {});
  };

  const lose = (conn: Connection) => {
    // Ended by us, or failed while opening (its caller hears of that): not a loss.
    if (conn.gone || conn !== current) return;
    // After an 'error' the socket may linger half-open; it serves nobody any more.
    void end(conn);
    for (const subscribers of channels.values()) {
      for (const subscriber of subscribers) {
        if (subscriber.state !== 'live') continue;
        subscriber.state = 'lost';
        subscriber.events?.lost?.();
      }
    }
    scheduleRetry();
  };

  const connect = (): Promise<Connection> => {
    if (handleClosed) return Promise.reject(closedError());
    if (current) return Promise.resolve(current);
    opening ??= open(url, channels, lose).then(
      (conn) => {
        opening = undefined;
        // Closed while it opened: it serves nobody.
        if (handleClosed) {
          void end(conn);
          throw closedError();
        }
        current = conn;
        return conn;
      },
      (err) => {
        // Nothing is kept: the next attempt starts afresh.
        opening = undefined;
        throw err;
      },
    );
    return opening;
  };

  /**
   * Brings every subscribed channel to LISTEN on a live connection, then makes its subscribers live;
   * those a loss had cut off hear `restored`. Idempotent: what already listens is not sent again.
   */
  const listenAll = async () => {
    const conn = await connect();
    const names = [...channels.keys()];
    await Promise.all(
      names.map((name) => {
        let listening = conn.listening.get(name);
        if (!listening) {
          listening = run(conn, `LISTEN ${pg.escapeIdentifier(name)}`);
          conn.listening.set(name, listening);
        }
        return listening;
      }),
    );
    if (conn.gone) throw new Error('The listening connection was lost before LISTEN completed.');
    for (const name of names) {
      for (const subscriber of channels.get(name) ?? []) {
        const wasLost = subscriber.state === 'lost';
        subscriber.state = 'live';
        if (wasLost) subscriber.events?.restored?.();
      }
    }
  };

  function scheduleRetry() {
    if (handleClosed || retry || channels.size === 0) return;
    retry = setTimeout(async () => {
      retry = undefined;
      try {
        await listenAll();
        delay = reconnect.firstMs;
      } catch {
        delay = Math.min(delay * 2, reconnect.maxMs);
        scheduleRetry();
      }
    }, delay);
    // A process with nothing else to do need not wait for the database to come back.
    retry.unref();
  }

  const unsubscribe = async (name: string, subscriber: Subscriber) => {
    const subscribers = channels.get(name);
    if (!subscribers?.delete(subscriber) || subscribers.size > 0) return;
    channels.delete(name);
    const conn = current;
    if (channels.size === 0) {
      clearTimeout(retry);
      retry = undefined;
      if (conn) await end(conn);
      return;
    }
    if (!conn?.listening.delete(name)) return;
    // A failure here means the connection is gone, which 'error'/'end' report.
    await run(conn, `UNLISTEN ${pg.escapeIdentifier(name)}`).catch(() => {});
  };

  const listen: Listen = async (name, onNotify, events) => {
    if (handleClosed) throw closedError();
    const subscriber: Subscriber = { onNotify, events, state: 'pending' };
    // Subscribed before LISTEN completes, as a connection of its own would be: nothing is missed.
    let subscribers = channels.get(name);
    if (!subscribers) {
      subscribers = new Set();
      channels.set(name, subscribers);
    }
    subscribers.add(subscriber);
    try {
      await listenAll();
    } catch (err) {
      await unsubscribe(name, subscriber);
      throw handleClosed ? closedError() : err;
    }
    // Stopping twice is harmless: the second finds the subscriber gone.
    return () => unsubscribe(name, subscriber);
  };

  const close = async () => {
    handleClosed = true;
    clearTimeout(retry);
    retry = undefined;
    await opening?.catch(() => {});
    if (current) await end(current);
  };

  return { listen, close };
}

const closedError = () => new Error('The database is closed; open it again to listen.');

async function open(
  url: string,
  channels: ReadonlyMap<string, ReadonlySet<Subscriber>>,
  lose: (conn: Connection) => void,
): Promise<Connection> {
  // An application_name in the URL wins over this one (pg lets the connection string override).
  const client = new pg.Client({ connectionString: url, application_name: LISTEN_APPLICATION_NAME });
  const conn: Connection = { client, listening: new Map(), gone: false, queue: Promise.resolve() };
  client.on('notification', (msg) => {
    for (const subscriber of channels.get(msg.channel) ?? []) subscriber.onNotify(msg.payload ?? '');
  });
  // A terminated backend shows up as 'error' (its FATAL message), then 'end'; whichever comes first.
  client.on('error', () => lose(conn));
  client.on('end', () => lose(conn));
  try {
    await client.connect();
  } catch (err) {
    conn.gone = true;
    await client.end().catch(() => {});
    throw err;
  }
  return conn;
}
