// API keys. A key is "ak_<id>_<secret>": the id finds the record, the secret (32 random bytes,
// base64url) is checked against its SHA-256, compared in constant time. Only the hash is
// stored, so the database never holds a usable key; the full key is shown once, at creation.
// A plain hash suffices because the secret has 256 bits of entropy: there is nothing to guess.
// Scopes: read (market data), trade (orders, positions and fills of the listed accounts, or
// all with "*"), admin (everything).

import type { Database, Statement } from "bun:sqlite";
import { randomBytes, timingSafeEqual } from "node:crypto";
import { addListener } from "../domain/listeners.ts";

/** What a key may do. */
export type KeyScope = "read" | "trade" | "admin";

/** Every scope, for validation. */
export const KEY_SCOPES: readonly KeyScope[] = ["read", "trade", "admin"];

/** A key's record, without its secret. */
export interface ApiKey {
  id: string;
  scopes: KeyScope[];
  /** Accounts a trade key may act on; ["*"] for all. */
  accounts: string[];
  label: string;
  createdTs: number;
  revokedTs?: number;
}

/** Keys remembered after a lookup, so a verification costs one hash, not a query. */
const CACHE_MAX = 10_000;

/** SHA-256 of a secret. Bun's one-shot hash: a node:crypto Hash object per request cost ~3× as much. */
function sha256(text: string): Buffer {
  const h = Bun.SHA256.hash(text) as Uint8Array;
  return Buffer.from(h.buffer, h.byteOffset, h.byteLength);
}

/** True when `key` may act on `account` with the trade scope (admin may act on any). */
export function mayTrade(key: ApiKey, account: string): boolean {
  if (key.scopes.includes("admin")) return true;
  return key.scopes.includes("trade") && (key.accounts.includes("*") || key.accounts.includes(account));
}

/** True when the key carries `scope` (admin carries every scope). */
export function hasScope(key: ApiKey, scope: KeyScope): boolean {
  return key.scopes.includes("admin") || key.scopes.includes(scope);
}

/** API keys over the store's api_keys table. */
export class KeyStore {
  private readonly cache = new Map<string, { hash: Buffer; key: ApiKey }>();
  private readonly revokeListeners: ((id: string) => void)[] = [];
  /** Ids known to be revoked, so syncRevocations() reports each once (bounded by the keys ever revoked). */
  private readonly revokedIds = new Set<string>();
  private readonly q: Record<"insert" | "byId" | "live" | "revoked" | "all" | "revoke", Statement>;

  constructor(db: Database) {
    this.q = {
      insert: db.prepare("INSERT INTO api_keys (id, hash, scopes, accounts, label, created_ts) VALUES (?, ?, ?, ?, ?, ?)"),
      byId: db.prepare("SELECT * FROM api_keys WHERE id = ?"),
      live: db.prepare("SELECT COUNT(*) AS n FROM api_keys WHERE revoked_ts IS NULL"),
      revoked: db.prepare("SELECT id, revoked_ts FROM api_keys WHERE revoked_ts IS NOT NULL"),
      all: db.prepare("SELECT * FROM api_keys ORDER BY created_ts"),
      revoke: db.prepare("UPDATE api_keys SET revoked_ts = ? WHERE id = ? AND revoked_ts IS NULL"),
    };
    for (const r of this.q.revoked.all() as Row[]) this.revokedIds.add(r.id as string);
  }

  /** Creates a key; the returned `secret` is the only copy of the full key. */
  create(scopes: KeyScope[], accounts: string[], label = "", nowMs = Date.now()): { secret: string; key: ApiKey } {
    if (scopes.length === 0) throw new Error("a key needs at least one scope");
    const id = randomBytes(6).toString("hex");
    const secret = randomBytes(32).toString("base64url");
    const key: ApiKey = { id, scopes: [...new Set(scopes)], accounts: accounts.length ? accounts : ["*"], label, createdTs: nowMs };
    this.q.insert.run(id, sha256(secret).toString("hex"), key.scopes.join(","), key.accounts.join(","), label, nowMs);
    return { secret: `ak_${id}_${secret}`, key };
  }

  /** The key a bearer token stands for, or undefined when it is malformed, unknown, wrong or revoked. */
  verify(token: string): ApiKey | undefined {
    const m = /^ak_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/.exec(token);
    if (!m) return undefined;
    const entry = this.lookup(m[1]!);
    if (!entry) return undefined;
    const ok = timingSafeEqual(entry.hash, sha256(m[2]!));
    return ok && entry.key.revokedTs === undefined ? entry.key : undefined;
  }

  /** Every key, revoked ones included. */
  list(): ApiKey[] {
    return (this.q.all.all() as Row[]).map(toKey);
  }

  /** One key's record (revoked or not), undefined for an unknown id. */
  get(id: string): ApiKey | undefined {
    const row = this.q.byId.get(id) as Row | null;
    return row ? toKey(row) : undefined;
  }

  /** Keys not revoked. */
  liveCount(): number {
    return (this.q.live.get() as { n: number }).n;
  }

  /** Revokes a key; returns false when there is no live key with that id. Listeners hear of each revocation. */
  revoke(id: string, nowMs = Date.now()): boolean {
    const cached = this.cache.get(id);
    this.cache.delete(id);
    const done = this.q.revoke.run(nowMs, id).changes > 0;
    if (!done) return false;
    this.revokedIds.add(id);
    // Holders of the record (an authenticated connection) see it revoked too.
    if (cached) cached.key.revokedTs = nowMs;
    for (const l of this.revokeListeners) l(id);
    return true;
  }

  /**
   * Picks up revocations made by another process (the keys CLI) on the same database: forgets
   * their cached records and tells the listeners, as revoke() does. Returns how many were new.
   * The app calls it every second; the api_keys table is small, so a scan is cheap.
   */
  syncRevocations(): number {
    let n = 0;
    for (const r of this.q.revoked.all() as Row[]) {
      const id = r.id as string;
      if (this.revokedIds.has(id)) continue;
      this.revokedIds.add(id);
      const cached = this.cache.get(id);
      this.cache.delete(id);
      if (cached) cached.key.revokedTs = r.revoked_ts as number;
      for (const l of this.revokeListeners) l(id);
      n++;
    }
    return n;
  }

  /** Calls `listener(id)` after every revocation through this store (or found by syncRevocations); returns a function that removes it. */
  onRevoke(listener: (id: string) => void): () => void {
    return addListener(this.revokeListeners, listener);
  }

  private lookup(id: string): { hash: Buffer; key: ApiKey } | undefined {
    const hit = this.cache.get(id);
    if (hit) return hit;
    const row = this.q.byId.get(id) as Row | null;
    if (!row) return undefined;
    const entry = { hash: Buffer.from(row.hash as string, "hex"), key: toKey(row) };
    // Revocations made by another process (the CLI) are seen once the entry leaves the cache;
    // a bounded cache is also what keeps a flood of random ids from growing memory.
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(id, entry);
    return entry;
  }
}

type Row = Record<string, string | number | null>;

function toKey(r: Row): ApiKey {
  const k: ApiKey = {
    id: r.id as string, scopes: (r.scopes as string).split(",") as KeyScope[], accounts: (r.accounts as string).split(","),
    label: r.label as string, createdTs: r.created_ts as number,
  };
  if (r.revoked_ts !== null) k.revokedTs = r.revoked_ts as number;
  return k;
}
