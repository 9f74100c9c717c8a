// The risk region holds the accounts a deployment configures, not always the module's 64: each
// account row reserves 1,024 position rows and their per-underlying sums (~340 KB prefaulted),
// so 3 accounts need ~1 MB where 64 took ~22 MB. A real WASM engine, real tables.

import { describe, expect, test } from "bun:test";
import { Engine } from "../../src/engine/engine.ts";
import { DEFAULT_RISK_ACCOUNTS } from "../../src/engine/wasm.ts";
import { RiskBook } from "../../src/risk/book.ts";
import { RiskTables } from "../../src/risk/tables.ts";

const small = { core: "wasm" as const, maxInstruments: 16, ringCapacity: 1024, barHistory: 10, prefault: false };

describe("risk region capacity", () => {
  test("an engine planned for 3 accounts has 3 account rows, and memory for 3, not 64", async () => {
    const three = await Engine.create({ ...small, maxAccounts: 3 });
    const all = await Engine.create(small);
    const t3 = RiskTables.create(three), t64 = RiskTables.create(all);
    expect(t3.maxAccounts).toBe(3);
    expect(t64.maxAccounts).toBe(DEFAULT_RISK_ACCOUNTS);
    // Each account: 1,024 position rows (POS_STRIDE f64) and 1,024 underlying-sum slots (US_STRIDE f64), plus its row.
    const g = t3.g;
    const perAccount = 1024 * (g.POS_STRIDE! + g.US_STRIDE!) * 8 + g.ACC_STRIDE! * 8;
    const saved = all.core.buffer.byteLength - three.core.buffer.byteLength;
    expect(saved).toBeGreaterThanOrEqual(61 * perAccount - 65536);
    expect(saved).toBeLessThanOrEqual(61 * perAccount + 65536 * 2);
  });

  test("a fourth account does not fit a region planned for three: a clear error, the three keep working", async () => {
    const engine = await Engine.create({ ...small, maxAccounts: 3 });
    const t = RiskTables.create(engine);
    const book = new RiskBook(t, engine, engine.options.maxInstruments);
    expect([book.addAccount("A", 1e5, "cash"), book.addAccount("B", 1e5, "regT"), book.addAccount("C", 1e5, "regT")]).toEqual([0, 1, 2]);
    expect(() => book.addAccount("D", 1e5, "regT")).toThrow("risk region holds 3 accounts; D is one too many");
    expect(book.addAccount("B", 1e5, "regT")).toBe(1);
  });

  test("capacities outside 1 to 64 accounts are refused when the engine is created", async () => {
    await expect(Engine.create({ ...small, maxAccounts: 0 })).rejects.toThrow("maxAccounts at most 64");
    await expect(Engine.create({ ...small, maxAccounts: 65 })).rejects.toThrow("maxAccounts at most 64");
  });
});
