// Opens the SQLite file in WAL mode with the configured durability and brings its schema up to
// date. WAL lets readers run beside the single writer and turns each commit into one append
// (plus one fsync with "full"), which is what group commit needs.

import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { MIGRATIONS, type Migration } from "./schema.ts";

/**
 * How hard a commit is pushed to disk. "full": fsync of the WAL on every commit (survives
 * power loss); "normal": no fsync on commit (survives a process crash such as kill -9, may lose
 * the last commits on power loss); "none": no syncing at all (tests and benchmarks only).
 */
export type Durability = "none" | "normal" | "full";

/** Every durability, for validation. */
export const DURABILITIES: readonly Durability[] = ["none", "normal", "full"];

const SYNCHRONOUS: Record<Durability, string> = { none: "OFF", normal: "NORMAL", full: "FULL" };

/** The `PRAGMA synchronous` value of a durability (the checkpointer's connection uses it too). */
export const synchronousOf = (d: Durability): string => SYNCHRONOUS[d];

/**
 * WAL pages after which a connection of ours checkpoints by itself after its commit: only a
 * backstop (≈64 MB at 4 KB pages). The checkpointer thread (checkpointer.ts) keeps the WAL far
 * smaller; SQLite's default of 1,000 pages made the journal's writer copy pages into the
 * database and fsync it inside about one commit in a hundred, which was its p99.
 */
export const WAL_BACKSTOP_PAGES = 16_384;

/**
 * Bytes a WAL that grew in a spike (a reader holding an old snapshot kept it from being started
 * over) is cut back to when SQLite next starts it over: above what the backstop lets it reach,
 * because cutting a 64 MB WAL to 16 MB was measured to stall that commit by ~20 ms.
 */
export const WAL_SIZE_LIMIT_BYTES = 80 << 20;

/** Opens (creating if needed) the database at `path` and migrates it; ":memory:" works for tests. */
export function openDatabase(path: string, durability: Durability, migrations: readonly Migration[] = MIGRATIONS): Database {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { create: true, strict: true });
  try {
    db.exec("PRAGMA journal_mode = WAL");
    db.exec(`PRAGMA synchronous = ${SYNCHRONOUS[durability]}`);
    // The keys CLI writes beside a running server (store/lock.ts): wait out its commits, briefly.
    db.exec("PRAGMA busy_timeout = 1000");
    db.exec(`PRAGMA wal_autocheckpoint = ${WAL_BACKSTOP_PAGES}`);
    db.exec(`PRAGMA journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
    migrate(db, migrations);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/** A database whose schema is not the one this program was built for, and must not be migrated now. */
export class SchemaMismatchError extends Error {
  constructor(readonly path: string, readonly found: number, readonly expected: number) {
    super(`database ${path} has schema version ${found}; this program expects ${expected}`);
    this.name = "SchemaMismatchError";
  }
}

/**
 * Opens a database that another process (a running server) owns, without migrating it: that
 * process prepared its statements for the schema it found, so only a database already at this
 * program's version is used; anything else is a SchemaMismatchError.
 */
export function openDatabaseAsIs(path: string, durability: Durability, migrations: readonly Migration[] = MIGRATIONS): Database {
  const db = new Database(path, { strict: true });
  try {
    db.exec(`PRAGMA synchronous = ${SYNCHRONOUS[durability]}`);
    db.exec("PRAGMA busy_timeout = 1000");
    const found = schemaVersion(db), expected = migrations.at(-1)?.version ?? 0;
    if (found !== expected) throw new SchemaMismatchError(path, found, expected);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/** The schema version of an open database (0 when empty). */
export function schemaVersion(db: Database): number {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ts INTEGER NOT NULL)");
  const row = db.query("SELECT MAX(version) AS v FROM schema_migrations").get() as { v: number | null };
  return row.v ?? 0;
}

/** Applies the migrations the database has not seen, each in its own transaction. */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): number {
  const current = schemaVersion(db);
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new Error(`database schema version ${current} is newer than this program's ${latest}: use a newer alluse-market or another data directory`);
  }
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${m.name} has version ${m.version}, expected ${i + 1}`);
  });
  const record = db.prepare("INSERT INTO schema_migrations (version, name, applied_ts) VALUES (?, ?, ?)");
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.version, m.name, Date.now());
    })();
  }
  return latest;
}
