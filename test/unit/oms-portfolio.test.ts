// Positions and P&L as a fold over fills: average cost, partial closes, flips through zero,
// shorts, commissions, valuation and buying power, and option settlement fills.

import { describe, expect, test } from "bun:test";
import type { Instrument } from "../../src/domain/instrument.ts";
import type { Fill } from "../../src/domain/order.ts";
import { toUnits } from "../../src/domain/price.ts";
import { DEFAULT_ACCOUNTS, accountsSchema } from "../../src/oms/accounts.ts";
import { settlementFills } from "../../src/oms/expiry.ts";
import { Portfolio } from "../../src/oms/portfolio.ts";
import { accountView, positionView } from "../../src/oms/valuation.ts";
import { underlyingBasisView } from "../../src/oms/views.ts";

let seq = 0;
const fill = (side: "buy" | "sell", qty: number, price: number, o: Partial<Fill> = {}): Fill => ({
  seq: ++seq, fillId: `f${seq}`, account: "A", symbol: "AAPL", side, qty, priceUnits: toUnits(price), multiplier: 1,
  commissionMicros: 0, ts: 0, kind: "trade", ...o,
});
const funded = (cash = 100_000) => {
  const p = new Portfolio();
  p.applyCash({ seq: 0, account: "A", amountMicros: cash * 1e6, ts: 0, memo: "deposit" });
  return p;
};

describe("average cost", () => {
  test("buys average; a partial sell realises against the average; the rest keeps it", () => {
    const p = funded();
    p.applyFill(fill("buy", 100, 10));
    const pos = p.applyFill(fill("buy", 100, 12));
    expect(pos).toMatchObject({ qty: 200, costMicros: 2_200_000_000 });
    p.applyFill(fill("sell", 50, 13));
    expect(p.position("A", "AAPL")).toMatchObject({ qty: 150, costMicros: 1_650_000_000, realizedMicros: 100_000_000 });
    expect(p.ledger("A")!.cashMicros).toBe((100_000 - 2200 + 650) * 1e6);
  });

  test("a sell through zero closes at the old basis and opens a short at the fill price", () => {
    const p = funded();
    p.applyFill(fill("buy", 100, 10));
    const pos = p.applyFill(fill("sell", 150, 11));
    expect(pos).toMatchObject({ qty: -50, costMicros: -550_000_000, realizedMicros: 100_000_000 });
    const back = p.applyFill(fill("buy", 50, 12));
    expect(back).toMatchObject({ qty: 0, costMicros: 0, realizedMicros: 50_000_000 });
  });

  test("a short option: the premium is the credit, buying back cheaper realises the difference", () => {
    const p = funded();
    p.applyFill(fill("sell", 2, 3.5, { symbol: "X-P", multiplier: 100 }));
    expect(p.position("A", "X-P")).toMatchObject({ qty: -2, costMicros: -700_000_000 });
    p.applyFill(fill("buy", 2, 1.25, { symbol: "X-P", multiplier: 100 }));
    expect(p.position("A", "X-P")).toMatchObject({ qty: 0, realizedMicros: 450_000_000 });
  });

  test("commissions leave cash, are counted, and are inside the average cost and realised P&L (IBKR's way)", () => {
    const p = funded();
    p.applyFill(fill("buy", 10, 10, { commissionMicros: 1_000_000 }));
    expect(positionView(p.position("A", "AAPL")!, () => undefined)).toMatchObject({ avgCost: 10.1, costBasis: 101 });
    p.applyFill(fill("sell", 10, 10, { commissionMicros: 1_000_000 }));
    // Bought for $101 all in, sold for $100 less $1: −$2, both commissions.
    expect(p.ledger("A")).toMatchObject({ cashMicros: (100_000 - 2) * 1e6, commissionsMicros: 2_000_000, realizedMicros: -2_000_000 });
  });

  test("hand-worked: two buys with $1 each average to $51.01; selling 150 at $55 for $1.30 realises $597.20", () => {
    const p = funded();
    p.applyFill(fill("buy", 100, 50, { commissionMicros: 1_000_000 }));
    p.applyFill(fill("buy", 100, 52, { commissionMicros: 1_000_000 }));
    // (5,000 + 1 + 5,200 + 1) / 200 = 51.01
    expect(positionView(p.position("A", "AAPL")!, () => undefined)).toMatchObject({ avgCost: 51.01, costBasis: 10_202 });
    p.applyFill(fill("sell", 150, 55, { commissionMicros: 1_300_000 }));
    // 8,250 − 150 × 51.01 (7,651.50) − 1.30 = 597.20; 50 left at 51.01 (2,550.50).
    const pos = p.position("A", "AAPL")!;
    expect(pos).toMatchObject({ qty: 50, costMicros: 2_550_500_000, realizedMicros: 597_200_000 });
    // Net P&L is realised + unrealised, and equals equity − deposits: 597.20 + (2,750 − 2,550.50) = 796.70.
    const view = accountView(p, "A", "cash", () => toUnits(55), () => undefined, []);
    expect(view).toMatchObject({ realizedPnl: 597.2, unrealizedPnl: 199.5, netPnl: 796.7, commissions: 3.3 });
    expect(view.equity - 100_000).toBeCloseTo(796.7, 9);
  });

  test("a sell through zero splits its commission by quantity: 150 sold for $1.50 closes 100 ($1.00) and opens 50 short ($0.50)", () => {
    const p = funded();
    p.applyFill(fill("buy", 100, 10, { commissionMicros: 1_000_000 }));
    const pos = p.applyFill(fill("sell", 150, 11, { commissionMicros: 1_500_000 }));
    // Close: 1,100 − 1,001 − 1.00 = 98; open: credit 550 less 0.50 → basis −549.50 (avg 10.99).
    expect(pos).toMatchObject({ qty: -50, costMicros: -549_500_000, realizedMicros: 98_000_000 });
    expect(positionView(pos, () => undefined).avgCost).toBeCloseTo(10.99, 10);
  });

  test("positions equal the sum of fills whatever the order of partial closes", () => {
    const p = funded(1_000_000);
    let net = 0;
    for (let i = 0; i < 500; i++) {
      const side = (i * 7919) % 3 === 0 ? "sell" : "buy";
      const qty = 1 + ((i * 104729) % 97);
      net += side === "buy" ? qty : -qty;
      p.applyFill(fill(side, qty, 50 + ((i * 31) % 17) / 100));
    }
    expect(p.position("A", "AAPL")!.qty).toBe(net);
  });
});

describe("valuation", () => {
  const inst = (symbol: string, o: Partial<Instrument> = {}): Instrument => ({ index: 0, symbol, kind: "stock", tickSize: 0.01, multiplier: 1, currency: "USD", ...o });
  const put: Instrument = inst("AAPL-20261127-P-100", { kind: "option", multiplier: 100, underlying: "AAPL", expiry: "20261127", strike: 100, right: "P" });
  const lookup = (s: string) => (s === put.symbol ? put : inst(s));

  test("marks give market value and unrealised P&L; unmarked positions sit at cost", () => {
    const p = funded();
    p.applyFill(fill("buy", 100, 10));
    expect(positionView(p.position("A", "AAPL")!, () => toUnits(11))).toMatchObject({ avgCost: 10, marketValue: 1100, unrealizedPnl: 100, mark: 11 });
    expect(positionView(p.position("A", "AAPL")!, () => undefined)).toMatchObject({ marketValue: 1000, unrealizedPnl: 0, mark: null });
  });

  test("cash account buying power: cash less secured puts and open buy orders", () => {
    const p = funded(50_000);
    p.applyFill(fill("sell", 2, 1.5, { symbol: put.symbol, multiplier: 100 }));
    const open = [{ id: "O1", account: "A", clientOrderId: "c", symbol: "AAPL", side: "buy", type: "limit", tif: "DAY", qty: 10, limitPriceUnits: toUnits(100),
      multiplier: 1, status: "accepted", filledQty: 0, avgFillPriceUnits: 0, triggered: false, createdTs: 0, updatedTs: 0, version: 1 }] as const;
    const v = accountView(p, "A", "cash", () => undefined, lookup, open);
    expect(v).toMatchObject({ cash: 50_300, buyingPower: 50_300 - 20_000 - 1_000, positions: 1, openOrders: 1 });
  });

  test("Reg-T buying power is twice the excess over the initial requirement", () => {
    const p = funded(10_000);
    p.applyFill(fill("buy", 100, 50));
    const v = accountView(p, "A", "regT", () => toUnits(50), lookup, []);
    expect(v).toMatchObject({ equity: 10_000, buyingPower: 2 * (10_000 - 2_500) });
  });
});

describe("option settlement", () => {
  const put: Instrument = { index: 0, symbol: "AAPL-20261127-P-100", kind: "option", tickSize: 0.01, multiplier: 100, currency: "USD",
    underlying: "AAPL", expiry: "20261127", strike: 100, right: "P" };
  const short = { account: "A", symbol: put.symbol, qty: -2, multiplier: 100, costMicros: -300_000_000, realizedMicros: 0, commissionsMicros: 0 };

  test("a short put in the money by a cent is assigned: shares bought at the strike", () => {
    const fills = settlementFills(short, put, toUnits(99.99), 5);
    expect(fills.map((f) => [f.kind, f.symbol, f.side, f.qty, f.priceUnits])).toEqual([
      ["assignment", put.symbol, "buy", 2, 0], ["assignment", "AAPL", "buy", 200, toUnits(100)],
    ]);
  });

  test("less than a cent in the money, or out of it, expires worthless", () => {
    expect(settlementFills(short, put, toUnits(99.995), 5).map((f) => f.kind)).toEqual(["expiry"]);
    expect(settlementFills(short, put, toUnits(120), 5).map((f) => f.kind)).toEqual(["expiry"]);
  });

  test("a long call in the money is exercised into shares", () => {
    const call = { ...put, symbol: "AAPL-20261127-C-100", right: "C" as const };
    const fills = settlementFills({ ...short, symbol: call.symbol, qty: 1, costMicros: 200_000_000 }, call, toUnits(105), 5);
    expect(fills.map((f) => [f.kind, f.side, f.qty])).toEqual([["exercise", "sell", 1], ["exercise", "buy", 100]]);
  });
});

describe("accounts", () => {
  test("the default is ALL-USE: Gen-Acc 40 %, Rev-Acc 30 %, Com-Acc 30 %", () => {
    expect(DEFAULT_ACCOUNTS.list.map((a) => [a.id, a.share])).toEqual([["Gen-Acc", 0.4], ["Rev-Acc", 0.3], ["Com-Acc", 0.3]]);
  });

  test("shares over 1 and duplicate ids are refused with the field", () => {
    const r = accountsSchema.safeParse({ list: [{ id: "A", share: 0.7 }, { id: "A", share: 0.5 }] });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join("."))).toEqual(["list", "list.1.id"]);
  });
});

describe("an exercised or assigned option's premium goes into the shares (IBKR's adjusted cost basis)", () => {
  const opt = (right: "C" | "P", strike: number): Instrument => ({ index: 0, symbol: `AAPL-20261127-${right}-${strike}`, kind: "option", tickSize: 0.01,
    multiplier: 100, currency: "USD", underlying: "AAPL", expiry: "20261127", strike, right });
  /** Trades `qty` contracts of `inst` at `price` with `commission` dollars, then settles them with AAPL at `underlying`. */
  const settle = (p: Portfolio, inst: Instrument, side: "buy" | "sell", price: number, commission: number, underlying: number) => {
    p.applyFill(fill(side, 1, price, { symbol: inst.symbol, multiplier: 100, commissionMicros: commission * 1e6 }));
    for (const f of settlementFills(p.position("A", inst.symbol)!, inst, toUnits(underlying), 1)) p.applyFill(f);
  };

  test("a short 100 put sold for $2.00 ($1.02 commission and fees) and assigned: 100 shares at $98.0102, nothing realised until they are sold", () => {
    const p = funded(20_000);
    settle(p, opt("P", 100), "sell", 2, 1.02, 95);
    // $10,000 at the strike less the $198.98 net premium = $9,801.02, $98.0102 a share.
    expect(p.position("A", "AAPL")).toMatchObject({ qty: 100, costMicros: 9_801_020_000, realizedMicros: 0 });
    expect(positionView(p.position("A", "AAPL")!, () => undefined)).toMatchObject({ avgCost: 98.0102 });
    expect(p.position("A", opt("P", 100).symbol)).toMatchObject({ qty: 0, costMicros: 0, realizedMicros: 0 });
    expect(p.ledger("A")).toMatchObject({ realizedMicros: 0, cashMicros: (20_000 + 198.98 - 10_000) * 1e6 });
    // Sold at $99 for $1.00: 9,900 − 9,801.02 − 1 = $97.98, the premium less the stock's loss and every commission.
    p.applyFill(fill("sell", 100, 99, { commissionMicros: 1_000_000 }));
    expect(p.ledger("A")!.realizedMicros).toBe(97_980_000);
  });

  test("a long 100 call bought for $3.00 ($1.00) and exercised: 100 shares at $103.01", () => {
    const p = funded(20_000);
    settle(p, opt("C", 100), "buy", 3, 1, 105);
    expect(p.position("A", "AAPL")).toMatchObject({ qty: 100, costMicros: 10_301_000_000 });
    expect(p.ledger("A")!.realizedMicros).toBe(0);
  });

  test("a long put exercised against shares held lowers the sale's proceeds; an assigned covered call raises them", () => {
    // 100 AAPL at $100 ($1.00): basis $10,001. Put 100 at $2.00 ($1.00) exercised: proceeds
    // 10,000 − 201 = 9,799, realised −$202 (the premium and both commissions).
    const a = funded(20_000);
    a.applyFill(fill("buy", 100, 100, { commissionMicros: 1_000_000 }));
    settle(a, opt("P", 100), "buy", 2, 1, 95);
    expect(a.position("A", "AAPL")).toMatchObject({ qty: 0, realizedMicros: -202_000_000 });
    expect(a.ledger("A")!.realizedMicros).toBe(-202_000_000);
    // Call 105 sold at $1.50 ($1.02) and assigned: proceeds 10,500 + 148.98, realised $647.98.
    const b = funded(20_000);
    b.applyFill(fill("buy", 100, 100, { commissionMicros: 1_000_000 }));
    settle(b, opt("C", 105), "sell", 1.5, 1.02, 110);
    expect(b.ledger("A")!.realizedMicros).toBe(647_980_000);
  });

  test("an option that expires worthless or lapses still realises its premium", () => {
    const p = funded(20_000);
    settle(p, opt("P", 100), "sell", 2, 1.02, 105);
    expect(p.ledger("A")!.realizedMicros).toBe(198_980_000);
    expect(p.position("A", "AAPL")).toBeUndefined();
  });
});

describe("the wheel's adjusted cost basis per underlying", () => {
  const opt = (right: "C" | "P", strike: number): Instrument => ({ index: 0, symbol: `AAPL-20261127-${right}-${strike}`, kind: "option", tickSize: 0.01,
    multiplier: 100, currency: "USD", underlying: "AAPL", expiry: "20261127", strike, right });
  /** Sells one contract of `inst` at `price` for $1.02 (commission and fees), then settles it with AAPL at `underlying`. */
  const sellAndSettle = (p: Portfolio, inst: Instrument, price: number, underlying: number) => {
    p.applyFill(fill("sell", 1, price, { symbol: inst.symbol, multiplier: 100, commissionMicros: 1_020_000 }));
    for (const f of settlementFills(p.position("A", inst.symbol)!, inst, toUnits(underlying), 1)) p.applyFill(f);
  };
  const basis = (p: Portfolio) => p.basesOf("A").map(underlyingBasisView);

  test("hand-worked: a put expires, a put is assigned, a covered call expires → $93.5306 a share; the call-away ends the cycle", () => {
    const p = funded(30_000);
    // 1. Sell the 100 put at $2.00 ($1.02); AAPL closes at 105: it expires, $198.98 collected.
    sellAndSettle(p, opt("P", 100), 2, 105);
    expect(basis(p)).toEqual([{ underlying: "AAPL", shares: 0, costBasis: 0, premiumCollected: 198.98, adjustedCostBasis: null }]);
    // 2. Sell the 98 put at $1.50 ($1.02); AAPL closes at 95: assigned, 100 shares at 98 less the
    //    put's $148.98 net premium = $9,651.02 (IBKR's basis); that premium is not counted again.
    sellAndSettle(p, opt("P", 98), 1.5, 95);
    // (9,651.02 − 198.98) / 100 = 94.5204.
    expect(basis(p)).toEqual([{ underlying: "AAPL", shares: 100, costBasis: 9651.02, premiumCollected: 198.98, adjustedCostBasis: 94.5204 }]);
    // 3. Sell the covered 105 call at $1.00 ($1.02); AAPL closes at 100: it expires, $98.98 more.
    sellAndSettle(p, opt("C", 105), 1, 100);
    // (9,651.02 − 198.98 − 98.98) / 100 = 9,353.06 / 100 = 93.5306.
    expect(basis(p)).toEqual([{ underlying: "AAPL", shares: 100, costBasis: 9651.02, premiumCollected: 297.96, adjustedCostBasis: 93.5306 }]);
    // The stock position itself keeps IBKR's basis; only the summary subtracts the premiums.
    expect(positionView(p.position("A", "AAPL")!, () => undefined)).toMatchObject({ avgCost: 96.5102 });
    // 4. Sell the 97 call at $2.00 ($1.02); AAPL closes at 99: assigned, the shares are called
    //    away at 97 + $198.98: realised 9,898.98 − 9,651.02 = $247.96 on the stock. The cycle is
    //    over: no shares, premium back to 0; the account realised 297.96 + 247.96 = $545.92.
    sellAndSettle(p, opt("C", 97), 2, 99);
    expect(basis(p)).toEqual([{ underlying: "AAPL", shares: 0, costBasis: 0, premiumCollected: 0, adjustedCostBasis: null }]);
    expect(p.ledger("A")!.realizedMicros).toBe(545_920_000);
  });

  test("a put bought back and a long call sold at a loss count net; a stock without options has its plain average cost", () => {
    const p = funded(30_000);
    p.applyFill(fill("buy", 100, 50, { symbol: "MSFT", commissionMicros: 1_000_000 }));
    p.applyFill(fill("buy", 100, 100, { commissionMicros: 1_000_000 }));
    // Short put: $3.00 in, bought back at $1.00: +$200. Long call: $2.00 paid, sold at $0.50: −$150.
    p.applyFill(fill("sell", 1, 3, { symbol: opt("P", 90).symbol, multiplier: 100 }));
    p.applyFill(fill("buy", 1, 1, { symbol: opt("P", 90).symbol, multiplier: 100 }));
    p.applyFill(fill("buy", 1, 2, { symbol: opt("C", 110).symbol, multiplier: 100 }));
    p.applyFill(fill("sell", 1, 0.5, { symbol: opt("C", 110).symbol, multiplier: 100 }));
    // An open short option is not collected yet.
    p.applyFill(fill("sell", 1, 4, { symbol: opt("C", 115).symbol, multiplier: 100 }));
    expect(basis(p)).toEqual([
      { underlying: "MSFT", shares: 100, costBasis: 5001, premiumCollected: 0, adjustedCostBasis: 50.01 },
      // (10,001 − 50) / 100.
      { underlying: "AAPL", shares: 100, costBasis: 10001, premiumCollected: 50, adjustedCostBasis: 99.51 },
    ]);
  });

  test("the figures are a fold over fills: replaying the same fills into a new portfolio gives the same basis", () => {
    const fills: Fill[] = [];
    const p = funded(30_000);
    const record = p.applyFill.bind(p);
    p.applyFill = (f: Fill) => (fills.push(f), record(f));
    sellAndSettle(p, opt("P", 100), 2, 105);
    sellAndSettle(p, opt("P", 98), 1.5, 95);
    const q = funded(30_000);
    for (const f of fills) q.applyFill(f);
    expect(q.basesOf("A")).toEqual(p.basesOf("A"));
  });
});
