// Prometheus families of the options workflow, read at scrape time: order previews by outcome,
// and the live chain streams (open chains, frames sent, legs repriced in WASM, rows conflated
// for connections that were behind).

import type { MetricsRegistry } from "../monitor/registry.ts";
import type { OrderPreviewer } from "./preview.ts";

/** What the chain streams report (src/server/chains-ws.ts). */
export interface ChainStreamCounters {
  pricing(): { openChains: number; legsPriced: number; batches: number };
  readonly stats: { frames: number; conflatedRows: number };
}

/** Registers the options families on `registry`; `chains` is absent when no chain topic runs. */
export function registerOptionsMetrics(registry: MetricsRegistry, previewer: OrderPreviewer, chains?: ChainStreamCounters): void {
  registry.scrape({
    name: "alluse_order_previews_total", help: "Order previews answered, by whether the order would have been allowed.",
    type: "counter", labelNames: ["result"],
    collect: (emit) => {
      emit(previewer.previews - previewer.refused, "allowed");
      emit(previewer.refused, "refused");
    },
  });
  if (!chains) return;
  registry.scrape({
    name: "alluse_chain_streams_open", help: "Option chains streamed over /ws now (shared by the connections streaming them).",
    type: "gauge", collect: (emit) => emit(chains.pricing().openChains),
  });
  registry.scrape({
    name: "alluse_chain_frames_total", help: "Chain frames sent (snapshots and updates).",
    type: "counter", collect: (emit) => emit(chains.stats.frames),
  });
  registry.scrape({
    name: "alluse_chain_legs_priced_total", help: "Chain legs whose IV and greeks were recomputed in WASM for the live streams.",
    type: "counter", collect: (emit) => emit(chains.pricing().legsPriced),
  });
  registry.scrape({
    name: "alluse_chain_conflated_rows_total", help: "Chain row states a connection that was behind never saw because a newer state replaced them.",
    type: "counter", collect: (emit) => emit(chains.stats.conflatedRows),
  });
}
