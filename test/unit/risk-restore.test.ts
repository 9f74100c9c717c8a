// What the risk service reloads at start when a stored row is damaged (src/risk/restore.ts):
// the row is logged and dropped, or for a trading state read as halted, and nothing throws.
// A real SQLite file, written with bad rows by plain SQL as a damaged file would hold them.

import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Database } from "bun:sqlite";
import { createLogger } from "../../src/log.ts";
import { loadLimitOverrides, loadStates } from "../../src/risk/restore.ts";
import type { StateInfo } from "../../src/risk/service.ts";
import { openDatabase } from "../../src/store/db.ts";
import { RiskStore } from "../../src/store/risk.ts";

let dir: string, db: Database | undefined;
afterEach(() => {
  db?.close();
  db = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function setup() {
  dir = mkdtempSync(join(tmpdir(), "alluse-restore-"));
  db = openDatabase(join(dir, "store.db"), "normal");
  const lines: Record<string, unknown>[] = [];
  const log = createLogger("debug", "test", (l) => void lines.push(JSON.parse(l)));
  return { db, store: new RiskStore(db), log, lines };
}

describe("risk restore with damaged rows", () => {
  test("a limit override that is not JSON, or not a valid override, is dropped and logged; good ones load", () => {
    const { db, store, log, lines } = setup();
    const put = db.prepare("INSERT INTO risk_limits (account, override, updated_ts) VALUES (?, ?, 0)");
    put.run("Good", JSON.stringify({ maxOpenOrders: 7 }));
    put.run("NotJson", "{\"maxOpenOrders\": 7");
    put.run("BadShape", JSON.stringify({ maxOpenOrders: "many" }));
    const o = loadLimitOverrides(store, log);
    expect([...o.keys()]).toEqual(["Good"]);
    expect(o.get("Good")).toMatchObject({ maxOpenOrders: 7 });
    const warned = lines.filter((l) => l.msg === "stored risk limits ignored").map((l) => [l.account, String(l.error).startsWith("not JSON")]);
    expect(warned).toEqual([["NotJson", true], ["BadShape", false]]);
  });

  test("a state with a damaged override keeps its state without the override; an unknown state restores halted", () => {
    const { db, store, log, lines } = setup();
    const put = db.prepare("INSERT INTO risk_state (scope, state, reason, manual, since_ts, override) VALUES (?, ?, 'r', 1, 5, ?)");
    put.run("A", "active", "not json at all");
    put.run("B", "reducing", null);
    put.run("C", "halte\u0000d", null);
    const states = new Map<string, StateInfo>();
    loadStates(store, log, states);
    expect(states.get("A")).toEqual({ state: "active", reason: "r", manual: true, sinceTs: 5 });
    expect(states.get("B")?.state).toBe("reducing");
    expect(states.get("C")).toMatchObject({ state: "halted", manual: true, sinceTs: 5 });
    expect(states.get("C")!.reason).toContain("unreadable");
    expect(lines.some((l) => l.msg === "stored risk state override ignored" && l.scope === "A" && String(l.error).startsWith("not JSON"))).toBe(true);
    expect(lines.some((l) => l.level === "error" && l.scope === "C")).toBe(true);
  });

  test("the audit trail lists a damaged old/new value as its stored text", () => {
    const { db, store } = setup();
    store.audit(1, "admin", "set", "A", { state: "active" }, { state: "halted" });
    db.prepare("INSERT INTO risk_audit (ts, actor, action, scope, old, new) VALUES (2, 'admin', 'set', 'A', '{broken', NULL)").run();
    const trail = store.auditTrail("A", 10);
    expect(trail.map((r) => r.old)).toEqual(["{broken", { state: "active" }]);
    expect(trail[1]!.new).toEqual({ state: "halted" });
  });
});
