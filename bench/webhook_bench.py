"""Webhook benchmark: signed webhooks at rising rates against the production setup.

Starts the Procfile's `web` (gunicorn) and `worker` on a private redis-server (AOF) and a fresh
PostgreSQL database, with the LINE emulator in its own process, then drives `POST /callback` from
this process with an open-loop, rate-controlled generator over keep-alive connections (latency is
measured from the scheduled send time, so a stalled server cannot hide its queueing).

Reports per rate: achieved requests/s, ack latency p50/p99/max, non-200s, and webhook-to-reply
latency seen by the emulator; plus the worker's sustained events/s.

    .venv/bin/python bench/webhook_bench.py [--rates 250,500,1000,1500] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import redis
import requests
from benchlib import machine, pct, read_response, table

from bot.devstack import SECRET, DevStack
from integrations.line.webhook_sender import new_webhook_event_id, sign

PHRASES = ["ソファを捨てたい", "住民票がほしい", "引っ越しの手続き", "ヘルプ", "保育園に入りたい",
           "母が介護が必要になった", "道路に穴があいている", "こんにちは", "図書館の本を予約したい", "税金の証明書"]


def build_requests(emulator_url: str, destination: str, n: int, users: int, port: int) -> list[tuple[str, bytes]]:
    """Signed request bytes, with reply tokens issued by the emulator beforehand (not timed)."""
    session = requests.Session()

    def one(i: int) -> tuple[str, bytes]:
        user = f"U{i % users:032x}"
        eid = new_webhook_event_id()
        token = session.post(f"{emulator_url}/_emulator/reply-tokens",
                             json={"userId": user, "webhookEventId": eid}, timeout=10).json()["replyToken"]
        event = {"type": "message", "mode": "active", "timestamp": int(time.time() * 1000),
                 "source": {"type": "user", "userId": user}, "webhookEventId": eid,
                 "deliveryContext": {"isRedelivery": False}, "replyToken": token,
                 "message": {"type": "text", "id": str(10**17 + i), "quoteToken": f"q{i}", "text": PHRASES[i % len(PHRASES)]}}
        body = json.dumps({"destination": destination, "events": [event]}, ensure_ascii=False,
                          separators=(",", ":")).encode()
        head = (f"POST /callback HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
                f"X-Line-Signature: {sign(body, SECRET)}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        return eid, head + body

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, range(n)))


async def drive(port: int, reqs: list[tuple[str, bytes]], rate: float, conns: int) -> dict:
    """Open loop: request i is due at start + i/rate; its latency counts from that moment."""
    queue: asyncio.Queue = asyncio.Queue()
    acks: list[float] = []
    sent_at: dict[str, float] = {}
    errors = 0
    start = time.perf_counter() + 0.2
    wall0 = time.time() + 0.2

    async def connection() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while True:
            item = await queue.get()
            if item is None:
                writer.close()
                return
            i, eid, raw = item
            due = start + i / rate
            try:
                writer.write(raw)
                await writer.drain()
                status, _keep = await read_response(reader)
            except (ConnectionError, asyncio.IncompleteReadError):
                errors += 1
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            acks.append((time.perf_counter() - due) * 1000)
            sent_at[eid] = wall0 + i / rate
            if status != 200:
                errors += 1

    workers = [asyncio.create_task(connection()) for _ in range(conns)]
    for i, (eid, raw) in enumerate(reqs):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait((i, eid, raw))
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    elapsed = time.perf_counter() - start
    return {"acks": acks, "errors": errors, "elapsed": elapsed, "sent_at": sent_at}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rates", default="250,500,1000,1500")
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--users", type=int, default=500)
    ap.add_argument("--web-workers", type=int, default=2)
    ap.add_argument("--worker-concurrency", type=int, default=4)
    ap.add_argument("--worker-processes", type=int, default=1, help="Procfile `worker` processes (scale-out)")
    ap.add_argument("--pg", default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    args = ap.parse_args()
    rates = [float(r) for r in args.rates.split(",")]

    work = Path(tempfile.mkdtemp(prefix="kb-bench-"))
    stack = DevStack(work, pg_server_url=args.pg, web_workers=args.web_workers,
                     worker_concurrency=args.worker_concurrency, emulator_in_process=False)
    rows = []
    try:
        stack.start()
        for i in range(2, args.worker_processes + 1):
            stack.start_worker(f"worker{i}")
        info = requests.get(stack.emulator_url + "/_emulator/info", timeout=5).json()
        r = redis.Redis(port=stack.redis_port)
        for rate in rates:
            n = int(rate * args.seconds)
            reqs = build_requests(stack.emulator_url, info["botUserId"], n, args.users, stack.web_port)
            seq0 = int(requests.get(f"{stack.emulator_url}/_emulator/messages", params={"after": 10**12},
                                    timeout=5).json()["lastSeq"])
            t0 = time.time()
            result = asyncio.run(drive(stack.web_port, reqs, rate, args.connections))
            # Wait for the worker to drain what was acknowledged.
            while sum(int(r.xlen(f"kb:q:{p}")) for p in range(64)) > 0 and time.time() - t0 < 300:
                time.sleep(0.2)
            drained = time.time() - t0
            delivered = requests.get(f"{stack.emulator_url}/_emulator/messages",
                                     params={"after": seq0}, timeout=60).json()["messages"]
            first: dict[str, float] = {}
            for rec in delivered:
                eid = rec.get("webhookEventId")
                if eid and eid not in first:
                    first[eid] = rec["timestamp"] / 1000
            w2r = [(first[e] - s) * 1000 for e, s in result["sent_at"].items() if e in first]
            acks = result["acks"]
            rows.append({
                "target/s": rate, "sent": len(acks), "achieved/s": round(len(acks) / result["elapsed"]),
                "non-200": result["errors"], "ack p50 ms": round(pct(acks, 50), 2), "ack p99 ms": round(pct(acks, 99), 2),
                "ack max ms": round(max(acks), 1), "answered": len(w2r),
                "reply p50 ms": round(pct(w2r, 50), 1), "reply p99 ms": round(pct(w2r, 99), 1),
                "worker events/s": round(len(w2r) / drained, 1),
            })
            print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
    finally:
        stack.stop()
    print(f"\nMachine: {machine()}; web: gunicorn {os.environ.get('WEB_WORKER_CLASS', 'gevent')} "
          f"x{args.web_workers}, worker: {args.worker_processes} process(es) x{args.worker_concurrency} handler threads")
    print(table(rows))


if __name__ == "__main__":
    main()
