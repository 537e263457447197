/**
 * One classification of database errors for every writer that must never stop (SPEC §2):
 *
 * - `transient`: the database (or the way to it) is away or busy; the same statement can succeed
 *   later. Retried with backoff, never blamed on the data.
 * - `rejected`: the database refused the DATA (a value it cannot store, a constraint). The same
 *   rows will fail again however often they are retried: the writer isolates the offending
 *   message and records it (`STORE_REJECTED`), storing the rest.
 * - `stale-partitions`: a day partition the process believed in is gone (dropped by retention or
 *   by hand): forget the memo and retry.
 * - `unknown`: anything else (a missing table, a bug of ours). Not the message's fault, so never
 *   dead-lettered; retried with backoff and logged, and a stalled partition shows on /readyz.
 */
export type DatabaseErrorClass = 'transient' | 'rejected' | 'stale-partitions' | 'unknown';

// SQLSTATE classes and codes (PostgreSQL, Appendix A):
// 08 connection exception; 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now;
// 57014 query canceled (statement timeout); 40001 serialization failure, 40P01 deadlock;
// 53 insufficient resources (too many connections, out of memory, disk full); 55P03 lock not
// available; 58 system error (I/O); 25P03 the server ended a session idle in its transaction too
// long (idle_in_transaction_session_timeout: the client had stopped answering, or its network had).
const TRANSIENT_SQLSTATE = /^(08|57P0[123]|57014|40001|40P01|53|55P03|58|25P03)/;
// 22 data exception (invalid text, value out of range, bad datetime, NUL in text …);
// 23 integrity constraint violation; 54 program limit exceeded (a value too large to index).
const REJECTED_SQLSTATE = /^(22|23|54)/;
// node-postgres and Node report a lost or refused connection without a SQLSTATE; "Query read
// timeout" is pg's own query_timeout (a server that stopped answering).
const TRANSIENT_MESSAGE =
  /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|Connection terminated|terminating connection|not queryable|the database system is (starting up|shutting down|in recovery mode)|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout/i;

/**
 * The class of a database error. drizzle wraps the driver's error (DrizzleQueryError, whose
 * `cause` is the pg error): an error with no code that says nothing itself is classified by its
 * causes.
 */
export function classifyDatabaseError(err: unknown): DatabaseErrorClass {
  let e: unknown = err;
  for (let depth = 0; depth < 4; depth++) {
    const own = classifyOne(e);
    const { code, cause } = (typeof e === 'object' && e !== null ? e : {}) as {
      code?: unknown;
      cause?: unknown;
    };
    // An error with a code of its own has said what it is; only a bare wrapper defers to its cause.
    if (own !== 'unknown' || typeof code === 'string' || typeof cause !== 'object' || cause === null)
      return own;
    e = cause;
  }
  return 'unknown';
}

function classifyOne(err: unknown): DatabaseErrorClass {
  // Tagged, not instanceof Error: socket errors come from another realm under jest.
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    code?: unknown;
    message?: unknown;
    name?: unknown;
  };
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : String(err);
  // 23514 is also a check violation of our own tables; this text is the routing failure only.
  if (code === '23514' && /no partition of relation/i.test(message)) return 'stale-partitions';
  if (/^[0-9A-Z]{5}$/.test(code)) {
    if (TRANSIENT_SQLSTATE.test(code)) return 'transient';
    if (REJECTED_SQLSTATE.test(code)) return 'rejected';
    return 'unknown';
  }
  if (TRANSIENT_MESSAGE.test(message) || /^E[A-Z]+$/.test(code)) return 'transient';
  // A value the driver cannot even send (a date beyond what Date can print) is the data's fault.
  if (e.name === 'RangeError') return 'rejected';
  return 'unknown';
}

/**
 * The database's own words for a refusal, for the dead-letter detail and logs: SQLSTATE and
 * message on one line. PostgreSQL ends some messages by quoting the value it refused
 * (`invalid input syntax for type bigint: "…"`); that quote is cut, since the detail is shown
 * and logged and the raw bytes are kept beside it anyway. Its `detail` field (`Key (…)=(…)`) is
 * never used, for the same reason.
 */
export function describeDatabaseError(err: unknown): string {
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    code?: unknown;
    message?: unknown;
    detail?: unknown;
  };
  const code = typeof e.code === 'string' ? `${e.code} ` : '';
  const message = typeof e.message === 'string' ? e.message : String(err);
  return (
    `${code}${message}`
      .replace(/: ".*"$/s, ': "…"')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed here
      .replace(/[\u0000-\u001f\u007f]+/g, ' ')
      .slice(0, 500)
  );
}
