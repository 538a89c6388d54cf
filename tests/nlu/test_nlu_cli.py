"""`kawasaki-bot nlu train|eval` (click objects, run with click's runner)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from bot.nlu.cli import nlu_group

FIXTURES = Path(__file__).parent / "fixtures"


def test_train_reports_and_caches(tmp_path: Path) -> None:
    res = CliRunner().invoke(nlu_group, ["train", "--data", str(FIXTURES / "nlu_data"),
                                         "--cache-dir", str(tmp_path)])
    assert res.exit_code == 0, res.output
    info = json.loads(res.output)
    assert info["intents"] >= 10 and info["examples"] > 50
    assert list(tmp_path.glob("*.pkl"))


def test_eval_on_heldout_prints_markdown(tmp_path: Path) -> None:
    heldout = tmp_path / "heldout.yml"
    heldout.write_text(
        "- {text: 古いタンスを処分したい, expected: 粗大ごみ収集申込手続}\n"
        "- {text: 明日の天気を教えて, expected: null}\n"
        "- {text: 戸籍謄本を取り寄せたいです, expected: 戸籍関係証明書の交付申請}\n",
        encoding="utf-8",
    )
    res = CliRunner().invoke(nlu_group, [
        "eval", "--data", str(FIXTURES / "nlu_data"), "--heldout", str(heldout),
        "--catalog", str(FIXTURES / "procedures.yml"), "--rasa-url", "", "--cache-dir", str(tmp_path / "c"),
    ])
    assert res.exit_code == 0, res.output
    lines = [line for line in res.output.splitlines() if line.startswith("|")]
    assert lines[0].startswith("| back end | data | n | top-1 | top-3 | OOS precision | OOS recall")
    row = [c.strip() for c in lines[2].strip("|").split("|")]
    assert row[0] == "embedded" and row[1] == "heldout" and row[2] == "3"


def test_eval_without_heldout_cross_validates(tmp_path: Path) -> None:
    res = CliRunner().invoke(nlu_group, [
        "eval", "--data", str(FIXTURES / "nlu_data"), "--heldout", str(tmp_path / "none.yml"),
        "--catalog", str(FIXTURES / "procedures.yml"), "--folds", "3", "--rasa-url", "",
    ])
    assert res.exit_code == 0, res.output
    assert "| embedded | 3-fold CV |" in res.output


class _FixedNlu:
    """Any object with .parse works as a second back end (the Rasa client is one)."""

    backend = "fixed"

    def parse(self, text: str):
        from bot.nlu.result import IntentScore, NluResult

        intent = IntentScore("proc_sodaigomi", 0.99)
        return NluResult(text=text, intent=intent, ranking=(intent,), backend="fixed")


def test_evaluate_heldout_accepts_any_parser() -> None:
    from bot.catalog.service import catalog_from_file
    from bot.nlu.data import HeldoutItem
    from bot.nlu.evaluation import evaluate_heldout

    cat = catalog_from_file(FIXTURES / "procedures.yml")
    rep = evaluate_heldout(_FixedNlu(), cat, [HeldoutItem("ソファ", "粗大ごみ収集申込手続"),
                                              HeldoutItem("天気", None)])
    assert rep.backend == "fixed" and rep.top1 == 0.5 and rep.oos_recall == 0.0
