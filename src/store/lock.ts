// One server owns a data directory. Two servers on one directory each keep their own order id
// sequence over one journal, and whichever commits second fails its journal for good; so the
// second start must be refused before it opens anything there.
//
// The lock is the kernel's, not a file's existence: an SQLite database (alluse.lock) opened in
// exclusive locking mode and written once holds a POSIX write lock on its file for as long as
// the connection is open. The kernel drops that lock when the process dies, kill -9 included,
// so a crash never leaves a lock behind, and a reused pid cannot fake one. The holder's pid is
// written beside it (alluse.pid) only so that the refusal can name it; the pid proves nothing.
//
// The API key CLI (src/auth/cli.ts) does not take this lock: it writes the keys table through
// SQLite's own WAL locking, so keys can be created and revoked while the server runs.

import { Database } from "bun:sqlite";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** The lock database inside a locked directory. */
export const LOCK_FILE = "alluse.lock";
/** The holder's pid, one decimal line, inside a locked directory. */
export const PID_FILE = "alluse.pid";

/** Another process holds the directory; `holderPid` is what its pid file says (null when unreadable). */
export class DataDirLockedError extends Error {
  constructor(readonly dir: string, readonly holderPid: number | null) {
    super(`data directory ${dir} is in use by another alluse-market (pid ${holderPid ?? "unknown"}); stop it or use another --data-dir`);
    this.name = "DataDirLockedError";
  }
}

/** A held directory lock. */
export interface DirLock {
  /** The locked directory, absolute. */
  readonly dir: string;
  /** Removes the pid file and drops the lock; a second call does nothing. */
  release(): void;
}

/**
 * Connections of held locks. A Database that is garbage collected is closed by its finalizer,
 * which would silently drop the lock: this set keeps every held one reachable until released.
 */
const held = new Set<Database>();

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "SQLITE_BUSY" || code === "SQLITE_LOCKED";
}

/** The pid the holder wrote, or null when the file is missing, empty or not a pid. */
export function readHolderPid(dir: string): number | null {
  try {
    const text = readFileSync(join(dir, PID_FILE), "utf8").trim();
    return /^\d{1,10}$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}

/** Takes the directory (created if needed) for this process; throws DataDirLockedError when another holds it. */
export function lockDir(dir: string): DirLock {
  const abs = resolve(dir);
  mkdirSync(abs, { recursive: true });
  const db = new Database(join(abs, LOCK_FILE), { create: true });
  try {
    // No waiting: a held lock is held by a running server, which will not let go soon.
    db.exec("PRAGMA busy_timeout = 0");
    db.exec("PRAGMA locking_mode = EXCLUSIVE");
    // No journal file beside the lock: the one row written here is not worth one.
    db.exec("PRAGMA journal_mode = MEMORY");
    // The first write takes the exclusive lock; exclusive locking mode keeps it until close.
    db.exec("BEGIN EXCLUSIVE");
    db.exec("CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL, since_ts INTEGER NOT NULL)");
    db.exec("DELETE FROM holder");
    // Finalized at once: a statement left open would keep the connection, and so the lock, alive after close().
    const insert = db.prepare("INSERT INTO holder (pid, since_ts) VALUES (?, ?)");
    insert.run(process.pid, Date.now());
    insert.finalize();
    db.exec("COMMIT");
  } catch (err) {
    db.close();
    if (isBusy(err)) throw new DataDirLockedError(abs, readHolderPid(abs));
    throw err;
  }
  held.add(db);
  // Written whole then renamed, so a refused process never reads half a pid.
  const pidPath = join(abs, PID_FILE);
  try {
    writeFileSync(`${pidPath}.tmp`, `${process.pid}\n`);
    renameSync(`${pidPath}.tmp`, pidPath);
  } catch (err) {
    held.delete(db);
    db.close();
    throw err;
  }
  return {
    dir: abs,
    release() {
      if (!held.delete(db)) return;
      // The pid file goes while the lock is still ours: removed later, it could be the next holder's.
      rmSync(pidPath, { force: true });
      db.close(true);
    },
  };
}

/** Locks every directory in `dirs` (duplicates once), all or none. */
export function lockDirs(dirs: readonly string[]): DirLock {
  const unique = [...new Set(dirs.map((d) => resolve(d)))];
  const locks: DirLock[] = [];
  try {
    for (const d of unique) locks.push(lockDir(d));
  } catch (err) {
    for (const l of [...locks].reverse()) l.release();
    throw err;
  }
  return { dir: unique[0]!, release: () => { for (const l of [...locks].reverse()) l.release(); } };
}
