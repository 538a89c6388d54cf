"""`dialogs validate` on deliberately broken scripts: each problem at the right file:line.

Every broken file marks the lines that must be reported with `# ERROR: <words in the message>`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from forms_helpers import DIALOGS, NOW

from bot.forms.cli import dialogs
from bot.forms.schema import schema_json
from bot.forms.validate import validate_file

BROKEN = Path(__file__).parent / "broken"


def expected_marks(path: Path) -> list[tuple[int, str]]:
    marks = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        m = re.search(r"# ERROR: (.+)$", line)
        if m:
            marks.append((n, m.group(1).strip()))
    return marks


@pytest.mark.parametrize("path", sorted(BROKEN.glob("*.yml")), ids=lambda p: p.stem)
def test_broken_script_reports_right_lines(path):
    marks = expected_marks(path)
    assert marks, "a broken fixture must mark its errors"
    result = CliRunner().invoke(dialogs, ["validate", str(path)])
    assert result.exit_code == 1, result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith(str(path) + ":")]
    for line_no, words in marks:
        hits = [ln for ln in lines if ln.startswith(f"{path}:{line_no}:") and words in ln]
        assert hits, f"line {line_no} should report «{words}»; got:\n" + "\n".join(lines)
    for ln in lines:  # every report line says what is wrong and how to fix it
        assert "／直し方: " in ln
    reported = {int(ln.split(":")[1]) for ln in lines if "［注意］" not in ln}
    assert reported <= {n for n, _ in marks}, "errors reported on unmarked lines:\n" + "\n".join(lines)


def test_validate_shipped_dialogs_passes():
    result = CliRunner().invoke(dialogs, ["validate", str(DIALOGS)])
    assert result.exit_code == 0, result.output
    assert "5ファイルを検査：誤り 0件" in result.output


def test_validate_all_broken_together_fails_and_counts():
    result = CliRunner().invoke(dialogs, ["validate", str(BROKEN)])
    assert result.exit_code == 1
    total = sum(len(expected_marks(p)) for p in BROKEN.glob("*.yml"))
    assert f"誤り {total}件" in result.output


def test_published_schema_matches_code():
    assert (DIALOGS / "schema.json").read_text(encoding="utf-8") == schema_json()


def test_validator_finds_unreachable_slot_by_value():
    _, problems = validate_file(BROKEN / "bad_conditions.yml")
    assert any("決して表示されません" in p.message for p in problems)


def test_preview_walks_a_script_with_scripted_io():
    from bot.forms.preview import run_preview
    from bot.forms.script import Script

    script = Script.from_file(DIALOGS / "doro_koen_kasen_report.yml")
    answers = iter(["1", "穴・陥没", "/loc 35.5308,139.7029,神奈川県川崎市川崎区宮本町1", "/image",
                    "歩道に大きな穴があります", "はい", "希望しない", "1"])
    out: list[str] = []
    state = run_preview(script, input_fn=lambda _p: next(answers), output_fn=out.append, now=NOW)
    text = "\n".join(out)
    assert state["phase"] == "done"
    assert "[1] 道路" in text and "受付番号：PREVIEW-0001" in text and "写真1枚" in text


def test_preview_cli_stops_at_end_of_input():
    result = CliRunner().invoke(dialogs, ["preview", str(DIALOGS / "sodaigomi.yml"), "--today", "2026-11-30"],
                                input="ソファ1つ\n2100004\n")
    assert result.exit_code == 0, result.output
    assert "神奈川県川崎市川崎区宮本町 ですね" in result.output


def test_guide_example_is_a_valid_script(tmp_path):
    guide = (DIALOGS.parent / "docs" / "dialog-scripts.md").read_text(encoding="utf-8")
    block = guide.split("## 11.")[1].split("```yaml\n")[1].split("```")[0]
    path = tmp_path / "sample_report.yml"
    path.write_text(block, encoding="utf-8")
    script, problems = validate_file(path)
    assert script is not None and [p.format() for p in problems] == []
