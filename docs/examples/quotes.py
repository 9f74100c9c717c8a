"""Print live quotes from alluse-market: python3 quotes.py [ws://HOST:PORT/ws] [SYMBOL ...]

Needs python3 with websockets and msgpack (Debian: python3-websockets python3-msgpack).
QUOTES=N stops after N quote frames. Frames are described in docs/protocol.md.
"""
import asyncio
import os
import sys

import msgpack
import websockets


async def main(url, symbols, stop_after):
    async with websockets.connect(url + "?format=msgpack") as ws:
        welcome = msgpack.unpackb(await ws.recv())
        print("connected: protocol v%d, heartbeat %d ms" % (welcome["v"], welcome["heartbeatMs"]))
        await ws.send(msgpack.packb({"op": "subscribe", "id": 1, "symbols": symbols}))
        seen = 0
        async for data in ws:
            frame = msgpack.unpackb(data)
            if frame["t"] == "error":
                sys.exit("refused: %s %s (field %s)" % (frame["code"], frame["message"], frame.get("field")))
            if frame["t"] == "ack":
                print("subscribed:", ", ".join(frame["symbols"]))
            elif frame["t"] == "q":
                print("%-8s seq %-8d bid %-9s ask %-9s last %s" % (frame["s"], frame["seq"], frame["b"], frame["a"], frame["l"]))
                seen += 1
                if seen == stop_after:
                    return


if __name__ == "__main__":
    url = sys.argv[1] if len(sys.argv) > 1 else "ws://127.0.0.1:8787/ws"
    asyncio.run(main(url, sys.argv[2:] or ["AAPL"], int(os.environ.get("QUOTES", "0"))))
