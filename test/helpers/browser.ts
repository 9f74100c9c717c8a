// Debian's Chromium through playwright-core for the dashboard tests: the binary, the flags, the
// artifacts folder, and a page that records every console error, uncaught page error and failed
// request (a test fails on any of them).

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";

/** Debian's Chromium (installed by scripts/test-setup.sh when missing). */
export const CHROMIUM = "/usr/bin/chromium";
/** Where screenshots go. */
export const ARTIFACTS = join(import.meta.dir, "..", "artifacts");
/** Headless, and no calls to Google's hosts. */
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** Launches Chromium (a new, empty profile each time) and makes sure the artifacts folder exists. */
export async function launchChromium(): Promise<Browser> {
  if (!(await Bun.file(CHROMIUM).exists())) throw new Error(`${CHROMIUM} is missing: run scripts/ensure-chromium.sh (npm test does)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
}

/** Opens `url` in a new page of the given size; `problems` collects that page's errors and failed requests. */
export async function openPage(browser: Browser, url: string, width: number, height: number): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width, height } });
  const problems: string[] = [];
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  await page.goto(url);
  return { page, problems };
}
