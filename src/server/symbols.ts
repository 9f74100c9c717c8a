// Symbol resolution against the engine's instruments: exact symbols, and underlyings (the
// underlying itself plus every option on it). Instruments are only ever appended, so the
// underlying index is brought up to date incrementally on each lookup.

import type { QuoteSource } from "./quote-source.ts";

/** A name that did not resolve, with the request field it came from. */
export interface UnknownName {
  field: string;
  name: string;
}

/** Looks symbols and underlyings up in an engine's instrument table. */
export class SymbolIndex {
  private readonly byUnderlying = new Map<string, number[]>();
  private indexed = 0;

  constructor(private readonly engine: QuoteSource) {}

  /** Engine row of a symbol, or undefined. */
  row(symbol: string): number | undefined {
    return this.engine.instrument(symbol)?.index;
  }

  /** Symbol of an engine row. */
  symbolOf(row: number): string {
    return this.engine.instruments[row]!.symbol;
  }

  /** Rows of an underlying and every option on it, in instrument order; empty when none is known. */
  family(underlying: string): readonly number[] {
    const list = this.engine.instruments;
    for (; this.indexed < list.length; this.indexed++) {
      const inst = list[this.indexed]!;
      const key = inst.kind === "option" && inst.underlying !== undefined ? inst.underlying : inst.symbol;
      let rows = this.byUnderlying.get(key);
      if (!rows) this.byUnderlying.set(key, (rows = []));
      rows.push(inst.index);
    }
    return this.byUnderlying.get(underlying) ?? [];
  }

  /**
   * Resolves symbols and underlyings to distinct rows in instrument order. All or nothing: the
   * first name that matches no instrument is returned instead, so a caller applies nothing.
   */
  resolve(symbols: readonly string[] = [], underlyings: readonly string[] = []): { rows: number[] } | { unknown: UnknownName } {
    const rows = new Set<number>();
    for (let i = 0; i < symbols.length; i++) {
      const r = this.row(symbols[i]!);
      if (r === undefined) return { unknown: { field: `symbols[${i}]`, name: symbols[i]! } };
      rows.add(r);
    }
    for (let i = 0; i < underlyings.length; i++) {
      const fam = this.family(underlyings[i]!);
      if (fam.length === 0) return { unknown: { field: `underlyings[${i}]`, name: underlyings[i]! } };
      for (const r of fam) rows.add(r);
    }
    return { rows: [...rows].sort((a, b) => a - b) };
  }
}
