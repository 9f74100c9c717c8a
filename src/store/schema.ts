// The SQLite schema as an ordered list of migrations. A migration is never edited once
// released; a change is a new entry. Version n is recorded in schema_migrations when its SQL
// has run, in the same transaction, so a crash mid-migration leaves the previous version.
//
// Money is integer micros, prices integer price units (exact in SQLite's 64-bit integers and
// in a double below 2^53), times epoch ms.

/** One schema step. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Every migration, in order; versions are 1, 2, 3, … without gaps. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "orders, order events, fills, cash, accounts",
    sql: `
      CREATE TABLE accounts (
        id TEXT PRIMARY KEY,
        mode TEXT NOT NULL,
        created_ts INTEGER NOT NULL
      );
      CREATE TABLE orders (
        id TEXT PRIMARY KEY,
        num INTEGER NOT NULL UNIQUE,
        account TEXT NOT NULL,
        client_order_id TEXT NOT NULL,
        symbol TEXT NOT NULL,
        side TEXT NOT NULL,
        type TEXT NOT NULL,
        tif TEXT NOT NULL,
        qty INTEGER NOT NULL,
        limit_units INTEGER,
        stop_units INTEGER,
        multiplier INTEGER NOT NULL,
        status TEXT NOT NULL,
        open INTEGER NOT NULL,
        filled_qty INTEGER NOT NULL,
        avg_fill_units REAL NOT NULL,
        triggered INTEGER NOT NULL,
        broker_order_id TEXT,
        reason TEXT,
        created_ts INTEGER NOT NULL,
        updated_ts INTEGER NOT NULL,
        version INTEGER NOT NULL,
        UNIQUE (account, client_order_id)
      );
      CREATE INDEX orders_open ON orders (num) WHERE open = 1;
      CREATE INDEX orders_account ON orders (account, num);
      CREATE TABLE order_events (
        seq INTEGER PRIMARY KEY,
        order_id TEXT NOT NULL,
        ts INTEGER NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        detail TEXT
      );
      CREATE INDEX order_events_order ON order_events (order_id, seq);
      CREATE TABLE fills (
        seq INTEGER PRIMARY KEY,
        fill_id TEXT NOT NULL UNIQUE,
        order_id TEXT,
        account TEXT NOT NULL,
        symbol TEXT NOT NULL,
        side TEXT NOT NULL,
        qty INTEGER NOT NULL,
        price_units INTEGER NOT NULL,
        multiplier INTEGER NOT NULL,
        commission_micros INTEGER NOT NULL,
        ts INTEGER NOT NULL,
        kind TEXT NOT NULL
      );
      CREATE INDEX fills_account ON fills (account, seq);
      CREATE INDEX fills_order ON fills (order_id, seq);
      CREATE TABLE cash (
        seq INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        amount_micros INTEGER NOT NULL,
        ts INTEGER NOT NULL,
        memo TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: "api keys",
    sql: `
      CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        hash TEXT NOT NULL,
        scopes TEXT NOT NULL,
        accounts TEXT NOT NULL,
        label TEXT NOT NULL,
        created_ts INTEGER NOT NULL,
        revoked_ts INTEGER
      );
    `,
  },
  {
    // Every order is written at least twice (write-ahead, then its outcome), so each index on
    // it costs on the hot path: the order number becomes the rowid and the text id (always
    // "O" + number) is derived, which drops two B-trees per write.
    version: 3,
    name: "orders keyed by their number",
    sql: `
      CREATE TABLE orders_v3 (
        num INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        client_order_id TEXT NOT NULL,
        symbol TEXT NOT NULL,
        side TEXT NOT NULL,
        type TEXT NOT NULL,
        tif TEXT NOT NULL,
        qty INTEGER NOT NULL,
        limit_units INTEGER,
        stop_units INTEGER,
        multiplier INTEGER NOT NULL,
        status TEXT NOT NULL,
        open INTEGER NOT NULL,
        filled_qty INTEGER NOT NULL,
        avg_fill_units REAL NOT NULL,
        triggered INTEGER NOT NULL,
        broker_order_id TEXT,
        reason TEXT,
        created_ts INTEGER NOT NULL,
        updated_ts INTEGER NOT NULL,
        version INTEGER NOT NULL,
        UNIQUE (account, client_order_id)
      );
      INSERT INTO orders_v3 SELECT num, account, client_order_id, symbol, side, type, tif, qty, limit_units, stop_units, multiplier,
        status, open, filled_qty, avg_fill_units, triggered, broker_order_id, reason, created_ts, updated_ts, version FROM orders;
      DROP TABLE orders;
      ALTER TABLE orders_v3 RENAME TO orders;
      CREATE INDEX orders_open ON orders (num) WHERE open = 1;
      CREATE INDEX orders_account ON orders (account, num);
    `,
  },
  {
    // One row per alert (src/monitor/alerts.ts). The partial unique index is the deduplication
    // rule itself: at most one alert per (rule, key) that is not resolved. Resolved rows are
    // pruned oldest first, so the second index keeps that delete cheap.
    version: 4,
    name: "alerts",
    sql: `
      CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        rule TEXT NOT NULL,
        key TEXT NOT NULL,
        state TEXT NOT NULL,
        severity TEXT NOT NULL,
        value REAL,
        threshold REAL,
        message TEXT NOT NULL,
        raised_ts INTEGER NOT NULL,
        updated_ts INTEGER NOT NULL,
        acked_ts INTEGER,
        acked_by TEXT,
        resolved_ts INTEGER
      );
      CREATE UNIQUE INDEX alerts_active ON alerts (rule, key) WHERE state != 'resolved';
      CREATE INDEX alerts_resolved ON alerts (id) WHERE state = 'resolved';
    `,
  },
  {
    // Risk (src/risk/): trading states per account ("*" is firm-wide), admin limit overrides,
    // each account's equity at the session open and its peak since, and the audit trail of
    // every state change, limit change and kill switch (who, when, old, new).
    version: 5,
    name: "risk states, limits, session equity and audit",
    sql: `
      CREATE TABLE risk_state (
        scope TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        reason TEXT NOT NULL,
        manual INTEGER NOT NULL,
        since_ts INTEGER NOT NULL
      );
      CREATE TABLE risk_limits (
        account TEXT PRIMARY KEY,
        override TEXT NOT NULL,
        updated_ts INTEGER NOT NULL
      );
      CREATE TABLE risk_session (
        account TEXT PRIMARY KEY,
        date TEXT NOT NULL,
        open_equity REAL NOT NULL,
        peak_equity REAL NOT NULL
      );
      CREATE TABLE risk_audit (
        seq INTEGER PRIMARY KEY,
        ts INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        scope TEXT NOT NULL,
        old TEXT,
        new TEXT
      );
    `,
  },
  {
    // An order's events of one journal batch (typically submitted, accepted, fill) become one
    // row, a JSON array of [seq, ts, kind, status, detail] keyed by the group's last sequence
    // number: one row and one index entry per order per batch instead of one each per event,
    // which was half of the writer thread's time. Existing events become groups of one. The view
    // keeps the old one-row-per-event shape for ad-hoc queries (not for the hot path).
    version: 6,
    name: "order events grouped per order and batch",
    sql: `
      CREATE TABLE order_event_groups (
        seq INTEGER PRIMARY KEY,
        order_num INTEGER NOT NULL,
        events TEXT NOT NULL
      );
      INSERT INTO order_event_groups (seq, order_num, events)
        SELECT seq, CAST(substr(order_id, 2) AS INTEGER), json_array(json_array(seq, ts, kind, status, json(detail))) FROM order_events;
      DROP TABLE order_events;
      CREATE INDEX order_event_groups_order ON order_event_groups (order_num, seq);
      CREATE VIEW order_events AS
        SELECT e.value ->> 0 AS seq, 'O' || g.order_num AS order_id, e.value ->> 1 AS ts, e.value ->> 2 AS kind,
          e.value ->> 3 AS status, e.value ->> 4 AS detail
        FROM order_event_groups g, json_each(g.events) e;
    `,
  },
  {
    // Risk across restarts (docs/risk.md, "Marks" and "Admin decisions"): the last live mark of
    // every held instrument, so a restarted server values a position at its last known price
    // (flagged stale) instead of nothing; and an admin's decision against the loss policy (the
    // loss and drawdown the policy may next act at, for one trading day) beside its state.
    version: 7,
    name: "risk marks and admin policy overrides",
    sql: `
      CREATE TABLE risk_marks (
        symbol TEXT PRIMARY KEY,
        mark REAL NOT NULL,
        ts INTEGER NOT NULL
      );
      ALTER TABLE risk_state ADD COLUMN override TEXT;
    `,
  },
  {
    // IBKR's outsideRth and triggerMethod became order terms (issue 11, docs/orders.md).
    version: 8,
    name: "order outsideRth and trigger method",
    sql: `
      ALTER TABLE orders ADD COLUMN outside_rth INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE orders ADD COLUMN trigger_method TEXT;
    `,
  },
  {
    // Daily ATM implied vol per underlying, for IV rank and percentile (issue 13,
    // src/options/iv-history.ts): one row per New York day, the day's last sample; days past
    // strategy.ivKeepDays are deleted.
    version: 9,
    name: "iv history",
    sql: `
      CREATE TABLE iv_history (
        underlying TEXT NOT NULL,
        day TEXT NOT NULL,
        iv REAL NOT NULL,
        ts INTEGER NOT NULL,
        PRIMARY KEY (underlying, day)
      ) WITHOUT ROWID;
      CREATE INDEX iv_history_day ON iv_history (day);
    `,
  },
];
