// The configured regulatory fees reach the paper broker that startTrading builds.

import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IBKR_PRO_FIXED } from "../../src/broker/commission.ts";
import type { PaperBroker } from "../../src/broker/paper.ts";
import { createLogger } from "../../src/log.ts";
import { tradingSchema } from "../../src/oms/settings.ts";
import { startTrading } from "../../src/oms/trading.ts";
import { TestMarket } from "../helpers/market.ts";

const dir = mkdtempSync(join(tmpdir(), "alluse-fees-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("trading.paper.fees in dollars become the paper broker's fee rates; commissions stay IBKR Pro fixed", async () => {
  const market = await TestMarket.create();
  const t = tradingSchema.parse({ durability: "none", paper: { fees: { secPerMillion: 0, finraTafPerShare: 0.0002 } } });
  const trading = await startTrading(t, dir, market.engine, createLogger("error", "test", () => undefined));
  try {
    const { commissions } = (trading.broker as PaperBroker).options;
    expect(commissions.fees).toEqual({ secPerMillion: 0, tafPerShareMicros: 200, tafMaxPerTradeMicros: 8_300_000, tafPerContractMicros: 2_790 });
    expect(commissions.stock).toEqual(IBKR_PRO_FIXED.stock);
    expect(commissions.option).toEqual(IBKR_PRO_FIXED.option);
  } finally {
    await trading.stop();
  }
});
