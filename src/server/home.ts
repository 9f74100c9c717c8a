// The operator dashboard at GET /: one static HTML page and one script, bundled from
// src/server/dashboard/ by Bun.build when the server starts (no build step, no CDN, nothing
// fetched from outside). The page uses only the public API: /ws for quotes, option chains, orders, risk and
// alerts, /v1/* and /metrics.

import type { Hono } from "hono";
import type { RouteDoc } from "./openapi-registry.ts";

/** HTML of the dashboard; its script is served at /dashboard.js. */
export const HOME_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>alluse-market</title>
<link rel="icon" href="data:,">
<style>
:root{--bg:#0f1419;--panel:#171d24;--line:#26303b;--text:#d8dee6;--dim:#8795a5;--up:#2fbf71;--down:#e5534b;--warn:#d29922;--accent:#4f9dde}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);font:13px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif}
header{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;padding:.5rem 1rem;border-bottom:1px solid var(--line)}
header h1{font-size:15px;margin:0;font-weight:600}
.pill{padding:1px 8px;border-radius:9px;background:var(--line);color:var(--dim);font-size:12px}
.pill.ok{background:#1d3b2a;color:var(--up)}.pill.bad{background:#3d1f1f;color:var(--down)}
header .right{margin-left:auto;color:var(--dim);font-variant-numeric:tabular-nums}
main{display:grid;gap:.75rem;padding:.75rem;grid-template-columns:minmax(0,1.15fr) minmax(0,1fr)}
section{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:.5rem .75rem;min-width:0}
section h2{font-size:12px;text-transform:uppercase;letter-spacing:.06em;color:var(--dim);margin:0 0 .4rem;font-weight:600;display:flex;gap:.5rem;align-items:baseline}
section h2 .sub{text-transform:none;letter-spacing:0;font-weight:400}
#quotes-card{grid-row:span 2}
.scroll{overflow:auto;max-height:calc(100vh - 120px)}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:3px 6px;text-align:right;white-space:nowrap;border-bottom:1px solid var(--line)}
th{color:var(--dim);font-weight:500;position:sticky;top:0;background:var(--panel)}
th:first-child,td:first-child{text-align:left}
tbody tr{cursor:pointer}tbody tr:hover{background:#1d2530}tbody tr.sel{background:#1f2a36}
@keyframes flash-up{from{background:rgba(47,191,113,.45)}to{background:transparent}}
@keyframes flash-down{from{background:rgba(229,83,75,.45)}to{background:transparent}}
td.up{animation:flash-up .8s ease-out}td.down{animation:flash-down .8s ease-out}
.pos{color:var(--up)}.neg{color:var(--down)}
.flag{display:inline-block;padding:0 4px;margin-left:2px;border-radius:3px;font-size:10px;background:#3a2e12;color:var(--warn)}
.flag.bad{background:#3d1f1f;color:var(--down)}
canvas{display:block;width:100%;height:220px}
#price-chart{height:260px}
.kv{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:2px 12px;margin-top:.4rem;font-variant-numeric:tabular-nums}
.kv div{display:flex;justify-content:space-between;gap:6px;border-bottom:1px dotted var(--line)}
.kv span:first-child{color:var(--dim)}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:.5rem}
.charts canvas{height:150px}
.legend{color:var(--dim);font-size:11px}
.trading{grid-column:1/-1;display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:.75rem}
.na{color:var(--dim);font-style:italic;margin:.25rem 0}
.dim{color:var(--dim)}.small{font-size:11px}
.note{margin:.2rem 0;color:var(--dim);overflow-wrap:anywhere}.note:empty{display:none}.note.bad{color:var(--down)}
input,select,button{font:inherit;color:var(--text);background:#0f1419;border:1px solid var(--line);border-radius:4px;padding:2px 6px;min-width:0}
button{cursor:pointer;background:#1f2a36}button:hover:not(:disabled){border-color:var(--accent)}button:disabled{opacity:.5;cursor:default}
button.small{padding:0 6px;font-size:11px}
#key-form{display:flex;flex-wrap:wrap;gap:.4rem;align-items:center}#key{width:16rem;max-width:100%}
#ticket{display:flex;flex-wrap:wrap;gap:.35rem;margin-bottom:.3rem}#ticket input{width:6.5rem}#ticket #t-qty{width:5rem}
#ticket .chk{display:flex;align-items:center;gap:.2rem;white-space:nowrap}#ticket input[type=checkbox]{width:auto;margin:0}.chk:has(input:disabled){color:var(--dim)}
td .why{display:block;font-size:11px;color:var(--dim);white-space:normal;max-width:22rem;margin-left:auto}
.xscroll{overflow-x:auto;max-width:100%}.xscroll.short{max-height:220px;overflow-y:auto}
table.compact th,table.compact td{padding:2px 5px}
table.compact tbody tr{cursor:default}
table.wrap td:nth-child(4){white-space:normal;text-align:left;min-width:14rem}.nowrap{white-space:nowrap}
tr.resolved{opacity:.55}
.legend{margin-top:.35rem}
.acct{margin-bottom:.5rem}.acct-head{display:flex;flex-wrap:wrap;gap:.25rem .75rem;align-items:baseline;font-variant-numeric:tabular-nums}
.risk-head{display:flex;flex-wrap:wrap;gap:.25rem .75rem;align-items:center}
.state{padding:1px 8px;border-radius:9px;font-weight:600;text-transform:uppercase;font-size:11px}
.state.active{background:#1d3b2a;color:var(--up)}.state.reducing{background:#3a2e12;color:var(--warn)}.state.halted{background:#3d1f1f;color:var(--down)}
.score{margin-left:auto;font-variant-numeric:tabular-nums}
.gauges{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:3px 12px;margin:.4rem 0}
.gauge{display:grid;grid-template-columns:6.5rem 1fr 3rem;gap:6px;align-items:center;font-variant-numeric:tabular-nums}
.gauge span:first-child{color:var(--dim)}.gauge span:last-child{text-align:right}
.bar{height:6px;background:var(--line);border-radius:3px;overflow:hidden}.fill{height:100%;background:var(--up)}.fill.warn{background:var(--warn)}.fill.bad{background:var(--down)}
.sev{padding:0 4px;border-radius:3px;font-size:10px}.sev.warning{background:#3a2e12;color:var(--warn)}.sev.critical{background:#3d1f1f;color:var(--down)}
.wide{grid-column:1/-1}.wide h2{flex-wrap:wrap;align-items:center}
.chain-grid{display:grid;grid-template-columns:minmax(0,1.5fr) minmax(0,1fr);gap:.75rem}
.chain-scroll{max-height:440px;overflow:auto}#smile-chart{height:260px}
table.chain th,table.chain td:first-child{text-align:right}th.call{color:var(--up)}th.put{color:var(--down)}
table.chain td.strike,table.chain th.strike{text-align:center;font-weight:600;background:#1b222b}table.chain tr.atm td.strike{color:var(--accent)}
table.chain td.band{background:rgba(210,153,34,.2);color:#f0d9a8}
@media (max-width:1000px){.chain-grid{grid-template-columns:minmax(0,1fr)}}
@media (max-width:1000px){main{grid-template-columns:minmax(0,1fr)}#quotes-card{grid-row:auto}.trading{grid-template-columns:minmax(0,1fr)}.scroll{max-height:none}}
@media (max-width:600px){.hide-sm{display:none}.charts{grid-template-columns:1fr}main{padding:.5rem}header .right{margin-left:0}#key{width:100%}table.wrap td:nth-child(3),table.wrap td:nth-child(4){white-space:normal;min-width:7rem}}
</style>
</head>
<body>
<header>
  <h1>alluse-market</h1>
  <span id="conn" class="pill">connecting</span>
  <span id="ready" class="pill">readiness…</span>
  <form id="key-form" autocomplete="off">
    <input id="key" type="password" placeholder="API key (kept for this tab only)" aria-label="API key" autocomplete="off">
    <button type="submit">Use key</button>
    <button type="button" id="key-forget">Forget</button>
    <span id="key-state" class="pill">no key</span>
  </form>
  <span class="right"><span id="clock"></span></span>
</header>
<main>
  <section id="quotes-card">
    <h2>Quotes <span class="sub" id="quotes-sub"></span></h2>
    <div class="scroll"><table id="quotes">
      <thead><tr><th>Symbol</th><th>Bid</th><th>Ask</th><th>Last</th><th>Chg %</th><th class="hide-sm">Volume</th><th class="hide-sm">VWAP</th><th class="hide-sm">Vol %</th><th class="hide-sm">Latency</th><th>Flags</th></tr></thead>
      <tbody></tbody>
    </table></div>
  </section>
  <section id="chart-card">
    <h2>Price <span class="sub" id="chart-title">1-minute bars</span></h2>
    <canvas id="price-chart" aria-label="price chart"></canvas>
    <div class="kv" id="analytics"></div>
  </section>
  <section id="system-card">
    <h2>System <span class="sub">from /metrics</span></h2>
    <div class="charts">
      <div><div class="legend">Throughput per second: <span class="pos">ticks in</span> · <span style="color:var(--accent)">messages out</span></div><canvas id="throughput-chart"></canvas></div>
      <div><div class="legend">Latency, ms: <span class="pos">tick→publish p50</span> · <span class="neg">p99</span> · <span style="color:var(--warn)">event-loop lag p99</span></div><canvas id="latency-chart"></canvas></div>
    </div>
    <div class="kv" id="system"></div>
  </section>
  <section id="chain-card" class="wide">
    <h2>Option chain <select id="chain-underlying" aria-label="underlying"></select><select id="chain-expiry" aria-label="expiry"></select>
      <span class="sub">band of <select id="opt-account" aria-label="account for the band and the candidates"></select></span> <span class="sub" id="chain-spot"></span></h2>
    <p class="note" id="chain-status"></p>
    <div class="chain-grid">
      <div class="xscroll chain-scroll"><table id="chain" class="compact chain">
        <thead><tr><th class="call">Bid</th><th class="call">Ask</th><th class="call">Mid</th><th class="call">IV %</th><th class="call">Δ</th><th class="call hide-sm">Γ</th><th class="strike">Strike</th><th class="put">Bid</th><th class="put">Ask</th><th class="put">Mid</th><th class="put">IV %</th><th class="put">Δ</th><th class="put hide-sm">Γ</th></tr></thead>
        <tbody id="chain-body"></tbody>
      </table></div>
      <div>
        <div class="legend">IV smile, % by strike: <span class="pos">calls</span> · <span class="neg">puts</span> · <span style="color:var(--accent)">spot</span> · <span style="color:var(--warn)">ringed: in the band</span></div>
        <canvas id="smile-chart" aria-label="IV smile"></canvas>
        <div class="legend" id="chain-iv"></div>
        <div class="legend" id="chain-band"></div>
      </div>
    </div>
  </section>
  <section id="cand-card" class="wide">
    <h2>Candidates <span class="sub">the account's preset in this chain, sized and pre-checked; "ticket" fills the order ticket, nothing is placed</span> <button id="cand-load" class="small" type="button" disabled>Load</button></h2>
    <p class="note" id="cand-status"></p>
    <div class="legend" id="cand-head"></div>
    <div class="xscroll"><table id="cand" class="compact">
      <thead><tr><th>Strike</th><th>Δ</th><th>Bid</th><th>Premium</th><th>Qty</th><th>Collateral</th><th>Yield/yr</th><th>P(ITM)</th><th>Breakeven</th><th>Preview</th><th></th></tr></thead>
      <tbody id="cand-body"></tbody>
    </table></div>
  </section>
  <div class="trading">
    <section id="accounts-card">
      <h2>Positions &amp; P&amp;L <span class="sub">per account, live marks</span></h2>
      <p class="note" id="accounts-status"></p>
      <div id="accounts"></div>
    </section>
    <section id="risk-card">
      <h2>Risk <select id="risk-account" aria-label="risk account"></select></h2>
      <p class="note" id="risk-status"></p>
      <div id="risk"></div>
    </section>
    <section id="orders-card">
      <h2>Orders &amp; fills</h2>
      <form id="ticket" autocomplete="off">
        <select id="t-account" aria-label="account"></select>
        <input id="t-symbol" list="t-symbols" placeholder="symbol" aria-label="symbol" required maxlength="32" value="AAPL">
        <datalist id="t-symbols"></datalist>
        <select id="t-side" aria-label="side"><option value="buy">buy</option><option value="sell">sell</option></select>
        <select id="t-type" aria-label="type"><option value="limit">limit</option><option value="market">market</option><option value="stop">stop</option><option value="stop_limit">stop limit</option></select>
        <select id="t-tif" aria-label="time in force"><option>DAY</option><option>GTC</option><option>IOC</option><option>FOK</option></select>
        <input id="t-qty" type="number" min="1" step="1" value="10" aria-label="quantity" required>
        <input id="t-limit" type="number" step="any" placeholder="limit" aria-label="limit price">
        <input id="t-stop" type="number" step="any" placeholder="stop" aria-label="stop price">
        <label class="chk" title="IBKR outsideRth: a stock limit or stop-limit may also work 04:00–09:30 and 16:00–20:00 New York"><input id="t-rth" type="checkbox"> outside RTH</label>
        <select id="t-trigger" aria-label="stop trigger method" title="IBKR triggerMethod: what triggers a stop"><option value="default">trigger: default</option><option value="last">last</option><option value="double_last">double last</option><option value="bid_ask">bid/ask</option><option value="double_bid_ask">double bid/ask</option><option value="last_or_bid_ask">last or bid/ask</option><option value="mid_point">midpoint</option></select>
        <button id="t-place" type="submit" disabled>Place</button>
      </form>
      <p class="note" id="ticket-status"></p>
      <div class="legend">Open orders</div>
      <div class="xscroll"><table id="orders" class="compact">
        <thead><tr><th>Id</th><th>Account</th><th>Symbol</th><th>Side</th><th>Filled</th><th>Type</th><th>Status</th><th></th></tr></thead>
        <tbody id="orders-body"></tbody>
      </table></div>
      <div class="legend">Recent fills (last 50)</div>
      <div class="xscroll short"><table id="fills" class="compact">
        <thead><tr><th>Time</th><th>Account</th><th>Symbol</th><th>Side</th><th>Qty</th><th>Price</th><th>Comm.</th></tr></thead>
        <tbody id="fills-body"></tbody>
      </table></div>
    </section>
    <section id="alerts-card">
      <h2>Alerts <span class="sub">acknowledging needs an admin key</span></h2>
      <p class="note" id="alerts-status"></p>
      <div class="xscroll short"><table id="alerts" class="compact wrap">
        <thead><tr><th>Raised</th><th>Sev.</th><th>Rule</th><th>Message</th><th>State</th><th></th></tr></thead>
        <tbody id="alerts-body"></tbody>
      </table></div>
    </section>
  </div>
</main>
<script type="module" src="/dashboard.js"></script>
</body>
</html>
`;

/** The dashboard's script, bundled for browsers from src/server/dashboard/main.ts. */
export async function buildDashboardScript(): Promise<string> {
  const result = await Bun.build({
    entrypoints: [new URL("./dashboard/main.ts", import.meta.url).pathname],
    target: "browser",
    minify: true,
    format: "esm",
  });
  if (!result.success || result.outputs.length !== 1) {
    throw new Error(`dashboard bundle failed: ${result.logs.map((l) => l.message).join("; ")}`);
  }
  return await result.outputs[0]!.text();
}

/** Adds GET /dashboard.js serving a script built once at start. */
export function dashboardRoutes(script: string): (app: Hono) => void {
  return (app) => {
    app.get("/dashboard.js", () => new Response(script, { headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-cache" } }));
  };
}

/** The route of this file, for the OpenAPI document. */
export const dashboardRouteDocs: RouteDoc[] = [{
  method: "get", path: "/dashboard.js", tag: "meta", auth: "public", summary: "The dashboard's script",
  replies: { 200: { description: "JavaScript", contentType: "text/javascript" } },
}];
