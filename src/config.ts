// One configuration schema. Precedence, lowest first: embedded defaults, the config file
// (--config or ALLUSE_CONFIG; JSON or TOML), ALLUSE_* environment variables, command-line flags.
// Invalid configuration is reported as one line per bad field, naming where it came from.

import { statSync } from "node:fs";
import { isIP } from "node:net";
import { z } from "zod";
import { limitsObject, resolveLimits } from "./server/limits.ts";
import { tradingSchema } from "./oms/settings.ts";
import { riskSchema } from "./risk/settings.ts";
import { alertsSchema } from "./monitor/alert-setup.ts";
import { chainsSchema } from "./options/settings.ts";
import { strategySchema } from "./options/strategy-settings.ts";

const positiveInt = z.number().int().positive();

const engineSchema = z.strictObject({
  maxInstruments: positiveInt.max(1_000_000).optional(),
  ringCapacity: positiveInt.refine((n) => (n & (n - 1)) === 0, "must be a power of two").optional(),
  barHistory: positiveInt.max(100_000).optional(),
  staleAfterMs: z.number().positive().optional(),
  maxTickAgeMs: z.number().positive().optional(),
  maxFutureMs: z.number().nonnegative().optional(),
  volTauMs: z.number().positive().optional(),
  volSampleMs: z.number().nonnegative().optional(),
  reanchorAfter: z.number().int().nonnegative().optional(),
  prefault: z.boolean().optional(),
});

/** IBKR connection (TWS / IB Gateway): paper TWS 7497, live TWS 7496, Gateway 4002 paper / 4001 live. */
const ibSchema = z.strictObject({
  host: z.string().min(1).default("127.0.0.1"),
  port: z.number().int().min(1).max(65535).default(7497),
  clientId: z.number().int().min(0).max(2_147_483_647).default(1),
  clientIdInUse: z.enum(["retry", "increment", "fail"]).default("retry"),
  maxLines: z.number().int().min(1).max(10_000).default(100),
  connectTimeoutMs: positiveInt.max(600_000).default(30_000),
});

/** RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens, 253 characters at most. */
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Where to listen: an IPv4 or IPv6 address, or a host name; "999.1.1.1" is neither and is refused here, not at bind time. */
const listenHost = z.string().min(1).superRefine((h, ctx) => {
  if (isIP(h) !== 0) return;
  if (/^[\d.]+$/.test(h)) ctx.addIssue({ code: "custom", message: `${h} is not a valid IPv4 address (four numbers from 0 to 255)` });
  else if (h.startsWith("[")) ctx.addIssue({ code: "custom", message: `${h}: write an IPv6 address without brackets, e.g. ::1` });
  else if (!HOST_NAME.test(h)) ctx.addIssue({ code: "custom", message: `${h} is not an IP address or a host name` });
});

/** One NATS server URL: nats:// or tls:// (the client's schemes), or a bare host:port. */
const natsUrl = z.string().regex(/^(?:(?:nats|tls):\/\/)?[^\s,/]+(?::\d{1,5})?$/, "must be a NATS server URL such as nats://127.0.0.1:4222");

const symbolSchema = z.string().regex(/^[A-Z0-9][A-Z0-9.]{0,15}$/, "must be an upper-case ticker such as AAPL or BRK.B");

/** The whole configuration. Engine and server limits are overrides of their built-in defaults. */
export const configSchema = z.strictObject({
  host: listenHost.default("127.0.0.1"),
  port: z.number().int().min(0).max(65535).default(8787),
  dataDir: z.string().min(1).default("./data"),
  logLevel: z.enum(["debug", "info", "warn", "error"]).default("info"),
  feed: z.strictObject({
    kind: z.enum(["synthetic", "replay", "ib"]).default("synthetic"),
    symbols: z.array(symbolSchema).min(1).max(500)
      .default(["TSLA", "NVDA", "AAPL", "AMZN", "MSFT", "SPY", "QQQ", "META", "GOOGL", "AMD"]),
    tickRatePerS: z.number().min(1).max(5_000_000).default(2000),
    seed: z.number().int().default(1),
    badTickRate: z.number().min(0).max(0.5).default(0.001),
    optionExpiries: z.number().int().min(0).max(8).default(2),
    strikesPerSide: z.number().int().min(0).max(25).default(5),
    record: z.string().min(1).optional(),
    replayFile: z.string().min(1).optional(),
    replaySpeed: z.union([z.literal("recorded"), z.literal("max"), z.number().positive()]).default("recorded"),
    replayLoop: z.boolean().default(false),
    replayKeepTime: z.boolean().default(false),
    /** Refuse a replay file with any damaged row at start (true), or skip and count such rows (false). */
    replayStrict: z.boolean().default(true),
    /** Where the synthetic or replay feed runs: "worker" writes the shared tick ring from a Bun Worker; ib always runs on "main". */
    thread: z.enum(["main", "worker"]).default("main"),
  }).prefault({}),
  ib: ibSchema.prefault({}),
  engine: engineSchema.prefault({}),
  limits: limitsObject.partial().strict().prefault({}),
  staleSweepMs: positiveInt.default(1000),
  trading: tradingSchema.prefault({}),
  risk: riskSchema.prefault({}),
  alerts: alertsSchema.prefault({}),
  chains: chainsSchema.prefault({}),
  strategy: strategySchema.prefault({}),
  /** all: one process does everything; core: all of it plus publishing on NATS; edge: market data for clients from a core over NATS. */
  role: z.enum(["all", "core", "edge"]).default("all"),
  /** NATS servers of the bus between core and edges (several for a NATS cluster); required unless role is all. */
  nats: z.array(natsUrl).min(1).max(16).optional(),
}).superRefine((c, ctx) => {
  if (c.role !== "all" && c.nats === undefined) {
    ctx.addIssue({ code: "custom", path: ["nats"], message: `is required when role is ${c.role}: give the bus with --nats nats://HOST:4222` });
  }
  // Rules across limits (e.g. the hard buffer bound above the slow threshold) live with the server.
  try {
    resolveLimits(c.limits);
  } catch (err) {
    ctx.addIssue({ code: "custom", path: ["limits"], message: (err as Error).message });
  }
  if (c.feed.kind === "replay" && !c.feed.replayFile) {
    ctx.addIssue({ code: "custom", path: ["feed", "replayFile"], message: "is required when feed.kind is replay" });
  }
  // A worker's batches are ingested on the main thread's clock, so recorded times cannot be kept.
  if (c.feed.thread === "worker" && (c.feed.kind === "ib" || c.feed.replayKeepTime)) {
    ctx.addIssue({ code: "custom", path: ["feed", "thread"], message: "worker runs only the synthetic feed and replays without replayKeepTime" });
  }
});

/** The validated configuration. */
export type Config = z.infer<typeof configSchema>;

/** Raised for invalid configuration; `lines` has one line per bad field. */
export class ConfigError extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join("\n"));
    this.name = "ConfigError";
  }
}

type Parse = (raw: string) => unknown;
const num: Parse = (raw) => (raw.trim() !== "" && Number.isFinite(Number(raw)) ? Number(raw) : raw);
const str: Parse = (raw) => raw;
const list: Parse = (raw) => raw.split(",").map((s) => s.trim().toUpperCase()).filter(Boolean);
const bool: Parse = (raw) => (raw === "true" || raw === "1" || raw === "" ? true : raw === "false" || raw === "0" ? false : raw);
const urls: Parse = (raw) => raw.split(",").map((s) => s.trim()).filter(Boolean);
const speed: Parse = (raw) => (raw === "recorded" || raw === "max" ? raw : num(raw));

/** Every setting reachable from a flag and an environment variable: [flag, path, parser]. */
const OPTIONS: [string, string[], Parse][] = [
  ["host", ["host"], str],
  ["port", ["port"], num],
  ["data-dir", ["dataDir"], str],
  ["log-level", ["logLevel"], str],
  ["feed", ["feed", "kind"], str],
  ["symbols", ["feed", "symbols"], list],
  ["tick-rate", ["feed", "tickRatePerS"], num],
  ["seed", ["feed", "seed"], num],
  ["bad-tick-rate", ["feed", "badTickRate"], num],
  ["option-expiries", ["feed", "optionExpiries"], num],
  ["strikes-per-side", ["feed", "strikesPerSide"], num],
  ["record", ["feed", "record"], str],
  ["replay-file", ["feed", "replayFile"], str],
  ["replay-speed", ["feed", "replaySpeed"], speed],
  ["replay-loop", ["feed", "replayLoop"], bool],
  ["replay-keep-time", ["feed", "replayKeepTime"], bool],
  ["replay-strict", ["feed", "replayStrict"], bool],
  ["feed-thread", ["feed", "thread"], str],
  ["ib-host", ["ib", "host"], str],
  ["ib-port", ["ib", "port"], num],
  ["ib-client-id", ["ib", "clientId"], num],
  ["ib-client-id-in-use", ["ib", "clientIdInUse"], str],
  ["ib-max-lines", ["ib", "maxLines"], num],
  ["broker", ["trading", "broker"], str],
  ["paper-hours", ["trading", "paper", "hours"], str],
  ["max-instruments", ["engine", "maxInstruments"], num],
  ["bar-history", ["engine", "barHistory"], num],
  ["max-connections", ["limits", "maxConnections"], num],
  ["stale-sweep-ms", ["staleSweepMs"], num],
  ["durability", ["trading", "durability"], str],
  ["capital", ["trading", "accounts", "capital"], num],
  ["key-rate", ["trading", "api", "keyRatePerS"], num],
  ["risk", ["risk", "enabled"], bool],
  ["role", ["role"], str],
  ["nats", ["nats"], urls],
];

/** Help text for the flags, generated from the same table. */
export const FLAG_HELP = OPTIONS.map(([flag, path]) => `  --${flag.padEnd(18)} ${path.join(".")}  (env ALLUSE_${envName(flag)})`).join("\n");

function envName(flag: string): string {
  return flag.toUpperCase().replace(/-/g, "_");
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== "object" || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path.at(-1)!] = value;
}

/** Parses `--flag value`, `--flag=value` and bare boolean flags; unknown flags are errors. */
export function parseFlags(argv: string[]): { values: Map<string, string>; errors: string[] } {
  const values = new Map<string, string>();
  const errors: string[] = [];
  const known = new Set([...OPTIONS.map((o) => o[0]), "config", "help"]);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) { errors.push(`unexpected argument "${arg}"`); continue; }
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    if (!known.has(name)) { errors.push(`unknown flag --${name}`); continue; }
    if (eq > 0) values.set(name, arg.slice(eq + 1));
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith("--")) values.set(name, argv[++i]!);
    else values.set(name, "");
  }
  return { values, errors };
}

async function readConfigFile(path: string): Promise<unknown> {
  let text: string;
  try {
    const stat = statSync(path);
    if (stat.isDirectory()) throw new ConfigError([`config file ${path}: is a directory, not a file`]);
    text = await Bun.file(path).text();
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError([`config file ${path}: ${code === "ENOENT" ? "not found" : code === "EACCES" ? "permission denied" : (err as Error).message}`]);
  }
  try {
    return path.endsWith(".toml") ? Bun.TOML.parse(text) : JSON.parse(text);
  } catch (err) {
    throw new ConfigError([`config file ${path}: ${(err as Error).message}`]);
  }
}

/** Builds the configuration from defaults, file, environment and flags; throws ConfigError. */
export async function loadConfig(argv: string[], env: Record<string, string | undefined> = process.env): Promise<Config> {
  const { values: flags, errors } = parseFlags(argv);
  if (errors.length > 0) throw new ConfigError(errors);
  const configPath = flags.get("config") || env.ALLUSE_CONFIG;
  const raw = (configPath ? await readConfigFile(configPath) : {}) as Record<string, unknown>;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new ConfigError([`config file ${configPath}: must hold an object`]);
  const origin = new Map<string, string>();
  for (const [flag, path, parse] of OPTIONS) {
    const fromEnv = env[`ALLUSE_${envName(flag)}`];
    if (fromEnv !== undefined) { setPath(raw, path, parse(fromEnv)); origin.set(path.join("."), `env ALLUSE_${envName(flag)}`); }
    const fromFlag = flags.get(flag);
    if (fromFlag !== undefined) { setPath(raw, path, parse(fromFlag)); origin.set(path.join("."), `flag --${flag}`); }
  }
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  throw new ConfigError(result.error.issues.map((issue) => {
    const path = issue.path.map(String).join(".");
    const key = [...origin.keys()].find((k) => path === k || path.startsWith(`${k}.`));
    const from = key ? ` (from ${origin.get(key)})` : configPath ? ` (from ${configPath} or defaults)` : "";
    return `config ${path || "(root)"}: ${issue.message}${from}`;
  }));
}
