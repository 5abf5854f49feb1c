"""PostgreSQL round trips per request: reads outside transactions, a ping only for connections
that sat idle, and prepared statements that survive the request.

Measured per request before this (API member read, 2 statements): 5 round trips, `;` (the
pool_pre_ping), BEGIN, the two statements, ROLLBACK; and no prepared statement ever, because
psycopg 3 forgets its prepared statements at ROLLBACK (`Connection.rollback` clears its cache)
and every request ended with one when the session closed, so no statement reached
`prepare_threshold` (5 runs): PostgreSQL parsed and planned each statement of each request again.
Now: 2 round trips, the two statements, already prepared.

- Reads: a SELECT that takes no lock (no FOR UPDATE/SHARE, no advisory lock) and comes when no
  transaction is open runs in autocommit, without BEGIN and COMMIT. Under READ COMMITTED (the
  isolation level used) every statement takes its own snapshot inside a transaction too, so a
  read sees the same data either way. Any other statement (INSERT, UPDATE, DELETE, a locking
  SELECT, ...) turns autocommit off first, so psycopg sends BEGIN before it and that statement
  and everything after it, up to the session's commit or rollback, is one transaction as before.
  Connections given an explicit isolation_level are left alone.
- Ends of transactions: when the session closes a transaction in which only SELECTs ran and
  which has not failed, it is committed instead of rolled back (the same effect for such a
  transaction; psycopg keeps its prepared statements across a COMMIT). A transaction that ran
  anything else, or is in error, is rolled back as before.
- The ping: `pool_pre_ping` pings at every checkout. Here a connection is pinged when it has
  been idle in the pool longer than `portal_ping_idle_seconds` (or has never been used); a failed
  ping raises DisconnectionError, so the pool drops the connection and checks out another, as
  pool_pre_ping does. A connection used within the last moments is not pinged: if the database
  restarted in that window, that request fails with OperationalError (a 503 with Retry-After) and
  SQLAlchemy invalidates the pool, so the next request reconnects.

Installed as a SQLAlchemy engine plugin (see `app.config.engine_options`)."""
from __future__ import annotations

import re
import time

from sqlalchemy import event, exc
from sqlalchemy.dialects import plugins
from sqlalchemy.engine import CreateEnginePlugin

PLUGIN = "portal_postgres"
IDLE_SINCE = "portal_idle_since"
WROTE = "portal_wrote"
# A SELECT that takes locks held until the end of its transaction: it needs one.
LOCKS = re.compile(r"\sFOR (?:UPDATE|SHARE|NO KEY UPDATE|KEY SHARE)\b|pg_advisory").search


class PostgresRoundTrips(CreateEnginePlugin):
    def __init__(self, url, kwargs):
        super().__init__(url, kwargs)
        self.ping_idle = float(kwargs.pop("portal_ping_idle_seconds", 1.0))

    def update_url(self, url):
        return url  # the plugin's setting comes as a keyword argument, not in the URL

    def engine_created(self, engine):
        if engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg":
            install(engine, self.ping_idle)


plugins.register(PLUGIN, __name__, "PostgresRoundTrips")


def install(engine, ping_idle: float) -> None:
    from psycopg.pq import TransactionStatus

    intrans, idle = TransactionStatus.INTRANS, TransactionStatus.IDLE
    dialect = engine.dialect

    @event.listens_for(engine, "connect")
    def connected(_dbapi_connection, record):
        record.info[IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def checked_in(_dbapi_connection, record):
        record.info[IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def checked_out(dbapi_connection, record, _proxy):
        since = record.info.get(IDLE_SINCE)
        if since is not None and time.monotonic() - since <= ping_idle:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:  # noqa: BLE001 - any failure: this connection is unusable
            raise exc.DisconnectionError(f"ping failed: {error}") from error

    @event.listens_for(engine, "before_cursor_execute")
    def executing(conn, cursor, statement, _parameters, _context, _executemany):
        if statement.startswith("SELECT ") and not LOCKS(statement):
            raw = cursor.connection
            if not raw.autocommit and raw.info.transaction_status == idle \
                    and "isolation_level" not in conn.get_execution_options():
                raw.autocommit = True  # a read outside any transaction: no BEGIN, no COMMIT
            return
        conn.info[WROTE] = True
        raw = cursor.connection
        if raw.autocommit and "isolation_level" not in conn.get_execution_options():
            raw.autocommit = False  # psycopg sends BEGIN before this statement

    @event.listens_for(engine, "commit")
    def committing(conn):
        conn.info.pop(WROTE, None)

    @event.listens_for(engine, "rollback")
    def rolling_back(conn):
        if conn.invalidated or conn.closed:
            return
        if conn.info.pop(WROTE, False):
            return
        dbapi_connection = conn.connection.dbapi_connection
        if dbapi_connection is None or dbapi_connection.autocommit:
            return
        if dbapi_connection.info.transaction_status != intrans:
            return  # idle (nothing to end) or in error: the rollback that follows does it
        try:
            dbapi_connection.commit()
        except Exception:  # noqa: BLE001 - the rollback that follows fails and reports it
            pass

