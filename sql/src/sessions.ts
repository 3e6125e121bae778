// Kysely on postgres.js without pinned connections.
//
// postgres.js pins a connection for `reserve()` and `begin()` (kysely-postgres-js reserves one for
// every query). When PostgreSQL goes away, a pinned connection whose socket has closed is still handed
// the next query (a transaction's ROLLBACK after its statement failed, or the pool itself once the
// dead connection is released back into it), and postgres.js then writes to a null socket from a
// setImmediate: an uncaught TypeError that kills the process (porsager/postgres#1208, unfixed in
// 3.4.9). A restart of PostgreSQL under load took the api and the runners down with it.
//
// Here every Kysely connection is a postgres.js client of its own with at most one connection, used
// only through its pool path, which never writes to a closed connection (it reconnects first). A
// transaction is one session; when its connection is lost, its remaining statements are refused
// (CONNECTION_CLOSED, a 503 for the api and a retry for a job) instead of running outside it on the
// reconnected session, and its ROLLBACK is skipped: the server has already rolled it back.
//
// One more gap of postgres.js: after a socket error (ECONNRESET) the connection is only known to be
// closed at the socket's `close` event, a turn of the event loop later, and a query handed to it in
// between is never answered. A session whose query failed that way waits for that close (a second at
// most) before it takes the next query.
import {
  CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  PostgresAdapter,
  PostgresDriver,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from "kysely";
import postgres from "postgres";

/** What postgres.js throws for a lost connection, so callers classify it the same way. */
function connectionLost(): Error {
  return Object.assign(new Error("write CONNECTION_CLOSED: the connection was lost during the transaction"), {
    code: "CONNECTION_CLOSED",
  });
}

/** Errors after which the connection is gone (or going): postgres.js's own, the socket's, the server's. */
const CONNECTION_ERRORS = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
  "CONNECTION_ENDED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "57P01",
  "57P02",
  "57P03",
]);
const isConnectionError = (error: unknown) => {
  const code = String((error as { code?: unknown })?.code ?? "");
  return CONNECTION_ERRORS.has(code) || code.startsWith("08");
};

/** How long a session waits for the close of a connection that failed before it is used again. */
const CLOSE_WAIT_MS = 1000;

class Session implements DatabaseConnection {
  /** How many times its connection has closed (lost, or a failed connection attempt). */
  closes = 0;
  /** `closes` when the open transaction began; null outside a transaction. */
  private transactionAt: number | null = null;
  /** Set when a query failed with its connection and the close has not been seen yet. */
  private closing: Promise<void> | null = null;
  private onClose: (() => void)[] = [];
  readonly sql: postgres.Sql;

  constructor(url: string, options: postgres.Options<Record<string, postgres.PostgresType>>) {
    // A connection's lifetime ends only between uses: never in the middle of a transaction.
    this.sql = postgres(url, {
      ...options,
      max: 1,
      max_lifetime: null,
      onclose: () => {
        this.closes += 1;
        for (const wake of this.onClose.splice(0)) wake();
      },
    });
  }

  private nextClose(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, CLOSE_WAIT_MS);
      this.onClose.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** The open transaction's connection was lost: the server rolled it back. */
  get transactionLost(): boolean {
    return this.transactionAt !== null && this.transactionAt !== this.closes;
  }

  began(): void {
    this.transactionAt = this.closes;
  }

  ended(): void {
    this.transactionAt = null;
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (this.closing) {
      await this.closing;
      this.closing = null;
    }
    if (this.transactionLost) throw connectionLost();
    const closes = this.closes;
    let result: postgres.RowList<postgres.Row[]>;
    try {
      // Prepared (named, kept per connection): `unsafe` defaults to unnamed statements, and postgres.js
      // sends an unnamed statement with parameters as Parse+Describe, waits for the parameter types,
      // then Bind+Execute: two round trips and a parse and plan per query. A prepared one is described
      // once per connection, then one round trip. Kysely's SQL is parameterised, so the statements a
      // connection keeps are bounded by the queries in the code (postgres.js forgets them on reconnect).
      result = await this.sql.unsafe(query.sql, [...query.parameters] as postgres.ParameterOrJSON<never>[], {
        prepare: true,
      });
    } catch (error) {
      if (isConnectionError(error) && this.closes === closes) this.closing = this.nextClose();
      throw error;
    }
    const { command, count } = result;
    return {
      numAffectedRows:
        command === "INSERT" || command === "UPDATE" || command === "DELETE" || command === "MERGE"
          ? BigInt(count)
          : undefined,
      rows: Array.from(result.values()) as R[],
    };
  }

  // biome-ignore lint/correctness/useYield: streaming is not offered; the signature is Kysely's
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error("streaming queries are not supported by this driver");
  }
}

/** A pool of single-connection sessions, `max` at most, handed out one caller at a time. */
class SessionDriver extends PostgresDriver implements Driver {
  private readonly all: Session[] = [];
  private readonly idle: Session[] = [];
  private readonly waiting: ((session: Session) => void)[] = [];
  private destroyed = false;

  constructor(
    private readonly url: string,
    private readonly options: postgres.Options<Record<string, postgres.PostgresType>>,
    private readonly max: number,
  ) {
    super({ pool: {} as never });
  }

  override async init(): Promise<void> {}

  override async acquireConnection(): Promise<DatabaseConnection> {
    if (this.destroyed) throw new Error("driver has already been destroyed");
    const free = this.idle.pop();
    if (free) return free;
    if (this.all.length < this.max) {
      const session = new Session(this.url, this.options);
      this.all.push(session);
      return session;
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  override async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const session = connection as Session;
    session.ended();
    const next = this.waiting.shift();
    if (next) next(session);
    else this.idle.push(session);
  }

  override async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await super.beginTransaction(connection, settings);
    (connection as Session).began();
  }

  override async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const session = connection as Session;
    if (session.transactionLost) throw connectionLost();
    await super.commitTransaction(connection);
    session.ended();
  }

  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const session = connection as Session;
    try {
      if (!session.transactionLost) await session.executeQuery(CompiledQuery.raw("rollback"));
    } finally {
      session.ended();
    }
  }

  override async destroy(): Promise<void> {
    this.destroyed = true;
    await Promise.all(this.all.map((s) => s.sql.end({ timeout: 5 })));
  }
}

/** The Kysely dialect of `createPg`: PostgreSQL through postgres.js sessions (see above). */
export function sessionDialect(
  url: string,
  options: postgres.Options<Record<string, postgres.PostgresType>>,
  max: number,
): Dialect {
  return {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new SessionDriver(url, options, max),
    createIntrospector: (db: Kysely<unknown>) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  };
}
