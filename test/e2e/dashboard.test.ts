// The dashboard in a real browser: Debian's Chromium driven by playwright-core against the whole
// app on a free port. It waits for live quotes to change in the table and for the system charts
// to have data, saves screenshots at laptop and phone sizes under test/artifacts/, and fails on
// any console error or uncaught page error.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { startApp, type App } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import { ARTIFACTS, launchChromium, openPage } from "../helpers/browser.ts";

describe("dashboard in Chromium", () => {
  let app: App;
  let browser: Browser;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "alluse-dashboard-"));
    const argv = ["--port", "0", "--data-dir", dataDir, "--tick-rate", "3000", "--symbols", "AAPL,TSLA,NVDA,MSFT,SPY"];
    app = await startApp(await loadConfig(argv, {}), createLogger("error", "e2e", () => {}));
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Opens the dashboard in a new page; the returned list collects that page's console errors and failures. */
  function open(width: number, height: number): Promise<{ page: Page; problems: string[] }> {
    return openPage(browser, `${app.server.url}/`, width, height);
  }

  /** Text of every price cell of the quotes table. */
  const prices = (page: Page) => page.$$eval("#quotes tbody td[data-col='b'], #quotes tbody td[data-col='a'], #quotes tbody td[data-col='l']", (tds) => tds.map((td) => td.textContent).join("|"));

  test("live quotes change in the table, charts fill, no console errors (1366×768)", async () => {
    const { page, problems } = await open(1366, 768);
    await page.waitForFunction(() => document.querySelector("#conn")?.textContent === "live", undefined, { timeout: 10_000 });
    const cell = "#quotes tbody tr[data-symbol='AAPL'] td[data-col='b']";
    await page.waitForFunction((sel) => /\d/.test(document.querySelector(sel)?.textContent ?? ""), cell, { timeout: 10_000 });
    // Live quotes: the prices shown change while we watch.
    const before = await prices(page);
    await page.waitForFunction(([was]) => [...document.querySelectorAll("#quotes tbody td[data-col='b'], #quotes tbody td[data-col='a'], #quotes tbody td[data-col='l']")]
      .map((td) => td.textContent).join("|") !== was, [before], { timeout: 10_000 });
    expect(await prices(page)).not.toBe(before);
    // Each scrape of /metrics after the first adds a point to the system charts: wait for three.
    await page.waitForFunction(() => (window as any).dashboard.system.points >= 3, undefined, { timeout: 15_000 });
    expect(await page.textContent("#system")).toMatch(/ticks in\d+\/s/);
    await page.waitForFunction(() => document.querySelector("#ready")?.textContent === "ready", undefined, { timeout: 10_000 });
    expect(await page.textContent("#analytics")).toContain("trend");
    for (const title of ["Positions", "Orders", "Risk", "Alerts"]) expect(await page.textContent("main")).toContain(title);
    // Without a key the trading panels say what to do (dashboard-trading.test.ts covers them keyed).
    for (const id of ["accounts-status", "risk-status", "alerts-status", "ticket-status"]) expect(await page.textContent(`#${id}`)).toContain("Enter an API key");
    expect(await page.isDisabled("#t-place")).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-1366x768.png") });
    // Clicking a row moves the chart to that symbol.
    await page.click("#quotes tbody tr[data-symbol='TSLA']");
    await page.waitForFunction(() => document.querySelector("#chart-title")?.textContent?.startsWith("TSLA"), undefined, { timeout: 5000 });
    expect(problems).toEqual([]);
    await page.close();
  });

  test("fits a phone: no horizontal overflow of the page at 390 px", async () => {
    const { page, problems } = await open(390, 844);
    await page.waitForFunction(() => (window as any).dashboard?.table.applied > 0, undefined, { timeout: 10_000 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-phone.png"), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });
});
