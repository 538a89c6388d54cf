"""Closed-loop load and soak: many residents walk the whole 粗大ごみ chat form at once.

Starts the production setup (the Procfile's `web` under gunicorn and `worker`, a private
redis-server with AOF, a fresh PostgreSQL database) with the LINE emulator in this process. Each
simulated resident sends one signed webhook, waits for the bot's answer (the emulator wakes it, no
polling), then sends the next step: 11 turns from "粗大ごみを出したい" to the receipt number, again
and again until the phase ends. A turn's latency runs from the first byte of the webhook to the
moment the emulator accepted the answer. Each phase runs --ramp seconds (all its residents start
in the same millisecond and open their connections) before its turns are measured.

    # turns/s and latency at 1, 8, 32 and 128 concurrent residents, as fast as answered
    .venv/bin/python bench/form_load.py --levels 1,8,32,128 --seconds 20
    # 32 residents paced to 300 and 400 turns/s offered in all (each resident waits for its
    # answer, then at most until its next slot), beside the unpaced run
    .venv/bin/python bench/form_load.py --levels 32 --paces 0,300,400
    # 10-minute soak at a steady rate, RSS of every process sampled over time
    .venv/bin/python bench/form_load.py --soak 600 --rate 150

Every answer is checked: a turn whose answer is not the form's next step counts as an error and
the resident starts over with やめる. At the end every event is accounted for: answered once
(ok), never answered (lost), answered twice (doubled); submissions in PostgreSQL must equal the
receipts the residents saw.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jpholiday
import requests
import sqlalchemy as sa
from benchlib import machine, pct, read_response, table

from bot.devstack import SECRET, DevStack, wait_until
from bot.line_api import retry_key_for
from integrations.line.actions import tappable_actions
from integrations.line.webhook_sender import EventFactory, sign


def collection_date(today: dt.date) -> str:
    """A date the 粗大ごみ script accepts: a weekday 8+ days ahead that is not a holiday."""
    day = today + dt.timedelta(days=8)
    while day.weekday() >= 5 or jpholiday.is_holiday(day) or (day.month, day.day) in ((12, 29), (12, 30), (12, 31), (1, 1), (1, 2), (1, 3)):
        day += dt.timedelta(days=1)
    return f"{day.month}月{day.day}日"


def form_steps(today: dt.date) -> list[tuple[str, str, str]]:
    """(kind, value, expected) per turn; ``press`` needs the button in the previous answer."""
    return [
        ("say", "粗大ごみを出したい", "このLINEで申し込む"),
        ("press", "このLINEで申し込む", "出したいもの"),
        ("say", "ソファ1つ", "郵便番号"),
        ("say", "2100004", "宮本町"),
        ("say", "1-2-3", "日"),
        ("say", collection_date(today), "自宅の玄関前"),
        ("press", "自宅の玄関前", "お名前"),
        ("say", "川崎 太郎", "電話"),
        ("say", "044-123-4567", "なし"),
        ("press", "なし", "送信"),
        ("press", "送信", "受付番号"),
    ]


@dataclass
class Ledger:
    """What was sent, acknowledged and answered, per webhook event id."""

    sent: int = 0
    acked: set[str] = field(default_factory=set)
    non_200: int = 0
    answers: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lock: threading.Lock = field(default_factory=threading.Lock)


class Waiters:
    """Emulator listener → the asyncio future of the resident waiting for that event's answer."""

    def __init__(self, loop: asyncio.AbstractEventLoop, ledger: Ledger) -> None:
        self.loop = loop
        self.ledger = ledger
        self.by_key: dict[str, asyncio.Future] = {}
        self.retry_keys: dict[str, str] = {}

    def expect(self, event_id: str) -> asyncio.Future:
        fut = self.loop.create_future()
        self.by_key[event_id] = fut
        self.retry_keys[retry_key_for(event_id)] = event_id
        return fut

    def __call__(self, records: list[dict]) -> None:  # emulator thread, its lock held
        if not records:
            return
        first = records[0]
        event_id = first.get("webhookEventId") or self.retry_keys.get(first.get("retryKey") or "")
        if not event_id:
            return
        with self.ledger.lock:
            self.ledger.answers[event_id] += 1
        fut = self.by_key.pop(event_id, None)
        if fut is not None:
            messages = [r["message"] for r in records]
            arrived = time.perf_counter()
            self.loop.call_soon_threadsafe(lambda: fut.done() or fut.set_result((arrived, messages)))


class Resident:
    def __init__(self, user_id: str, port: int, factory: EventFactory, destination: str, waiters: Waiters,
                 ledger: Ledger, steps: list[tuple[str, str, str]]) -> None:
        self.user_id = user_id
        self.port = port
        self.factory = factory
        self.destination = destination
        self.waiters = waiters
        self.ledger = ledger
        self.steps = steps
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.last: list[dict] = []
        self.latencies: list[float] = []
        self.record_from = 0.0  # turns started earlier (the phase's ramp-up) are not measured
        self.by_step: dict[str, list[float]] = defaultdict(list)
        self.errors = 0
        self.receipts = 0
        self.turns = 0

    async def _post(self, event: dict) -> None:
        body = json.dumps({"destination": self.destination, "events": [event]}, ensure_ascii=False,
                          separators=(",", ":")).encode()
        raw = (f"POST /callback HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nContent-Type: application/json\r\n"
               f"X-Line-Signature: {sign(body, SECRET)}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
        for _attempt in range(20):  # like LINE: redeliver until acknowledged
            try:
                if self.writer is None:
                    self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
                assert self.reader is not None
                self.writer.write(raw)
                await self.writer.drain()
                status, keep = await read_response(self.reader)
                if not keep:  # e.g. werkzeug's server in `serve` closes after every response
                    self.writer.close()
                    self.writer = None
            except (ConnectionError, asyncio.IncompleteReadError):
                self.writer = None
                await asyncio.sleep(0.2)
                continue
            if status == 200:
                self.ledger.acked.add(event["webhookEventId"])
                return
            self.ledger.non_200 += 1
            await asyncio.sleep(0.2)
        raise RuntimeError("webhook never acknowledged")

    async def turn(self, kind: str, value: str, timeout: float) -> list[dict] | None:
        if kind == "press":
            action = next((a for a in tappable_actions(self.last) if a["label"] == value), None)
            if action is None:
                return None
            if action["type"] == "message":
                event = self.factory.text(self.user_id, action["text"])
            else:
                event = self.factory.postback(self.user_id, action["data"])
        else:
            event = self.factory.text(self.user_id, value)
        fut = self.waiters.expect(event["webhookEventId"])
        start = time.perf_counter()
        self.ledger.sent += 1
        await self._post(event)
        try:
            arrived, messages = await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            return None
        self.turns += 1
        if start >= self.record_from:
            self.latencies.append((arrived - start) * 1000)
            self.by_step[value].append(self.latencies[-1])
        self.last = messages
        return messages

    async def run(self, stop_at: float, timeout: float, think_s: float = 0.0, interval_s: float = 0.0) -> None:
        # interval_s paces the resident: a turn starts at most every interval_s (later if the
        # previous answer is late, never earlier), so residents x (1 / interval_s) is the offered rate.
        next_start = time.perf_counter() + random.uniform(0, interval_s)
        while time.perf_counter() < stop_at:
            for kind, value, expected in self.steps:
                if time.perf_counter() >= stop_at and kind == "say" and value == self.steps[0][1]:
                    return
                if interval_s:
                    await asyncio.sleep(max(0.0, next_start - time.perf_counter()))
                    next_start = max(next_start + interval_s, time.perf_counter())
                answer = await self.turn(kind, value, timeout)
                if answer is None or expected not in json.dumps(answer, ensure_ascii=False):
                    self.errors += 1
                    await self.turn("say", "やめる", timeout)
                    break
                if expected == "受付番号":
                    self.receipts += 1
                if think_s:
                    await asyncio.sleep(think_s)
        if self.writer is not None:
            self.writer.close()


class Asker(Resident):
    """First-time visitors asking free questions: each text from a new user, any answer counts.

    The form replay repeats the same few texts; these make the NLU and the Sudachi dictionary see
    the vocabulary of real questions (the training texts), so RSS is measured with a realistic
    working set and not only the form's.
    """

    def __init__(self, texts: list[str], *args: Any) -> None:
        super().__init__(*args)
        self.texts = texts
        self.asked = 0

    async def run(self, stop_at: float, timeout: float, think_s: float = 0.0, interval_s: float = 0.0) -> None:
        base = self.user_id
        next_start = time.perf_counter()
        while time.perf_counter() < stop_at:
            await asyncio.sleep(max(0.0, next_start - time.perf_counter()))
            next_start = max(next_start + interval_s, time.perf_counter())
            self.user_id = f"{base[:-8]}{self.asked:08x}"
            text = self.texts[self.asked % len(self.texts)]
            self.asked += 1
            if await self.turn("say", text, timeout) is None:
                self.errors += 1
        if self.writer is not None:
            self.writer.close()


def free_texts() -> list[str]:
    """The training texts (what residents say), shuffled with a fixed seed."""
    from bot.nlu.data import load_nlu_data, strip_entities
    from bot.nlu.embedded import DEFAULT_DATA_DIR

    data = load_nlu_data(DEFAULT_DATA_DIR)
    texts = sorted({strip_entities(t) for examples in data.intents.values() for t in examples})
    random.Random(8).shuffle(texts)
    return texts


def process_rss(stack: DevStack) -> dict[str, float]:
    """RSS in MB of each production process (a gunicorn web is its master plus its workers)."""

    def rss(pid: int) -> float:
        try:
            with open(f"/proc/{pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def tree(pid: int) -> list[int]:
        out = [pid]
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return out
        for child in children:
            out += tree(int(child))
        return out

    result: dict[str, float] = {}
    for name, proc in stack.procs.items():
        pids = tree(proc.pid)
        if name == "web":
            result["web master"] = round(rss(pids[0]), 1)
            for i, pid in enumerate(pids[1:]):
                result[f"web worker {i + 1}"] = round(rss(pid), 1)
        else:
            result[name] = round(sum(rss(p) for p in pids), 1)
    result["bench + emulator"] = round(rss(os.getpid()), 1)
    return result


async def run_phase(stack: DevStack, ledger: Ledger, residents: int, seconds: float, tag: int,
                    think_s: float = 0.0, on_tick=None, pace: float = 0.0, ramp_s: float = 0.0,
                    ask_rate: float = 0.0) -> dict:
    """Run ``residents`` for ``ramp_s`` unmeasured (all start at once: connections, first turns),
    then ``seconds`` measured."""
    loop = asyncio.get_running_loop()
    emulator = stack.emulator.emulator
    waiters = Waiters(loop, ledger)
    emulator.add_listener(waiters)
    factory = EventFactory(emulator)
    steps = form_steps(dt.date.today())
    run_id = uuid.uuid4().hex[:24]
    people = [Resident(f"U{tag:04x}{i:04x}{run_id}", stack.web_port, factory, emulator.bot_user_id,
                       waiters, ledger, steps) for i in range(residents)]
    start = time.perf_counter() + ramp_s
    stop_at = start + seconds
    for p in people:
        p.record_from = start
    interval = residents / pace if pace else 0.0
    tasks = [asyncio.create_task(p.run(stop_at, timeout=30.0, think_s=think_s, interval_s=interval)) for p in people]
    askers: list[Asker] = []
    if ask_rate:
        texts = free_texts()
        askers = [Asker(texts[i::2], f"U{tag:04x}ffff{run_id}", stack.web_port, factory, emulator.bot_user_id,
                        waiters, ledger, []) for i in range(2)]
        tasks += [asyncio.create_task(a.run(stop_at, timeout=30.0, interval_s=2 / ask_rate)) for a in askers]
    if on_tick is not None:
        tasks.append(asyncio.create_task(on_tick(stop_at)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start  # the measured part: turns started after the ramp-up
    emulator._listeners.remove(waiters)
    lat = [x for p in people for x in p.latencies]
    steps: dict[str, list[float]] = defaultdict(list)
    for p in people:
        for k, v in p.by_step.items():
            steps[k] += v
    if os.environ.get("KB_BENCH_STEPS"):
        for k, v in steps.items():
            print(f"  step {k[:12]:<14} n={len(v):5d} p50={pct(v, 50):6.1f} p99={pct(v, 99):6.1f} ms")
        # Per resident: an uneven spread means some residents' partitions sit on busier consumers.
        means = sorted(statistics.fmean(p.latencies) for p in people if p.latencies)
        if means:
            print(f"  per-resident mean ms: min {means[0]:.1f} median {means[len(means) // 2]:.1f} max {means[-1]:.1f}")
    extra = {"free texts": sum(a.asked for a in askers), "free-text errors": sum(a.errors for a in askers)} if askers else {}
    return {**extra, "residents": residents, "offered/s": pace or "max", "turns": len(lat),
            "turns/s": round(len(lat) / elapsed, 1),
            "p50 ms": round(pct(lat, 50), 1), "p99 ms": round(pct(lat, 99), 1), "max ms": round(max(lat or [0]), 1),
            "errors": sum(p.errors for p in people), "receipts": sum(p.receipts for p in people)}


def count_submissions(stack: DevStack) -> int:
    engine = sa.create_engine(stack.database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM submissions")).scalar_one())
    finally:
        engine.dispose()


def settle(ledger: Ledger, timeout: float = 30.0) -> dict[str, int]:
    """Wait for stragglers, then account for every acknowledged event."""
    deadline = time.time() + timeout
    while time.time() < deadline and any(ledger.answers.get(e, 0) == 0 for e in ledger.acked):
        time.sleep(0.2)
    time.sleep(1.0)
    lost = sum(1 for e in ledger.acked if ledger.answers.get(e, 0) == 0)
    doubled = sum(1 for e in ledger.acked if ledger.answers.get(e, 0) > 1)
    return {"sent": ledger.sent, "acknowledged": len(ledger.acked), "answered": len(ledger.acked) - lost,
            "lost": lost, "doubled": doubled, "non-200": ledger.non_200}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--levels", default="1,8,32,128")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--ramp", type=float, default=3.0, help="levels: seconds of each phase before measuring")
    ap.add_argument("--soak", type=float, default=0.0, help="soak duration in seconds (replaces --levels)")
    ap.add_argument("--rate", type=float, default=150.0, help="soak: target turns/s (residents x think time)")
    ap.add_argument("--soak-residents", type=int, default=64)
    ap.add_argument("--paces", default="0",
                    help="levels: offered turns/s per phase, comma-separated (0 = no pacing: as fast as answered)")
    ap.add_argument("--ask-rate", type=float, default=0.0,
                    help="soak: also this many free questions/s (training texts, each from a new user)")
    ap.add_argument("--sample", type=float, default=30.0, help="soak: RSS sample interval in seconds")
    ap.add_argument("--web-workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
    ap.add_argument("--worker-concurrency", type=int, default=4)
    ap.add_argument("--worker-processes", type=int, default=2, help="Procfile `worker` processes (scale-out)")
    ap.add_argument("--pg", default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--serve", action="store_true",
                    help="drive the single-process `kawasaki-bot serve` (on the same Redis and PostgreSQL) instead")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()

    # This process is LINE's side (the emulator keeps every delivery for the accounting) and the
    # residents. Its heap grows to millions of objects, and a full collection stalled it for
    # 90-250 ms, which showed up as the bot's latency. Collect between phases instead.
    gc.disable()
    work = Path(tempfile.mkdtemp(prefix="kb-formload-"))
    stack = DevStack(work, pg_server_url=args.pg, web_workers=args.web_workers,
                     worker_concurrency=args.worker_concurrency, emulator_in_process=True)
    ledger = Ledger()
    out: dict[str, Any] = {"machine": machine(), "command": "python bench/form_load.py " + " ".join(sys.argv[1:])}
    try:
        if args.serve:
            stack.start_redis()
            stack.create_database()
            stack.start_emulator()
            stack._spawn("serve", ["kawasaki-bot", "serve", "--host", "127.0.0.1", "--port", str(stack.web_port)])
            wait_until(lambda: requests.get(f"http://127.0.0.1:{stack.web_port}/healthz", timeout=1).ok, 180, "serve")
        else:
            stack.start()
            for i in range(2, args.worker_processes + 1):
                stack.start_worker(f"worker{i}")
        warm = asyncio.run(run_phase(stack, ledger, 4, args.warmup, 0))  # warm caches and connections
        rows = []
        if args.soak:
            samples: list[dict] = []

            async def tick(stop_at: float) -> None:
                t0 = time.perf_counter()
                while time.perf_counter() < stop_at:
                    samples.append({"t s": round(time.perf_counter() - t0), **process_rss(stack)})
                    print(json.dumps(samples[-1]), flush=True)
                    await asyncio.sleep(min(args.sample, max(0.0, stop_at - time.perf_counter())))
                samples.append({"t s": round(time.perf_counter() - t0), **process_rss(stack)})

            # Each resident waits think time after an answer: residents / (latency + think) = rate.
            think = max(0.0, args.soak_residents / args.rate)
            gc.enable()  # ten minutes: keep the emulator's memory in check; the soak is not about p99
            rows.append(asyncio.run(run_phase(stack, ledger, args.soak_residents, args.soak, 1, think, tick,
                                              ask_rate=args.ask_rate)))
            rows[-1]["offered/s"] = f"~{args.rate:g} (think time)"
            out["rss"] = samples
            # Growth: the last sample against the first one taken after a minute of load.
            base = next((x for x in samples if x["t s"] >= 60), samples[0])
            out["rss growth MB"] = {k: round(samples[-1][k] - base[k], 1) for k in base if k != "t s"}
            print(table(samples))
            print("RSS growth after the first minute (MB):", json.dumps(out["rss growth MB"]))
        else:
            for level in [int(x) for x in args.levels.split(",")]:
                for pace in [float(x) for x in args.paces.split(",")]:
                    gc.collect()
                    rows.append(asyncio.run(run_phase(stack, ledger, level, args.seconds, 2 + level, pace=pace,
                                                      ramp_s=args.ramp)))
                    print(json.dumps(rows[-1]), flush=True)
        accounting = settle(ledger)
        accounting["receipts"] = warm["receipts"] + sum(r["receipts"] for r in rows)
        accounting["submissions in PostgreSQL"] = count_submissions(stack)
        out.update({"rows": rows, "accounting": accounting, "violations": len(stack.emulator.emulator.violations)})
    finally:
        stack.stop()
    setup = ("kawasaki-bot serve (one process)" if args.serve else
             f"web: gunicorn {os.environ.get('WEB_WORKER_CLASS', 'gevent')} x{args.web_workers}, "
             f"worker: {args.worker_processes} process(es) x{args.worker_concurrency} handler threads")
    out["setup"] = setup
    print(f"\nMachine: {out['machine']}; {setup}")
    print(table(out["rows"]))
    print(json.dumps(out["accounting"], ensure_ascii=False), "spec violations:", out["violations"])
    if args.json:
        Path(args.json).write_text(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
