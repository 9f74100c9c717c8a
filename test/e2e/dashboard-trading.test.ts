// The dashboard's trading panels in a real browser: Debian's Chromium driven by playwright-core
// against the whole app on a free port. It places an outsideRth limit through the ticket and sees
// its terms and held reason in the list (today is made a closure, so at any hour). With an admin key typed into the page it waits for live
// quotes, places a resting limit buy through the ticket and sees it working, cancels it through
// its button, halts the firm through the admin API and acknowledges the alert that raises
// through the UI, sees the risk panel turn halted and a new order come back denied with its
// reason, and checks where the key is (and is not) kept. At phone width, with a trade key, the
// panels stack without overflow and acknowledging shows the server's 403. Screenshots of both
// sizes go to test/artifacts/. Any console error or uncaught page error fails it (but for that
// one expected 403). Every wait is on a condition.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { startApp, type App } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import { ARTIFACTS, launchChromium, openPage } from "../helpers/browser.ts";
const WAIT = { timeout: 10_000 };

describe("dashboard trading panels in Chromium", () => {
  let dir: string;
  let app: App;
  let browser: Browser;
  let key: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "alluse-dash-trading-"));
    const file = join(dir, "config.json");
    // Paper orders follow exchange hours (the default); today and tomorrow in New York are made
    // closures, so an order is held whatever the hour the test runs at, and says until when.
    const nyDate = (ms: number) => new Intl.DateTimeFormat("en-CA", { timeZone: "America/New_York" }).format(ms);
    writeFileSync(file, JSON.stringify({
      dataDir: dir, port: 0, feed: { symbols: ["AAPL", "TSLA", "MSFT"], tickRatePerS: 3000, optionExpiries: 1, strikesPerSide: 2 },
      alerts: { evaluateEveryMs: 100 },
      trading: { calendar: { extraHolidays: [nyDate(Date.now()), nyDate(Date.now() + 86_400_000)] } },
    }));
    app = await startApp(await loadConfig(["--config", file], {}), createLogger("error", "e2e", () => {}));
    key = app.trading.keys.create(["admin"], []).secret;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Opens the dashboard, enters the key and waits for the keyed session; collects console errors and failures. */
  async function openKeyed(width: number, height: number, secret = key): Promise<{ page: Page; problems: string[] }> {
    const { page, problems } = await openPage(browser, `${app.server.url}/`, width, height);
    await page.locator("#accounts-status").filter({ hasText: "Enter an API key" }).waitFor(WAIT);
    await page.fill("#key", secret);
    await page.click("#key-form button[type=submit]");
    await page.waitForFunction(() => (window as any).dashboard?.trading.readies >= 1, undefined, WAIT);
    return { page, problems };
  }

  async function admin(method: string, path: string, body?: unknown): Promise<any> {
    const res = await fetch(`${app.server.url}${path}`, {
      method, headers: { "content-type": "application/json", authorization: `Bearer ${key}` }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    expect(res.status).toBeLessThan(300);
    return await res.json();
  }

  test("the ticket sends outsideRth and a stop's trigger method; the list shows them and why the order is held", async () => {
    const { page, problems } = await openKeyed(1366, 768);
    await page.locator("#accounts [data-account='Gen-Acc']").waitFor(WAIT);
    await page.selectOption("#t-account", "Gen-Acc");
    await page.fill("#t-symbol", "MSFT");
    // The trigger method is for stop types only, its default named after the instrument kind's.
    await page.selectOption("#t-type", "stop");
    expect(await page.isEnabled("#t-trigger")).toBe(true);
    expect(await page.textContent("#t-trigger option[value='default']")).toBe("trigger: default (last)");
    await page.fill("#t-symbol", "MSFT-20261127-C-400");
    expect(await page.textContent("#t-trigger option[value='default']")).toBe("trigger: default (double bid ask)");
    expect(await page.isEnabled("#t-rth")).toBe(false); // options trade in the regular session only
    await page.fill("#t-symbol", "MSFT");
    await page.selectOption("#t-type", "limit");
    expect(await page.isEnabled("#t-trigger")).toBe(false);
    expect(await page.isEnabled("#t-rth")).toBe(true);

    // An outsideRth GTC limit buy 5 % under the mid: accepted and held (the exchange is closed today).
    const q = await admin("GET", "/v1/quotes/MSFT");
    const limit = (Math.round(((q.bid + q.ask) / 2) * 0.95 * 100) / 100).toFixed(2);
    await page.selectOption("#t-side", "buy");
    await page.selectOption("#t-tif", "GTC");
    await page.fill("#t-qty", "5");
    await page.fill("#t-limit", limit);
    await page.check("#t-rth");
    await page.click("#t-place");
    const held = page.locator("#orders-body tr[data-order]").filter({ hasText: "MSFT" }).filter({ hasText: "held until the extended session opens" });
    await held.waitFor(WAIT);
    const orderId = (await held.getAttribute("data-order"))!;
    const order = (await admin("GET", `/v1/orders/${orderId}`));
    expect(order).toMatchObject({ outsideRth: true, triggerMethod: null, tif: "GTC", status: "accepted" });
    expect(order.reason).toMatch(/^held until the extended session opens at \d{4}-\d\d-\d\d 04:00 America\/New_York$/);
    const text = await held.textContent();
    const shown = Number(limit).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    expect(text).toContain(`limit ${shown} · GTC · outside RTH`);
    expect(text).toContain(order.reason);

    // Cancel it, so the next test's list starts empty.
    await page.click(`#orders-body tr[data-order='${orderId}'] button`);
    await page.locator(`#orders-body tr[data-order='${orderId}']`).waitFor({ state: "detached", ...WAIT });
    expect(problems).toEqual([]);
    await page.close();
  });

  test("place, cancel, acknowledge, halted risk and a denial, all through the UI (1366×768)", async () => {
    const { page, problems } = await openKeyed(1366, 768);

    // Live quotes: the AAPL bid shown changes while we watch.
    const bid = page.locator("#quotes tbody tr[data-symbol='AAPL'] td[data-col='b']");
    await page.waitForFunction(() => /\d/.test(document.querySelector("#quotes tr[data-symbol='AAPL'] td[data-col='b']")?.textContent ?? ""), undefined, WAIT);
    const first = await bid.textContent();
    await page.waitForFunction((was) => document.querySelector("#quotes tr[data-symbol='AAPL'] td[data-col='b']")?.textContent !== was, first, WAIT);

    // The keyed panels fill from the watch: the three accounts, and Gen-Acc's risk.
    for (const a of ["Gen-Acc", "Rev-Acc", "Com-Acc"]) await page.locator(`#accounts [data-account='${a}']`).waitFor(WAIT);
    await page.selectOption("#risk-account", "Gen-Acc");
    await page.locator("#risk-state").filter({ hasText: "active" }).waitFor(WAIT);
    expect(await page.textContent("#risk")).toContain("VaR 99");

    // A resting limit buy 5 % under the mid: inside the 10 % fat-finger band, far from a fill.
    const q = await admin("GET", "/v1/quotes/AAPL");
    const limit = (Math.round(((q.bid + q.ask) / 2) * 0.95 * 100) / 100).toFixed(2);
    await page.selectOption("#t-account", "Gen-Acc");
    await page.fill("#t-symbol", "AAPL");
    await page.selectOption("#t-side", "buy");
    await page.selectOption("#t-type", "limit");
    await page.selectOption("#t-tif", "DAY");
    await page.fill("#t-qty", "10");
    await page.fill("#t-limit", limit);
    await page.click("#t-place");
    const working = page.locator("#orders-body tr[data-order]").filter({ hasText: "AAPL" }).filter({ hasText: "accepted" });
    await working.waitFor(WAIT);
    const orderId = (await working.getAttribute("data-order"))!;
    expect(await page.textContent("#ticket-status")).toContain(`${orderId} accepted`);
    expect(await working.textContent()).toContain(limit);

    // Cancel through its button: the row goes and the ticket says canceled.
    await page.click(`#orders-body tr[data-order='${orderId}'] button`);
    await page.locator(`#orders-body tr[data-order='${orderId}']`).waitFor({ state: "detached", ...WAIT });
    await page.locator("#ticket-status").filter({ hasText: `${orderId} canceled` }).waitFor(WAIT);
    expect((await admin("GET", `/v1/orders/${orderId}`)).status).toBe("canceled");

    // Halt the firm: the trading-state alert for "*" appears open; acknowledge it in the page.
    await admin("POST", "/v1/admin/risk/state", { state: "halted", reason: "test" });
    const alertRow = page.locator("#alerts-body tr[data-rule='risk.trading_state'][data-key='*']");
    await alertRow.and(page.locator("[data-state='open']")).waitFor(WAIT);
    await alertRow.locator("button").click();
    await alertRow.and(page.locator("[data-state='acknowledged']")).waitFor(WAIT);
    const alertId = await alertRow.getAttribute("data-alert");
    expect((await admin("GET", `/v1/alerts/${alertId}`)).alert.state).toBe("acknowledged");
    await page.locator("#alerts-status").filter({ hasText: `alert ${alertId} acknowledged` }).waitFor(WAIT);

    // The risk panel shows the firm's halt over the account's own active state.
    await page.locator("#risk-state").filter({ hasText: "halted" }).waitFor(WAIT);
    expect(await page.textContent("#risk")).toContain("firm: test");

    // A new order is denied, and the page says why.
    await page.click("#t-place");
    await page.locator("#ticket-status.bad").filter({ hasText: "denied: HALTED" }).waitFor(WAIT);

    // The key is in this tab's sessionStorage only: not in the URL, not in localStorage.
    expect(page.url()).not.toContain(key);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    expect(await page.evaluate(() => sessionStorage.getItem("alluse.apiKey"))).toBe(key);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-trading-1366x768.png"), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  test("phone width (390×844): panels stack, nothing overflows; a trade key sees the 403 when acknowledging", async () => {
    const trade = app.trading.keys.create(["trade"], []).secret;
    const { page, problems } = await openKeyed(390, 844, trade);
    await page.locator("#accounts [data-account='Gen-Acc']").waitFor(WAIT);
    await page.locator("#risk-state").waitFor(WAIT);
    // A fresh open alert: Rev-Acc reducing.
    await admin("POST", "/v1/admin/risk/state", { account: "Rev-Acc", state: "reducing", reason: "phone test" });
    const alertRow = page.locator("#alerts-body tr[data-rule='risk.trading_state'][data-key='Rev-Acc'][data-state='open']");
    await alertRow.waitFor(WAIT);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    // Stacked: every trading panel spans the page's width, one under the other.
    const boxes = await page.$$eval(".trading > section", (els) => els.map((e) => e.getBoundingClientRect()).map((r) => ({ x: r.x, y: r.y, w: r.width })));
    for (const b of boxes) expect(b.w).toBeGreaterThan(300);
    for (let i = 1; i < boxes.length; i++) expect(boxes[i]!.y).toBeGreaterThan(boxes[i - 1]!.y);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-trading-phone.png"), fullPage: true });
    // Acknowledging needs admin: the page shows the server's 403 and the alert stays open.
    await alertRow.locator("button").click();
    await page.locator("#alerts-status.bad").filter({ hasText: "403 FORBIDDEN" }).waitFor(WAIT);
    await alertRow.locator("button:not([disabled])").waitFor(WAIT);
    // Forgetting the key empties the panels and the storage.
    await page.click("#key-forget");
    await page.locator("#accounts-status").filter({ hasText: "Key forgotten." }).waitFor(WAIT);
    expect(await page.evaluate(() => sessionStorage.getItem("alluse.apiKey"))).toBeNull();
    // Chromium logs every 4xx response as a console error; the 403 of that acknowledge is the one expected.
    expect(problems.filter((p) => !/status of 403 \(Forbidden\)/.test(p))).toEqual([]);
    expect(problems.length).toBeLessThanOrEqual(1);
    await page.close();
  });
});
