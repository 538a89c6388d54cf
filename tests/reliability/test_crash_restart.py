"""Kill -9 and restart the production processes (Procfile `web` and `worker`) mid-traffic.

Every acknowledged event must be answered exactly once, in order per user; a form must end in one
receipt. Each scenario is bounded in time (pytest-timeout) and runs in CI on real Redis (a private
AOF `redis-server`) and a fresh PostgreSQL database.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import create_engine, text

from bot.devstack import SECRET, DevStack
from bot.line_api import retry_key_for
from integrations.line.webhook_sender import WebhookSender

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


@pytest.fixture
def devstack(tmp_path, pg_server_url, redis_base_url):
    stack = DevStack(tmp_path, pg_server_url=pg_server_url, worker_concurrency=2, lease_ttl_ms=2000,
                     pg_proxy=True)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


def _sender(stack: DevStack) -> WebhookSender:
    return WebhookSender(stack.callback_url, SECRET, stack.emulator.emulator)


class Ledger:
    """Which events were acknowledged, and which Messaging API requests answered them."""

    def __init__(self, stack: DevStack) -> None:
        self.stack = stack
        self.acked: dict[str, list[str]] = defaultdict(list)  # user → event ids in send order
        self.lock = threading.Lock()

    def send(self, sender: WebhookSender, event: dict, *, redeliver: bool = False) -> bool:
        try:
            resp = sender.redeliver(event) if redeliver else sender.send([event])
        except requests.RequestException:
            return False
        if resp.status_code == 200:
            with self.lock:
                user = event["source"]["userId"]
                if event["webhookEventId"] not in self.acked[user]:
                    self.acked[user].append(event["webhookEventId"])
            return True
        return False

    def answers(self) -> dict[str, list[str]]:
        """event id → distinct request ids that answered it (reply by token, push by retry key)."""
        by_key = {retry_key_for(eid): eid for ids in self.acked.values() for eid in ids}
        out: dict[str, list[str]] = defaultdict(list)
        for record in self.stack.emulator.emulator.messages():
            eid = record["webhookEventId"] if record["api"] == "reply" else by_key.get(record["retryKey"] or "")
            if eid and record["requestId"] not in out[eid]:
                out[eid].append(record["requestId"])
        return out

    def wait_all_answered(self, timeout: float) -> dict[str, list[str]]:
        deadline = time.time() + timeout
        while True:
            answers = self.answers()
            missing = [e for ids in self.acked.values() for e in ids if e not in answers]
            if not missing or time.time() > deadline:
                return answers
            time.sleep(0.2)

    def check(self, answers: dict[str, list[str]]) -> dict[str, int]:
        acked = [e for ids in self.acked.values() for e in ids]
        lost = [e for e in acked if e not in answers]
        doubled = [e for e in acked if len(answers.get(e, [])) > 1]
        first_seq = {}
        for record in self.stack.emulator.emulator.messages():
            for eid, reqs in answers.items():
                if record["requestId"] in reqs:
                    first_seq.setdefault(eid, record["seq"])
        out_of_order = [u for u, ids in self.acked.items()
                        if [e for e in sorted(ids, key=lambda e: first_seq.get(e, 0))] != ids]
        assert not lost, f"lost {len(lost)} acknowledged events"
        assert not doubled, f"answered more than once: {doubled}"
        assert not out_of_order, f"out of order for users {out_of_order}"
        return {"acked": len(acked), "answered": len(acked) - len(lost), "lost": len(lost), "doubled": len(doubled)}


def _burst(ledger: Ledger, sender: WebhookSender, users: int, per_user: int) -> list[dict]:
    """users x per_user text events; each user's events sent in order, users in parallel."""
    events = {f"U{u:032x}": [sender.events.text(f"U{u:032x}", f"ヘルプ{i}") for i in range(per_user)]
              for u in range(users)}

    def run(user: str) -> None:
        for event in events[user]:
            ledger.send(sender, event)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(run, events))
    return [e for evs in events.values() for e in evs]


def test_worker_killed_during_a_burst_and_restarted(devstack) -> None:
    ledger, sender = Ledger(devstack), _sender(devstack)
    killer = threading.Timer(0.3, devstack.kill, args=("worker",))
    killer.start()
    _burst(ledger, sender, users=20, per_user=5)
    killer.join()
    assert sum(len(v) for v in ledger.acked.values()) == 100  # web kept acknowledging
    devstack.start_worker("worker2")
    figures = ledger.check(ledger.wait_all_answered(90))
    print("worker kill -9 during burst:", json.dumps(figures))


def _walk_form(resident) -> None:
    resident.say("粗大ごみを出したい")
    resident.press("このLINEで申し込む")
    resident.say("ソファ1つ")


def _fill_to_confirmation(r) -> None:
    _walk_form(r)
    r.say("2100004")
    r.say("1-2-3")
    r.say("来週の火曜")
    r.press("自宅の玄関前")
    r.say("川崎 太郎")
    r.say("044-123-4567")
    r.press("なし")


def test_worker_killed_in_the_middle_of_a_form(devstack, devstack_resident) -> None:
    r = devstack_resident
    _walk_form(r)
    devstack.kill("worker")
    # Sent while no worker runs: acknowledged, queued, answered after the restart.
    pending = r.send_text("2100004")
    devstack.start_worker("worker2")
    r.wait_for(pending)
    assert "宮本町" in r.text_of()
    r.say("1-2-3")
    r.say("来週の火曜")
    r.press("自宅の玄関前")
    r.say("川崎 太郎")
    r.say("044-123-4567")
    r.press("なし")
    devstack.kill("worker2")
    pending = r.press_async("送信")
    devstack.start_worker("worker3")
    r.wait_for(pending)
    assert "受付番号：KW-" in r.text_of()
    assert _count_submissions(devstack) == 1


def test_web_killed_during_a_burst_then_line_redelivers(devstack) -> None:
    ledger, sender = Ledger(devstack), _sender(devstack)
    sender.timeout = 2.0
    killer = threading.Timer(0.3, devstack.kill, args=("web",))
    killer.start()
    events = _burst(ledger, sender, users=20, per_user=5)
    killer.join()
    devstack.start_web()
    # LINE redelivers what got no 200, with the same webhookEventId and isRedelivery: true.
    acked = {e for ids in ledger.acked.values() for e in ids}
    unacked = [e for e in events if e["webhookEventId"] not in acked]
    for event in unacked:
        assert ledger.send(sender, event, redeliver=True)
    # Some acknowledged events are redelivered too (LINE cannot know we got them): still once.
    for event in events[:10]:
        ledger.send(sender, event, redeliver=True)
    figures = ledger.check(ledger.wait_all_answered(90))
    figures["redelivered"] = len(unacked) + 10
    print("web kill -9 during burst:", json.dumps(figures))


def test_redis_restart_in_the_middle_of_a_form(devstack, devstack_resident) -> None:
    r = devstack_resident
    _walk_form(r)
    devstack.restart_redis(down_s=1.0)
    r.say("2100004")  # the conversation goes on where it was (AOF kept the session)
    assert "宮本町" in r.text_of()
    health = requests.get(f"http://127.0.0.1:{devstack.web_port}/healthz", timeout=5).json()
    assert health["components"]["redis"]["status"] == "ok"


def test_database_unreachable_while_the_resident_presses_submit(devstack, devstack_resident) -> None:
    r = devstack_resident
    _fill_to_confirmation(r)
    devstack.pg_proxy.cut()
    pending = r.press_async("送信")
    first = r.wait_for(pending, timeout=20)
    assert "処理をしています" in json.dumps(first, ensure_ascii=False)  # told it is in progress, not failed
    time.sleep(3)
    devstack.pg_proxy.restore()
    receipt = r.wait_for_text("受付番号：KW-", timeout=60)
    assert receipt
    everything = json.dumps([m["message"] for m in devstack.emulator.emulator.messages(r.user_id)],
                            ensure_ascii=False)
    assert "できませんでした" not in everything and "失敗" not in everything
    assert _count_submissions(devstack) == 1


def _count_submissions(stack: DevStack) -> int:
    engine = create_engine(stack.pg_server_url.rsplit("/", 1)[0] + "/" + stack.db_name)
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM submissions")).scalar_one()
    engine.dispose()
    return int(n)


@pytest.fixture
def crashing_devstack(request, tmp_path, pg_server_url, redis_base_url):
    stack = DevStack(tmp_path, pg_server_url=pg_server_url, worker_concurrency=2, lease_ttl_ms=2000,
                     extra_env={"KB_CRASHPOINT": request.param})
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


@pytest.mark.parametrize("crashing_devstack", ["after_submission_insert", "before_commit_after_effects"], indirect=True)
def test_crash_between_storing_and_answering_files_one_application(crashing_devstack, resident_for) -> None:
    """The worker dies right after the INSERT (or before the turn commit); the re-run must not file twice."""
    stack = crashing_devstack
    r = resident_for(stack, "U" + "d4" * 16)
    _fill_to_confirmation(r)
    pending = r.press_async("送信")
    stack.procs["worker"].wait(30)  # it crashed at the crash point, holding the event un-acked
    stack.start_worker("worker2")
    r.wait_for(pending)
    time.sleep(1.0)
    receipts = [m for m in stack.emulator.emulator.messages(r.user_id)
                if "受付番号：KW-" in json.dumps(m["message"], ensure_ascii=False)]
    assert len(receipts) == 1
    assert _count_submissions(stack) == 1


@pytest.mark.parametrize("crashing_devstack", ["after_reply_accepted"], indirect=True)
def test_crash_after_line_accepted_the_reply_sends_no_second_answer(crashing_devstack, resident_for) -> None:
    """LINE accepted the reply, then the worker died before recording it: the re-run must not answer again."""
    stack = crashing_devstack
    r = resident_for(stack, "U" + "e5" * 16)
    event = r.send_text("ヘルプ")
    stack.procs["worker"].wait(30)
    stack.start_worker("worker2")
    r.wait_for(event)
    time.sleep(3.0)  # the re-run happens after the lease expires (2 s)
    requests_for_event = {rec["requestId"] for rec in stack.emulator.emulator.messages(r.user_id)}
    assert len(requests_for_event) == 1
    assert len(stack.emulator.emulator.token_failures) == 1  # the re-run tried the used token once, then stopped
