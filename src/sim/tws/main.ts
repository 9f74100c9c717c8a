#!/usr/bin/env bun
// CLI of the TWS simulator: `npm run sim:tws -- --port 7497`. Prints one JSON line when
// listening, then reads fault commands from stdin, one a line (`help` lists them).

import { createInterface } from "node:readline";
import { ExchangeCalendar } from "../../domain/calendar.ts";
import { createLogger } from "../../log.ts";
import { type Farm, TwsSimulator, type TwsSimulatorOptions } from "./simulator.ts";

const USAGE = `tws simulator — speaks the TWS API protocol (server version 193) over a synthetic market

usage: npm run sim:tws -- [flags]      (or: bun src/sim/tws/main.ts [flags])

  --host ADDR              listen address (default 127.0.0.1)
  --port N                 listen port (default 7497, TWS paper; 0 picks a free one)
  --symbols A,B            underlyings (default the synthetic market's ten)
  --option-expiries N      weekly expiries per underlying (default 2)
  --strikes-per-side N     strikes each side of the money (default 5)
  --tick-rate N            ticks per second over all instruments (default 2000)
  --seed N                 market seed (default 1)
  --bad-tick-rate X        share of deliberately bad ticks (default 0)
  --not-subscribed A,B     symbols without live data permission (354, delayed with type 3)
  --delay-ms N             delay every outbound message by N ms
  --help                   this text

${commandHelp()}`;

function commandHelp(): string {
  return `stdin commands:
  drop                     drop every client socket
  refuse MS                refuse connections for MS ms (stop listening)
  lost                     1100 connectivity lost
  restored lost|kept       1101 (data lost, subscriptions forgotten) or 1102 (data kept)
  broken                   2110 TWS-server connectivity broken
  farm down|up market|hmds|secdef
  delay MS                 delay outbound messages (0 to stop)
  clientid ID [TIMES]      answer the next TIMES START_APIs with this id with 326
  notsub SYMBOL on|off     take away / give back live market data permission
  reject [REASON]          reject the next order with error 201
  filldrop                 drop every client socket, then fill the resting orders while nobody is connected
  close                    close the session now: DAY orders expire (they also do at each 16:00 New York close)
  restart [MS] [ids]       gateway restart: drop, refuse for MS ms, execution ids (and with "ids" nextValidId) start again
  competing on|off         10197: a competing live session takes the market data (off: requests work again)
  contracts fail|ok        contract details and market data requests fail with 200 (not ready)
  reauth                   the login waits for re-authentication: 1100, then nothing until "login"
  login                    re-authenticated: 1101 (data lost)
  orders                   print live orders and fills
  status                   print counters`;
}

function parseArgs(argv: string[]): TwsSimulatorOptions & { delayMs?: number } {
  const opts: TwsSimulatorOptions & { delayMs?: number } = {};
  const list = (v: string) => v.split(",").map((s) => s.trim().toUpperCase()).filter(Boolean);
  const int = (flag: string, v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || v.trim() === "") throw new Error(`--${flag}: not a number: ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith("--") ? arg.slice(2).split("=", 2) as [string, string | undefined] : [arg, undefined];
    const value = () => inline ?? argv[++i] ?? "";
    switch (flag) {
      case "host": opts.host = value(); break;
      case "port": opts.port = int(flag, value()); break;
      case "symbols": opts.symbols = list(value()); break;
      case "option-expiries": opts.optionExpiries = int(flag, value()); break;
      case "strikes-per-side": opts.strikesPerSide = int(flag, value()); break;
      case "tick-rate": opts.tickRatePerS = int(flag, value()); break;
      case "seed": opts.seed = int(flag, value()); break;
      case "bad-tick-rate": opts.badTickRate = int(flag, value()); break;
      case "not-subscribed": opts.notSubscribed = list(value()); break;
      case "delay-ms": opts.delayMs = int(flag, value()); break;
      default: throw new Error(`unknown argument ${arg}`);
    }
  }
  return opts;
}

/** Applies one stdin command; returns the text to print. */
export function runCommand(sim: TwsSimulator, line: string): string {
  const [cmd, a, b, ...more] = line.trim().split(/\s+/);
  const rest = [a, b, ...more].filter((x): x is string => x !== undefined);
  switch (cmd) {
    case undefined: case "": return "";
    case "drop": sim.dropConnections(); return "dropped";
    case "refuse": void sim.refuseConnections(Number(a ?? 5000)); return `refusing for ${a ?? 5000} ms`;
    case "lost": sim.loseConnectivity(); return "1100 sent";
    case "restored": sim.restoreConnectivity(a === "kept"); return a === "kept" ? "1102 sent" : "1101 sent";
    case "broken": sim.serverConnectivityBroken(); return "2110 sent";
    case "farm": {
      const farm = (b ?? "market") as Farm;
      if (!["market", "hmds", "secdef"].includes(farm)) return `unknown farm ${farm}`;
      if (a === "down") sim.farmDown(farm);
      else sim.farmUp(farm);
      return `${farm} farm ${a === "down" ? "down" : "up"}`;
    }
    case "delay": sim.delayMessages(Number(a ?? 0)); return `delay ${a ?? 0} ms`;
    case "clientid": sim.holdClientId(Number(a), Number(b ?? 1)); return `client id ${a} held for ${b ?? 1} attempt(s)`;
    case "notsub": sim.setNotSubscribed(a ?? "", b !== "off"); return `${a} ${b === "off" ? "subscribed" : "not subscribed"}`;
    case "reject": sim.rejectNextOrder(rest.join(" ") || undefined); return "the next order will be rejected";
    case "filldrop": return `dropped; ${sim.fillWhileDisconnected()} resting order(s) traded through`;
    case "close": sim.closeSession(); return "session closed";
    case "restart": void sim.restart(Number(a ?? 0), b === "ids"); return `restarting, down ${a ?? 0} ms`;
    case "competing": sim.competingSession(a !== "off"); return a === "off" ? "competing session ended" : "competing live session (10197)";
    case "contracts": sim.failContracts(a !== "ok"); return a === "ok" ? "contract look-ups work" : "contract look-ups fail (200)";
    case "reauth": sim.awaitReauthentication(); return "1100 sent; waiting for re-authentication";
    case "login": sim.reauthenticated(); return "1101 sent";
    case "orders": return JSON.stringify({ live: sim.orders.liveCount, ...sim.orders.stats });
    case "status": return JSON.stringify({ ...sim.stats, connections: sim.connectionCount, clientIds: sim.clientIds, subscriptions: sim.marketData.subscriptionCount, ticks: sim.marketData.ticks, ticksDelivered: sim.marketData.ticksDelivered, ticksSkipped: sim.marketData.ticksSkipped });
    case "help": return commandHelp();
    default: return `unknown command ${cmd}; try help`;
  }
}

async function main(argv: string[]): Promise<void> {
  if (argv.includes("--help")) {
    process.stdout.write(USAGE);
    return;
  }
  let opts;
  try {
    opts = parseArgs(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  const log = createLogger("info", "tws-sim");
  // DAY orders expire at the US equity close, as in TWS.
  const sim = new TwsSimulator({ ...opts, log, calendar: new ExchangeCalendar() });
  if (opts.delayMs) sim.delayMessages(opts.delayMs);
  const port = await sim.start();
  log.info("listening", { host: opts.host ?? "127.0.0.1", port, instruments: sim.universe.contracts.length });
  const rl = createInterface({ input: process.stdin });
  rl.on("line", (line) => {
    try {
      const out = runCommand(sim, line);
      if (out) process.stdout.write(`${out}\n`);
    } catch (err) {
      process.stdout.write(`error: ${(err as Error).message}\n`);
    }
  });
  const shutdown = () => {
    rl.close();
    sim.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}

if (import.meta.main) await main(process.argv.slice(2));
