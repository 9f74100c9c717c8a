// The HTTP floor of the order benchmark (bench/orders-floor.ts): a bare Bun.serve that takes a
// JSON POST, parses it and answers 201 with an order-sized JSON body — no routing, no key, no
// order logic, no disk. Its CPU per request is what any order endpoint on Bun.serve pays on
// this machine before doing anything of its own. Prints "HTTP <url>" once listening.

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    const b = (await req.json()) as Record<string, unknown>;
    const now = Date.now();
    return Response.json({
      id: "O1", account: b.account, clientOrderId: b.clientOrderId, symbol: b.symbol, side: b.side, type: b.type, tif: "day", qty: b.qty,
      status: "filled", filledQty: b.qty, avgFillPrice: 100.01, createdTs: now, updatedTs: now, version: 3,
    }, { status: 201 });
  },
});
console.log(`HTTP http://127.0.0.1:${server.port}`);
