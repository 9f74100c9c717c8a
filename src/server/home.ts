// The page at GET /. The operator dashboard is a later piece of work; until it exists this page
// says so plainly and links what is already served.

/** HTML of the placeholder home page. */
export const HOME_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>alluse-market</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem}code{background:#eee;padding:0 .2em}</style>
</head>
<body>
<h1>alluse-market</h1>
<p>The operator dashboard is not built yet. The API below is live.</p>
<ul>
<li><a href="/v1/instruments">/v1/instruments</a> — instruments (<code>?kind=stock|option</code>, <code>?underlying=</code>)</li>
<li><a href="/v1/quotes">/v1/quotes</a> — quotes (<code>?symbols=A,B</code>, or paged with <code>?offset=&amp;limit=</code>)</li>
<li><code>/v1/quotes/{symbol}</code> — one quote</li>
<li><code>/v1/bars/{symbol}?limit=N</code> — 1-minute bars</li>
<li><a href="/healthz">/healthz</a>, <a href="/readyz">/readyz</a> — liveness and readiness</li>
<li><code>/ws?format=json|msgpack</code> — streaming quotes over WebSocket</li>
</ul>
<p>The protocol is described in <code>docs/protocol.md</code> in the repository.</p>
</body>
</html>
`;
