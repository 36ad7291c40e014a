import pg from 'pg';

/**
 * LISTEN on PostgreSQL for one database handle: every channel shares one connection of its own (LISTEN
 * cannot use the pool, whose connections change hands), so a process holds one idle connection beyond
 * its pool however many channels it listens on; operators running many processes reach
 * max_connections that much later.
 *
 * The connection opens with the first subscription and ends with the last. If it goes away on its own
 * (server restart, pg_terminate_backend) every subscriber hears onLost, since notices may have been
 * missed; the next listen() opens a new connection.
 */

/** Names the connection in pg_stat_activity, for operators (and tests) to tell it from the pool's. */
export const LISTEN_APPLICATION_NAME = 'plugboard-listen';

export type Listen = (
  channel: string,
  onNotify: (payload: string) => void,
  onLost?: () => void,
) => Promise<() => Promise<void>>;

interface Subscriber {
  onNotify: (payload: string) => void;
  onLost: (() => void) | undefined;
  /** False until its channel's LISTEN completes: a listen() still waiting rejects rather than hear onLost. */
  live: boolean;
}

interface Channel {
  subscribers: Set<Subscriber>;
  /** The channel's LISTEN, which its first subscribers wait for. */
  listening: Promise<unknown>;
}

interface Connection {
  client: pg.Client;
  channels: Map<string, Channel>;
  /** Set once we end it or it is lost; a listen() that finds it closed opens a new one. */
  closed: boolean;
  /** The last LISTEN/UNLISTEN sent: pg 8 deprecates queueing a query behind another on one client. */
  queue: Promise<unknown>;
}

/** Runs LISTEN/UNLISTEN one after another, in the order called, so the latest for a channel wins. */
function run(conn: Connection, text: string): Promise<unknown> {
  const result = conn.queue.then(() => conn.client.query(text));
  conn.queue = result.catch(() => {});
  return result;
}

export function createPostgresListener(url: string): { listen: Listen; close: () => Promise<void> } {
  let current: Connection | undefined;
  /** The connection being opened: concurrent first calls wait for this one rather than open their own. */
  let opening: Promise<Connection> | undefined;
  let handleClosed = false;

  const lose = (conn: Connection) => {
    if (conn.closed) return;
    conn.closed = true;
    // After an 'error' the socket may linger half-open; it serves nobody any more.
    conn.client.end().catch(() => {});
    const subscribers = [...conn.channels.values()].flatMap((channel) => [...channel.subscribers]);
    conn.channels.clear();
    for (const subscriber of subscribers) if (subscriber.live) subscriber.onLost?.();
  };

  const end = async (conn: Connection) => {
    conn.closed = true;
    await conn.client.end().catch(() => {});
  };

  const connect = (): Promise<Connection> => {
    if (handleClosed) return Promise.reject(closedError());
    if (current && !current.closed) return Promise.resolve(current);
    opening ??= open(url, lose).then(
      (conn) => {
        current = conn;
        opening = undefined;
        return conn;
      },
      (err) => {
        // Nothing is kept: the next listen() tries again.
        opening = undefined;
        throw err;
      },
    );
    return opening;
  };

  const unsubscribe = async (conn: Connection, name: string, subscriber: Subscriber) => {
    // A lost or ended connection has already dropped every subscription.
    if (conn.closed) return;
    const channel = conn.channels.get(name);
    if (!channel?.subscribers.delete(subscriber) || channel.subscribers.size > 0) return;
    conn.channels.delete(name);
    if (conn.channels.size === 0) return end(conn);
    // A failure here means the connection is gone, which 'error'/'end' report.
    await run(conn, `UNLISTEN ${pg.escapeIdentifier(name)}`).catch(() => {});
  };

  const listen: Listen = async (name, onNotify, onLost) => {
    let conn = await connect();
    // Ended by a last stop or lost while this call waited: that connection serves nobody now.
    while (conn.closed) conn = await connect();
    let channel = conn.channels.get(name);
    if (!channel) {
      channel = {
        subscribers: new Set(),
        listening: run(conn, `LISTEN ${pg.escapeIdentifier(name)}`),
      };
      conn.channels.set(name, channel);
    }
    // Subscribed before LISTEN completes, as a connection of its own would be: nothing is missed.
    const subscriber: Subscriber = { onNotify, onLost, live: false };
    channel.subscribers.add(subscriber);
    try {
      await channel.listening;
      // Lost in the moment between: this subscriber was not live yet, so it heard no onLost.
      if (conn.closed) throw new Error(`The listening connection was lost before LISTEN ${name} completed.`);
    } catch (err) {
      await unsubscribe(conn, name, subscriber);
      throw handleClosed ? closedError() : err;
    }
    subscriber.live = true;
    return () => unsubscribe(conn, name, subscriber);
  };

  const close = async () => {
    handleClosed = true;
    await opening?.catch(() => {});
    if (current && !current.closed) await end(current);
  };

  return { listen, close };
}

const closedError = () => new Error('The database is closed; open it again to listen.');

async function open(url: string, lose: (conn: Connection) => void): Promise<Connection> {
  // An application_name in the URL wins over this one (pg lets the connection string override).
  const client = new pg.Client({ connectionString: url, application_name: LISTEN_APPLICATION_NAME });
  const conn: Connection = { client, channels: new Map(), closed: false, queue: Promise.resolve() };
  client.on('notification', (msg) => {
    for (const subscriber of conn.channels.get(msg.channel)?.subscribers ?? []) {
      subscriber.onNotify(msg.payload ?? '');
    }
  });
  // A terminated backend shows up as 'error' (its FATAL message), then 'end'; whichever comes first.
  client.on('error', () => lose(conn));
  client.on('end', () => lose(conn));
  try {
    await client.connect();
  } catch (err) {
    conn.closed = true;
    await client.end().catch(() => {});
    throw err;
  }
  return conn;
}
