// The dashboard's options panels in a real browser: Debian's Chromium driven by playwright-core
// against the whole app on a free port, paper orders trading at any hour (`hours: "always"`),
// so the test passes whatever the time. With a trade key for Gen-Acc typed into the page it opens
// an underlying's chain, sees its rows change live over `chain.subscribe` (and the chain it showed
// before unsubscribed), the account's
// 40–50Δ band highlighted (and nothing outside it), the IV smile drawn; loads the candidates,
// presses "ticket" on one, checks the ticket holds the candidate's order and that nothing was
// placed, places it with the ticket's own button and finds the order on the server and in the
// page's lists. With an admin key, Com-Acc's covered-call preset (no shares held) shows the
// server's note and turns the highlight to 20–30Δ calls; a read key is told what candidates need.
// At phone width the chain works without a key, the panels stack and the page never
// scrolls sideways. Screenshots of both sizes go to test/artifacts/; any console error, page
// error or failed request fails it. Every wait is on a condition.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { startApp, type App } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import { ARTIFACTS, launchChromium, openPage } from "../helpers/browser.ts";
import { waitForAsync } from "../helpers/wait.ts";

const WAIT = { timeout: 15_000 };

describe("dashboard options panels in Chromium", () => {
  let dir: string;
  let app: App;
  let browser: Browser;
  let admin: string;
  let trade: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "alluse-dash-options-"));
    const file = join(dir, "config.json");
    writeFileSync(file, JSON.stringify({
      dataDir: dir, port: 0, feed: { symbols: ["AAPL", "TSLA", "MSFT"], tickRatePerS: 3000, optionExpiries: 2, strikesPerSide: 6 },
      trading: { paper: { hours: "always" } },
    }));
    app = await startApp(await loadConfig(["--config", file], {}), createLogger("error", "e2e", () => {}));
    admin = app.trading.keys.create(["admin"], []).secret;
    trade = app.trading.keys.create(["trade"], ["Gen-Acc"]).secret;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function api(path: string): Promise<any> {
    const res = await fetch(`${app.server.url}${path}`, { headers: { authorization: `Bearer ${admin}` } });
    expect(res.status).toBe(200);
    return await res.json();
  }

  async function enterKey(page: Page, secret: string): Promise<void> {
    await page.locator("#accounts-status").filter({ hasText: "Enter an API key" }).waitFor(WAIT);
    await page.fill("#key", secret);
    await page.click("#key-form button[type=submit]");
    await page.waitForFunction(() => (window as any).dashboard?.trading.readies >= 1, undefined, WAIT);
  }

  /** Waits for the chain's snapshot and then for an update applied after it. */
  async function waitLiveChain(page: Page): Promise<void> {
    await page.locator("#chain-body tr[data-strike]").first().waitFor(WAIT);
    const seen = await page.evaluate(() => (window as any).dashboard.chain.updates as number);
    await page.waitForFunction((n) => (window as any).dashboard.chain.updates > n, seen, WAIT);
  }

  /** Rows of painted pixels in the smile canvas (0: blank). */
  function paintedPixels(page: Page): Promise<number> {
    return page.evaluate(() => {
      const c = document.getElementById("smile-chart") as HTMLCanvasElement;
      const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
      return n;
    });
  }

  test("chain live with the band and the smile; a candidate fills the ticket and is placed through it (1366×768)", async () => {
    const { page, problems } = await openPage(browser, `${app.server.url}/`, 1366, 768);
    await enterKey(page, trade);

    // The first stock with options opens by itself; choose TSLA and its first expiry.
    await page.locator("#chain-underlying option[value='TSLA']").waitFor({ state: "attached", ...WAIT });
    const { expiries } = await api("/v1/chains/TSLA");
    await page.selectOption("#chain-underlying", "TSLA");
    await page.waitForFunction((e) => (window as any).dashboard.chain.underlying === "TSLA" && (window as any).dashboard.chain.expiry === e, expiries[0], WAIT);
    await waitLiveChain(page);
    const strikes = await page.$$eval("#chain-body tr[data-strike]", (trs) => trs.map((t) => Number((t as HTMLElement).dataset.strike)));
    const chain = await api(`/v1/chains/TSLA/${expiries[0]}`);
    expect(strikes).toEqual(chain.rows.map((r: { strike: number }) => r.strike));
    expect(await page.textContent("#chain-iv")).toMatch(/^IV rank/);
    // The chain opened first was unsubscribed on the change: the server streams one chain only.
    await waitForAsync(async () => /^alluse_chain_streams_open 1$/m.test(await (await fetch(`${app.server.url}/metrics`)).text()), 10_000, "one chain streamed");

    // Gen-Acc's 40–50Δ band (its risk limit until the candidates name the preset) is highlighted:
    // some legs, and every highlighted leg's |delta| is inside it.
    await page.locator("#chain-band").filter({ hasText: "Gen-Acc: 40–50Δ" }).waitFor(WAIT);
    await page.locator("#chain-body td.band").first().waitFor(WAIT);
    const bandDeltas = await page.$$eval("#chain-body tr", (trs) => trs.flatMap((tr) => {
      const tds = [...tr.querySelectorAll("td")];
      // Δ is the fifth cell of each leg: call cells 0–5, strike 6, put cells 7–12.
      return [[tds[0], tds[4]], [tds[7], tds[11]]].filter(([first]) => first?.classList.contains("band")).map(([, d]) => Number(d!.textContent));
    }));
    expect(bandDeltas.length).toBeGreaterThan(0);
    for (const d of bandDeltas) { expect(Math.abs(d)).toBeGreaterThanOrEqual(0.4); expect(Math.abs(d)).toBeLessThanOrEqual(0.5); }

    // The smile is drawn: points counted by the panel, pixels on the canvas.
    await page.waitForFunction(() => (window as any).dashboard.chain.smilePoints > 0, undefined, WAIT);
    expect(await paintedPixels(page)).toBeGreaterThan(100);

    // Candidates: loaded for the chain's account, underlying and expiry; press Load for a fresh reply.
    const loads = await page.evaluate(() => (window as any).dashboard.trading.candidates.loads as number);
    await page.click("#cand-load");
    await page.waitForFunction((n) => (window as any).dashboard.trading.candidates.loads > n && !(window as any).dashboard.trading.candidates.busy, loads, WAIT);
    await page.locator("#chain-band").filter({ hasText: "puts (preset)" }).waitFor(WAIT);
    const allowed = page.locator("#cand-body tr[data-symbol]").filter({ hasText: "allowed" }).first();
    await allowed.waitFor(WAIT);
    const symbol = (await allowed.getAttribute("data-symbol"))!;
    // The reply the page shows (prices move: a fresh request could quote another bid).
    const reply = await page.evaluate(() => (window as any).dashboard.trading.candidates.reply);
    expect(reply).toMatchObject({ account: "Gen-Acc", underlying: "TSLA", expiry: expiries[0], right: "put", band: { lo: 0.4, hi: 0.5 } });
    const cand = reply.candidates.find((c: { symbol: string }) => c.symbol === symbol);
    expect(cand).toBeDefined();
    expect(await allowed.textContent()).toContain(String(cand.strike));

    // "ticket" fills the ticket with the candidate's order and places nothing.
    const before = (await api("/v1/orders?account=Gen-Acc")).orders.length;
    await allowed.locator("button").click();
    expect(await page.inputValue("#t-account")).toBe("Gen-Acc");
    expect(await page.inputValue("#t-symbol")).toBe(symbol);
    expect(await page.inputValue("#t-side")).toBe("sell");
    expect(await page.inputValue("#t-type")).toBe("limit");
    expect(await page.inputValue("#t-tif")).toBe("DAY");
    expect(Number(await page.inputValue("#t-limit"))).toBeCloseTo(cand.order.limitPrice, 6);
    expect(Number(await page.inputValue("#t-qty"))).toBe(cand.order.qty);
    expect(await page.isEnabled("#t-rth")).toBe(false);
    await page.locator("#ticket-status").filter({ hasText: "press Place" }).waitFor(WAIT);
    expect((await api("/v1/orders?account=Gen-Acc")).orders.length).toBe(before);

    // The operator confirms with Place: the order is on the server and in the page.
    await page.click("#t-place");
    const status = page.locator("#ticket-status").filter({ hasText: /^\S+ (accepted|working|partially_filled|filled)/ });
    await status.waitFor(WAIT);
    const orderId = (await status.textContent())!.split(" ")[0]!;
    const order = await api(`/v1/orders/${orderId}`);
    expect(order).toMatchObject({ account: "Gen-Acc", symbol, side: "sell", type: "limit", qty: cand.order.qty, tif: "DAY" });
    // A sell at the bid is marketable: it may fill at once (then it is in the fills) or still work.
    const inPage = page.locator(`#orders-body tr[data-order='${orderId}'], #fills-body tr:has-text('${symbol}')`).first();
    await inPage.waitFor(WAIT);

    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.locator("#chain-card").scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-options-1366x768.png"), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  test("Com-Acc's covered calls without shares: the server's note, the band turns to 20–30Δ calls; a read key has no account to load", async () => {
    const { page, problems } = await openPage(browser, `${app.server.url}/`, 1366, 768);
    await enterKey(page, admin);
    await page.locator("#opt-account option[value='Com-Acc']").waitFor({ state: "attached", ...WAIT });
    await waitLiveChain(page);
    await page.selectOption("#opt-account", "Com-Acc");
    await page.locator("#chain-band").filter({ hasText: "Com-Acc: 20–30Δ calls (preset)" }).waitFor(WAIT);
    await page.waitForFunction(() => (window as any).dashboard.trading.candidates.reply?.account === "Com-Acc", undefined, WAIT);
    const reply = await page.evaluate(() => (window as any).dashboard.trading.candidates.reply);
    expect(reply.candidates).toEqual([]);
    expect(reply.note).toBeTruthy();
    expect(await page.textContent("#cand-status")).toBe(reply.note);
    expect(await page.textContent("#cand-body")).toContain(reply.note);
    // Only call legs are highlighted now, each inside 20–30Δ.
    const legs = await page.$$eval("#chain-body td.band", (tds) => tds.map((td) => (td as HTMLElement).dataset.side));
    expect(legs.every((s) => s === "call")).toBe(true);
    const deltas = await page.$$eval("#chain-body tr", (trs) => trs.map((tr) => tr.querySelectorAll("td")).filter((tds) => tds[0]?.classList.contains("band")).map((tds) => Number(tds[4]!.textContent)));
    for (const d of deltas) { expect(d).toBeGreaterThanOrEqual(0.2); expect(d).toBeLessThanOrEqual(0.3); }
    expect(problems).toEqual([]);
    await page.close();

    // A read key may list no account: Load says what the candidates need.
    const read = app.trading.keys.create(["read"], []).secret;
    const second = await openPage(browser, `${app.server.url}/`, 1366, 768);
    await enterKey(second.page, read);
    await second.page.click("#cand-load");
    await second.page.locator("#cand-status").filter({ hasText: "candidates need a key that may trade an account" }).waitFor(WAIT);
    // Chromium logs each 4xx as a console error: the read key's 403s (accounts, risk) are expected.
    expect(second.problems.filter((p) => !/status of 403 \(Forbidden\)/.test(p))).toEqual([]);
    await second.page.close();
  });

  test("phone width (390×844): the chain streams without a key, panels stack, nothing overflows", async () => {
    const { page, problems } = await openPage(browser, `${app.server.url}/`, 390, 844);
    await waitLiveChain(page);
    expect(await page.textContent("#chain-band")).toContain("enter a key");
    expect(await page.isDisabled("#cand-load")).toBe(true);
    expect(await page.locator("#chain-body td.band").count()).toBe(0);
    await page.waitForFunction(() => (window as any).dashboard.chain.smilePoints > 0, undefined, WAIT);
    expect(await paintedPixels(page)).toBeGreaterThan(100);

    await enterKey(page, trade);
    await page.locator("#chain-body td.band").first().waitFor(WAIT);
    await page.locator("#cand-body tr[data-symbol]").first().waitFor(WAIT);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    // Stacked: chain, then candidates, each the page's width; the chain table scrolls in its own box.
    const [chainBox, candBox] = await page.$$eval("#chain-card, #cand-card", (els) => els.map((e) => e.getBoundingClientRect()).map((r) => ({ y: r.y, w: r.width, h: r.height })));
    expect(chainBox!.w).toBeGreaterThan(350);
    expect(candBox!.w).toBeGreaterThan(350);
    expect(candBox!.y).toBeGreaterThanOrEqual(chainBox!.y + chainBox!.h);
    const inner = await page.$eval(".chain-scroll", (e) => ({ sw: e.scrollWidth, cw: e.clientWidth }));
    expect(inner.cw).toBeLessThanOrEqual(390);
    await page.locator("#chain-card").scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-options-phone.png"), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });
});
