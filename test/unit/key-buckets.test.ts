// Per-key rate buckets are released when their key is revoked: the bucket map of a REST
// authenticator stays at one entry per live key used, however many keys come and go. Real
// KeyStore on a real SQLite file, real Hono routing; revocations both through the store and by
// another process's store (the keys CLI), picked up by syncRevocations.

import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { KeyStore } from "../../src/auth/keys.ts";
import { KeyBuckets, keyAuthenticator } from "../../src/server/key-auth.ts";
import { openDatabase } from "../../src/store/db.ts";

const dir = mkdtempSync(join(tmpdir(), "alluse-key-buckets-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("a revoked key's bucket is dropped, so buckets never outnumber the live keys used", async () => {
  const path = join(dir, "alluse.db");
  const keys = new KeyStore(openDatabase(path, "none"));
  const cli = new KeyStore(openDatabase(path, "none"));
  const buckets = new KeyBuckets(keys, 1000, 1000);
  const auth = keyAuthenticator({ keys, keyRatePerS: 1000, keyBurst: 1000 }, buckets);
  const app = new Hono();
  app.get("/x", (c) => {
    const k = auth(c, "trade");
    return k instanceof Response ? k : c.text("ok");
  });
  const LIVE = 3;
  const rounds = 40;
  const held: { id: string; secret: string }[] = [];
  for (let i = 0; i < rounds; i++) {
    const { secret, key } = keys.create(["trade"], ["*"]);
    const res = await app.request("/x", { headers: { authorization: `Bearer ${secret}` } });
    expect(res.status).toBe(200);
    held.push({ id: key.id, secret });
    if (held.length > LIVE) {
      const old = held.shift()!;
      // Half the revocations go through this store, half through another one (as the CLI does).
      if (i % 2) keys.revoke(old.id);
      else {
        cli.revoke(old.id);
        keys.syncRevocations();
      }
      const res = await app.request("/x", { headers: { authorization: `Bearer ${old.secret}` } });
      expect(res.status).toBe(401);
    }
    expect(buckets.size).toBeLessThanOrEqual(LIVE + 1);
  }
  expect(buckets.size).toBe(LIVE);
});
