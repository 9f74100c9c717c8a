// Loads the WASM engine: one compiled module per process, one shared fixed-size memory per
// engine (initial = maximum, so the memory never grows and no view is ever detached).

import { readLayout, type Layout } from "./layout.ts";
import type { Capacities, CoreParams, EngineCore } from "./core.ts";

const WASM_PATH = new URL("../../wasm/engine.wasm", import.meta.url);
const PAGE_BYTES = 65536;

/** Account rows of the risk region when the capacities do not say (the module's RISK_MAX_ACCOUNTS). */
export const DEFAULT_RISK_ACCOUNTS = 64;
let compiled: Promise<WebAssembly.Module> | undefined;

/** Compiles wasm/engine.wasm once per process. */
export function engineModule(): Promise<WebAssembly.Module> {
  compiled ??= (async () => {
    const file = Bun.file(WASM_PATH);
    if (!(await file.exists())) {
      throw new Error(`${WASM_PATH.pathname} is missing: run "npm run build:wasm" first`);
    }
    return WebAssembly.compile(await file.arrayBuffer());
  })();
  return compiled;
}

// The instance behind each WASM core's memory, so other parts (src/risk/greeks.ts) can call
// further exports of the same module over the same memory.
const instances = new WeakMap<ArrayBufferLike, WebAssembly.Instance>();

/** The WASM instance owning `buffer`, or undefined when the buffer is not a WASM core's. */
export function wasmInstanceOf(buffer: ArrayBufferLike): WebAssembly.Instance | undefined {
  return instances.get(buffer);
}

interface EngineExports {
  plan(instruments: number, ring: number, bars: number, accounts: number): number;
  init(instruments: number, ring: number, bars: number, accounts: number): number;
  configure(a: number, b: number, c: number, d: number, e: number, f: number): number;
  defineInstrument(index: number, tickUnits: number, band: number, floor: number): number;
  ingest(count: number, now: number): number;
  sweepStale(now: number): number;
  resetSession(now: number): number;
}

function imports(memory: WebAssembly.Memory): WebAssembly.Imports {
  return {
    env: {
      memory,
      // AssemblyScript calls abort() on a failed assertion or an out-of-range cast: a bug.
      abort(_msg: number, _file: number, line: number, column: number) {
        throw new Error(`engine aborted at assembly line ${line}:${column}`);
      },
    },
  };
}

/** Plans the layout for `caps` in a throw-away one-page instance; returns layout and bytes needed. */
export async function planLayout(caps: Capacities): Promise<{ layout: Layout; bytes: number }> {
  const module = await engineModule();
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  const instance = await WebAssembly.instantiate(module, imports(memory));
  const ex = instance.exports as unknown as EngineExports;
  const bytes = ex.plan(caps.maxInstruments, caps.ringCapacity, caps.barHistory, caps.maxAccounts ?? DEFAULT_RISK_ACCOUNTS);
  if (bytes < 0) {
    throw new Error(`engine capacities rejected (code ${bytes}): ringCapacity must be a power of two, all > 0, and maxAccounts at most ${DEFAULT_RISK_ACCOUNTS}`);
  }
  const layout = readLayout(instance.exports);
  layout.maxInstruments = caps.maxInstruments;
  return { layout, bytes };
}

/** Creates the WASM core with its own shared memory sized for `caps`. */
export async function createWasmCore(caps: Capacities): Promise<EngineCore> {
  const { bytes } = await planLayout(caps);
  const pages = Math.ceil(bytes / PAGE_BYTES);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const instance = await WebAssembly.instantiate(await engineModule(), imports(memory));
  const ex = instance.exports as unknown as EngineExports;
  const rc = ex.init(caps.maxInstruments, caps.ringCapacity, caps.barHistory, caps.maxAccounts ?? DEFAULT_RISK_ACCOUNTS);
  if (rc !== 0) throw new Error(`engine init failed with code ${rc}`);
  const layout = readLayout(instance.exports);
  instances.set(memory.buffer, instance);
  return {
    name: "wasm",
    layout,
    buffer: memory.buffer,
    configure: (p: CoreParams) =>
      ex.configure(p.staleAfterMs, p.maxTickAgeMs, p.maxFutureMs, p.volTauMs, p.volSampleMs, p.reanchorAfter),
    defineInstrument: (i, t, b, f) => ex.defineInstrument(i, t, b, f),
    ingest: (count, now) => ex.ingest(count, now),
    sweepStale: (now) => ex.sweepStale(now),
    resetSession: (now) => ex.resetSession(now),
  };
}
