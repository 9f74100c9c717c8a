import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { paperHoursNotice } from "../../src/broker/paper-session.ts";
import { ExchangeCalendar } from "../../src/domain/calendar.ts";

const dir = mkdtempSync(join(tmpdir(), "alluse-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function errorsOf(argv: string[], env: Record<string, string> = {}): Promise<string[]> {
  try {
    await loadConfig(argv, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.lines;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

test("embedded defaults need no file, env or flags", async () => {
  const c = await loadConfig([], {});
  expect(c.host).toBe("127.0.0.1");
  expect(c.feed.kind).toBe("synthetic");
  expect(c.feed.symbols).toContain("TSLA");
});

test("precedence is defaults < file < env < flags", async () => {
  const file = join(dir, "a.json");
  writeFileSync(file, JSON.stringify({ port: 9001, host: "0.0.0.0", feed: { tickRatePerS: 10, seed: 5 } }));
  const c = await loadConfig(["--config", file, "--tick-rate=30"], { ALLUSE_TICK_RATE: "20", ALLUSE_PORT: "9002" });
  expect(c.host).toBe("0.0.0.0");
  expect(c.port).toBe(9002);
  expect(c.feed.tickRatePerS).toBe(30);
  expect(c.feed.seed).toBe(5);
});

test("TOML files are read too", async () => {
  const file = join(dir, "a.toml");
  writeFileSync(file, 'port = 9100\n[feed]\nsymbols = ["AAPL", "MSFT"]\n[engine]\nmaxInstruments = 128\n');
  const c = await loadConfig([], { ALLUSE_CONFIG: file });
  expect(c.port).toBe(9100);
  expect(c.feed.symbols).toEqual(["AAPL", "MSFT"]);
  expect(c.engine.maxInstruments).toBe(128);
});

test("every bad field gets its own line naming the source", async () => {
  const lines = await errorsOf(["--port", "x", "--symbols", "aapl,$$", "--tick-rate", "0"], { ALLUSE_FEED: "carrier-pigeon" });
  expect(lines).toHaveLength(4);
  expect(lines.join("\n")).toContain("config port:");
  expect(lines.join("\n")).toContain("(from flag --port)");
  expect(lines.join("\n")).toContain("(from env ALLUSE_FEED)");
  expect(lines.join("\n")).toContain("config feed.symbols.1:");
});

test("unknown keys, unknown flags, missing files and replay without a file are errors", async () => {
  const file = join(dir, "b.json");
  writeFileSync(file, JSON.stringify({ prot: 1 }));
  expect((await errorsOf(["--config", file]))[0]).toContain("prot");
  expect(await errorsOf(["--bogus=1"])).toEqual(["unknown flag --bogus"]);
  expect((await errorsOf(["--config", join(dir, "missing.json")]))[0]).toContain("not found");
  expect(await errorsOf(["--feed", "replay"])).toEqual(["config feed.replayFile: is required when feed.kind is replay"]);
  expect((await errorsOf([], { ALLUSE_MAX_INSTRUMENTS: "0" }))[0]).toContain("engine.maxInstruments");
});

test("server limits are checked with the server's own rules, including rules across fields", async () => {
  const file = join(dir, "c.json");
  writeFileSync(file, JSON.stringify({ limits: { slowClientBytes: 2_000_000, heartbeatMs: 5 } }));
  const lines = await errorsOf(["--config", file]);
  expect(lines.join("\n")).toContain("limits.heartbeatMs");
  writeFileSync(file, JSON.stringify({ limits: { slowClientBytes: 2_000_000 } }));
  expect((await errorsOf(["--config", file]))[0]).toContain("backpressureLimitBytes must exceed slowClientBytes");
});

test("paper regulatory fees default to the cited rates, take a file's values and refuse negative ones", async () => {
  const c = await loadConfig([], {});
  expect(c.trading.paper.fees).toEqual({ secPerMillion: 27.8, finraTafPerShare: 0.000166, finraTafMaxPerTrade: 8.3, finraTafPerContract: 0.00279 });
  const file = join(dir, "fees.json");
  writeFileSync(file, JSON.stringify({ trading: { paper: { fees: { secPerMillion: 0 } } } }));
  expect((await loadConfig(["--config", file], {})).trading.paper.fees.secPerMillion).toBe(0);
  writeFileSync(file, JSON.stringify({ trading: { paper: { fees: { finraTafPerShare: -0.1 } } } }));
  expect((await errorsOf(["--config", file]))[0]).toContain("config trading.paper.fees.finraTafPerShare:");
});

test("paper hours: exchange by default, always from --paper-hours or ALLUSE_PAPER_HOURS, anything else an error naming the flag", async () => {
  expect((await loadConfig([], {})).trading.paper.hours).toBe("exchange");
  expect((await loadConfig(["--paper-hours", "always"], {})).trading.paper.hours).toBe("always");
  expect((await loadConfig([], { ALLUSE_PAPER_HOURS: "always" })).trading.paper.hours).toBe("always");
  expect((await errorsOf(["--paper-hours", "24h"]))[0]).toMatch(/^config trading\.paper\.hours: .* \(from flag --paper-hours\)$/);
});

test("the start-up notice says orders are held while closed and how to trade round the clock; nothing with hours always", () => {
  const cal = new ExchangeCalendar();
  const sunday = paperHoursNotice("exchange", cal, Date.parse("2026-11-22T20:00:00Z"))!;
  expect(sunday).toContain("the exchange is closed now: orders are held until 2026-11-23 09:30 America/New_York");
  expect(sunday).toContain("--paper-hours always");
  expect(paperHoursNotice("exchange", cal, Date.parse("2026-11-23T15:00:00Z"))).toContain("the regular session is open now, until 2026-11-23 16:00 America/New_York");
  expect(paperHoursNotice("always", cal, Date.parse("2026-11-22T20:00:00Z"))).toBeUndefined();
});

test("--host must be an IP address or a host name; 999.1.1.1 is refused with a reason, not at bind time", async () => {
  expect(await errorsOf(["--host", "999.1.1.1"])).toEqual(["config host: 999.1.1.1 is not a valid IPv4 address (four numbers from 0 to 255) (from flag --host)"]);
  expect((await errorsOf(["--host", "[::1]"]))[0]).toContain("without brackets");
  expect((await errorsOf(["--host", "bad_host!"]))[0]).toContain("is not an IP address or a host name");
  for (const host of ["127.0.0.1", "0.0.0.0", "::", "::1", "localhost", "quotes-1.example.com"]) {
    expect((await loadConfig(["--host", host], {})).host).toBe(host);
  }
});

test("--config naming a directory says it is a directory", async () => {
  expect(await errorsOf(["--config", dir])).toEqual([`config file ${dir}: is a directory, not a file`]);
});

test("role is all by default; core and edge need the NATS servers, from flags, env or the file", async () => {
  const c = await loadConfig([], {});
  expect(c.role).toBe("all");
  expect(c.nats).toBeUndefined();
  expect(await errorsOf(["--role", "edge"])).toEqual(["config nats: is required when role is edge: give the bus with --nats nats://HOST:4222"]);
  expect(await errorsOf([], { ALLUSE_ROLE: "core" })).toHaveLength(1);
  expect((await errorsOf(["--role", "hub"]))[0]).toStartWith("config role:");
  const edge = await loadConfig(["--role", "edge", "--nats", "nats://10.0.0.1:4222, nats://10.0.0.2:4222"], {});
  expect(edge.nats).toEqual(["nats://10.0.0.1:4222", "nats://10.0.0.2:4222"]);
  const env = await loadConfig([], { ALLUSE_ROLE: "core", ALLUSE_NATS: "127.0.0.1:4222" });
  expect([env.role, env.nats]).toEqual(["core", ["127.0.0.1:4222"]]);
  const file = join(dir, "role.json");
  writeFileSync(file, JSON.stringify({ role: "edge", nats: ["tls://bus.example.com:4222"] }));
  expect((await loadConfig(["--config", file], {})).nats).toEqual(["tls://bus.example.com:4222"]);
  expect((await errorsOf(["--role", "core", "--nats", "http://x:1/y"]))[0]).toStartWith("config nats.0: must be a NATS server URL");
});
