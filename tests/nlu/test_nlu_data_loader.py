"""Rasa 3.x YAML loading and the held-out set format."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.nlu.data import load_heldout, load_nlu_data, strip_entities

FIXTURES = Path(__file__).parent / "fixtures" / "nlu_data"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("[ソファ](sodai_item)を捨てたい", "ソファを捨てたい"),
        ("[国保](insurance:国民健康保険)をやめたい", "国保をやめたい"),
        ('[ベッド]{"entity": "item", "value": "bed"}を処分', "ベッドを処分"),
        ("[a](x)と[b](y)", "aとb"),
        ("注釈なし [括弧だけ]", "注釈なし [括弧だけ]"),
    ],
)
def test_strip_entities(raw: str, expected: str) -> None:
    assert strip_entities(raw) == expected


def test_loads_both_example_styles_synonyms_lookups_regexes(tmp_path: Path) -> None:
    write(tmp_path / "nlu" / "a.yml", """
version: "3.1"
nlu:
- intent: proc_x
  examples: |
    - 一つ目
    - [二つ目](ent)です
    -
- intent: proc_y
  examples:
  - text: 三つ目
    metadata: {sentiment: neutral}
  - text: |
      四つ目
- synonym: 国民健康保険
  examples: |
    - 国保
- lookup: item
  examples: |
    - ソファ
    - ベッド
- regex: zip
  examples: |
    - \\d{3}-\\d{4}
""")
    write(tmp_path / "nlu" / "b.yaml", """
version: "3.1"
nlu:
- intent: proc_x
  examples: |
    - 一つ目
    - 五つ目
""")
    write(tmp_path / "config.yml", "language: ja\npipeline: []\n")  # not NLU data: ignored
    data = load_nlu_data(tmp_path)
    assert data.intents == {"proc_x": ["一つ目", "二つ目です", "五つ目"], "proc_y": ["三つ目", "四つ目"]}
    assert data.synonyms == {"国民健康保険": ["国保"]}
    assert data.lookups == {"item": ["ソファ", "ベッド"]}
    assert data.regexes == {"zip": [r"\d{3}-\d{4}"]}
    assert len(data.files) == 2


def test_fixture_data_loads() -> None:
    data = load_nlu_data(FIXTURES)
    assert "greet" in data.intents and "out_of_scope" in data.intents
    assert all(not ("[" in t and "](" in t) for t, _ in data.examples())


def test_heldout_loader(tmp_path: Path) -> None:
    path = write(tmp_path / "heldout.yml", """
- text: ソファを捨てたい
  expected: 粗大ごみ収集申込手続※
- text: 今日の天気は？
  expected: null
- text: こんにちは
""")
    items = load_heldout(path)
    assert [(i.text, i.expected) for i in items] == [
        ("ソファを捨てたい", "粗大ごみ収集申込手続"),
        ("今日の天気は？", None),
        ("こんにちは", None),
    ]


def test_heldout_loader_rejects_bad_rows(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no text"):
        load_heldout(write(tmp_path / "h.yml", "- expected: 転出届\n"))
    with pytest.raises(ValueError, match="expected a list"):
        load_heldout(write(tmp_path / "h2.yml", "text: x\n"))


def test_real_heldout_parses_when_present() -> None:
    path = Path(__file__).resolve().parents[2] / "nlu_data" / "heldout" / "heldout.yml"
    if not path.exists():
        pytest.skip("no held-out set yet")
    items = load_heldout(path)
    assert items and all(i.text for i in items)
