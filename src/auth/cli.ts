// `alluse-market keys …`: create, list and revoke API keys in the data directory's database.
// The full key is printed once, at creation; afterwards only its id and scopes are shown.
// A running server picks up a revocation made here within a second (KeyStore.syncRevocations);
// the admin API (DELETE /v1/admin/keys/:id) does the same without a second process.
//
// It runs beside a server on purpose (keys are made while it serves), so it does not need the
// data directory's lock (src/store/lock.ts) and writes through SQLite's own locking. It does take
// the lock when it is free, so no server starts while it migrates a database; when a server holds
// it, the database is that server's and is used only at this program's schema, never migrated.

import { loadConfig, ConfigError } from "../config.ts";
import { dirname } from "node:path";
import { openDatabase, openDatabaseAsIs, SchemaMismatchError } from "../store/db.ts";
import { DataDirLockedError, lockDirs, type DirLock } from "../store/lock.ts";
import { dbPath } from "../oms/trading.ts";
import { KEY_SCOPES, KeyStore, type KeyScope } from "./keys.ts";

/** Usage of the keys command. */
export const KEYS_USAGE = `usage:
  alluse-market keys create --scope read|trade|admin[,…] [--accounts Gen-Acc,Rev-Acc] [--label TEXT] [--data-dir DIR | --config FILE]
  alluse-market keys list   [--data-dir DIR | --config FILE]
  alluse-market keys revoke ID [--data-dir DIR | --config FILE]
`;

/** Runs the keys command; returns the exit status (0 ok, 2 usage or config error). */
export async function runKeysCli(argv: string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const [verb, ...rest] = argv;
  const own = new Map<string, string>();
  const positional: string[] = [];
  const passOn: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    const name = a.startsWith("--") ? a.slice(2).split("=")[0]! : "";
    if (name === "scope" || name === "accounts" || name === "label") {
      own.set(name, a.includes("=") ? a.slice(a.indexOf("=") + 1) : (rest[++i] ?? ""));
    } else if (name) {
      passOn.push(a);
      if (!a.includes("=") && i + 1 < rest.length && !rest[i + 1]!.startsWith("--")) passOn.push(rest[++i]!);
    } else positional.push(a);
  }
  let config;
  try {
    config = await loadConfig(passOn);
  } catch (e) {
    if (e instanceof ConfigError) {
      for (const line of e.lines) err(`${line}\n`);
      return 2;
    }
    throw e;
  }
  const path = dbPath(config.trading, config.dataDir);
  let lock: DirLock | undefined, server: DataDirLockedError | undefined;
  try {
    lock = lockDirs([config.dataDir, dirname(path)]);
  } catch (e) {
    if (!(e instanceof DataDirLockedError)) throw e;
    server = e;
  }
  let db;
  try {
    db = lock ? openDatabase(path, config.trading.durability) : openDatabaseAsIs(path, config.trading.durability);
  } catch (e) {
    lock?.release();
    if (!(e instanceof SchemaMismatchError)) throw e;
    err(`${e.message}, and the server running on it (pid ${server?.holderPid ?? "unknown"}) owns it: stop that server, or use the alluse-market it runs\n`);
    return 2;
  }
  try {
    const keys = new KeyStore(db);
    if (verb === "create") {
      const scopes = (own.get("scope") ?? "").split(",").filter(Boolean);
      const bad = scopes.find((s) => !KEY_SCOPES.includes(s as KeyScope));
      if (scopes.length === 0 || bad) {
        err(`--scope must list ${KEY_SCOPES.join(", ")}${bad ? `; got ${bad}` : ""}\n${KEYS_USAGE}`);
        return 2;
      }
      const accounts = (own.get("accounts") ?? "*").split(",").filter(Boolean);
      const unknown = accounts.find((a) => a !== "*" && !config.trading.accounts.list.some((x) => x.id === a));
      if (unknown) {
        err(`--accounts: no account ${unknown} in the configuration\n`);
        return 2;
      }
      const { secret, key } = keys.create(scopes as KeyScope[], accounts, own.get("label") ?? "");
      out(`${secret}\n`);
      err(`created key ${key.id} scopes=${key.scopes.join(",")} accounts=${key.accounts.join(",")}; the key is shown only this once\n`);
      return 0;
    }
    if (verb === "list") {
      for (const k of keys.list()) {
        out(`${k.id}  scopes=${k.scopes.join(",")}  accounts=${k.accounts.join(",")}  created=${new Date(k.createdTs).toISOString()}` +
          `${k.revokedTs ? `  revoked=${new Date(k.revokedTs).toISOString()}` : ""}${k.label ? `  label=${k.label}` : ""}\n`);
      }
      return 0;
    }
    if (verb === "revoke" && positional.length === 1) {
      if (keys.revoke(positional[0]!)) {
        out(`revoked ${positional[0]}\n`);
        return 0;
      }
      err(`no live key ${positional[0]}\n`);
      return 2;
    }
    err(KEYS_USAGE);
    return 2;
  } finally {
    db.close();
    lock?.release();
  }
}
