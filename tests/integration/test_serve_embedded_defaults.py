"""The README's run command: `kawasaki-bot serve` on embedded defaults answers a resident.

No Redis, PostgreSQL, Rasa or LINE credentials: the in-process Redis stand-in, SQLite under
KB_VAR_DIR, the embedded NLU and the LINE emulator in the same process (`make run` adds `--chat`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from bot.config import DEV_CHANNEL_SECRET
from bot.devstack import free_port
from integrations.line.emulator import EmulatorClient
from integrations.line.webhook_sender import WebhookSender

_SERVICE_VARS = ("REDIS_URL", "DATABASE_URL", "RASA_URL", "LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN",
                 "LINE_API_BASE_URL", "LINE_DATA_API_BASE_URL", "PORT", "KB_EMULATOR_PORT")


def test_serve_on_embedded_defaults_answers_a_signed_webhook(tmp_path: Path) -> None:
    port, emulator_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in _SERVICE_VARS}
    env.update(KB_VAR_DIR=str(tmp_path / "var"), KB_EMULATOR_PORT=str(emulator_port))
    cli = Path(sys.executable).with_name("kawasaki-bot")
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([str(cli), "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()[-2000:]
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "serve did not come up in 120 s"
            time.sleep(0.3)
        emulator = f"http://127.0.0.1:{emulator_port}"
        sender = WebhookSender(f"http://127.0.0.1:{port}/callback", DEV_CHANNEL_SECRET, EmulatorClient(emulator))
        user = "U" + "5e" * 16
        assert sender.send(sender.events.text(user, "ソファを捨てたい")).status_code == 200
        found = EmulatorClient(emulator, timeout=5).messages(user, after=0, wait=20)
        texts = [str(m["message"].get("altText") or m["message"].get("text")) for m in found["messages"]]
        assert any("粗大ごみ" in t for t in texts), texts
        # A bad signature is rejected and answered by nobody.
        bad = requests.post(f"http://127.0.0.1:{port}/callback", data=b'{"events":[]}', timeout=5,
                            headers={"X-Line-Signature": "AAAA", "Content-Type": "application/json"})
        assert bad.status_code == 400
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
