"""`kawasaki-bot route` contract: stdin lines -> one JSON object per line, in order, flushed per line."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.routing.cli import route_command

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "nlu" / "fixtures"
CHANNELS = {"chat", "ekawasaki", "pittari", "logoform", "external", "counter"}


@pytest.fixture(scope="module")
def args(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    cache = tmp_path_factory.mktemp("route-cache")
    return ["--catalog", str(FIXTURES / "procedures.yml"), "--nlu-data", str(FIXTURES / "nlu_data"),
            "--nlu-cache", str(cache)]


def check_contract(obj: dict, text: str) -> None:
    assert list(obj) == ["text", "procedure", "confidence", "candidates"]
    assert obj["text"] == text
    assert isinstance(obj["confidence"], float)
    assert len(obj["candidates"]) <= 5
    for c in obj["candidates"]:
        assert set(c) == {"id", "name", "score"} and isinstance(c["score"], float)
    if obj["procedure"] is not None:
        assert set(obj["procedure"]) == {"id", "name", "channel"}
        assert obj["procedure"]["channel"] in CHANNELS
        assert obj["candidates"][0]["id"] == obj["procedure"]["id"]


def test_stdin_lines_in_order_with_click_runner(args: list[str]) -> None:
    lines = ["ソファを捨てたい", "こんにちは", "", "今日の天気は？", "戸籍謄本がほしい", "証明書"]
    res = CliRunner(env={"RASA_URL": ""}).invoke(route_command, args, input="\n".join(lines) + "\n")
    assert res.exit_code == 0, res.output
    out = [json.loads(x) for x in res.output.splitlines()]
    assert len(out) == len(lines)
    for obj, text in zip(out, lines, strict=True):
        check_contract(obj, text)
    assert out[0]["procedure"]["id"] == "sodaigomi"
    assert out[1]["procedure"] is None and out[3]["procedure"] is None and out[2]["procedure"] is None
    assert out[4]["procedure"]["id"] == "koseki"
    assert "ソファ" in res.output  # ensure_ascii=False


def test_single_text_argument(args: list[str]) -> None:
    res = CliRunner(env={"RASA_URL": ""}).invoke(route_command, [*args, "住民票がほしい"])
    assert res.exit_code == 0, res.output
    (line,) = res.output.splitlines()
    obj = json.loads(line)
    check_contract(obj, "住民票がほしい")
    assert obj["procedure"]["name"] == "住民票の写し等の交付申請"


def test_real_process_flushes_each_line(args: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if k != "RASA_URL"}
    env["PYTHONIOENCODING"] = "ascii"  # the command must still speak UTF-8
    proc = subprocess.Popen([sys.executable, "-m", "bot.routing.cli", *args], cwd=REPO, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdin is not None and proc.stdout is not None
        answers = []
        for text in ["粗大ごみを出したい", "ありがとう", "引っ越しで市外に出ます"]:
            proc.stdin.write((text + "\n").encode("utf-8"))
            proc.stdin.flush()
            # The answer must arrive while stdin is still open (no buffering until EOF).
            deadline = time.monotonic() + 120
            ready, _, _ = select.select([proc.stdout], [], [], deadline - time.monotonic())
            assert ready, "no answer line before stdin was closed"
            obj = json.loads(proc.stdout.readline().decode("utf-8"))
            check_contract(obj, text)
            answers.append(obj)
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0
        assert proc.stdout.read() == b""
    finally:
        if proc.poll() is None:
            proc.kill()
    assert answers[0]["procedure"]["id"] == "sodaigomi"
    assert answers[1]["procedure"] is None
    assert answers[2]["procedure"]["id"] == "tenshutsu"


def test_real_process_single_argument_with_default_catalog(tmp_path: Path) -> None:
    """No options: the app's catalog file and nlu_data/ (whatever state they are in)."""
    env = {k: v for k, v in os.environ.items() if k != "RASA_URL"}
    out = subprocess.run([sys.executable, "-m", "bot.routing.cli", "--nlu-cache", str(tmp_path),
                          "住民票の写しがほしい"], cwd=REPO, env=env, capture_output=True, timeout=300)
    assert out.returncode == 0, out.stderr.decode()
    obj = json.loads(out.stdout.decode("utf-8"))
    check_contract(obj, "住民票の写しがほしい")
    assert obj["procedure"]["name"] == "住民票の写し等の交付申請"
