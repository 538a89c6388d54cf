"""Regex markers of nlu_data/nlu/regexes.yml: a move's destination vs another city's own procedure.

Phrasings written for this test (issue #3 round 3), not training or held-out lines.
"""

from __future__ import annotations

import pytest

from bot.nlu.data import load_nlu_data
from bot.nlu.embedded import DEFAULT_DATA_DIR
from bot.nlu.features import Expander
from bot.nlu.normalize import fold_normalized, normalize


@pytest.fixture(scope="module")
def expander() -> Expander:
    return Expander.from_data(load_nlu_data(DEFAULT_DATA_DIR / "nlu"))


def markers(expander: Expander, text: str) -> set[str]:
    norm = normalize(text)
    return {m for m in expander.expand(norm, fold_normalized(norm))[1] if m.startswith("@regex:")}


@pytest.mark.parametrize("text", [
    "転居先は大阪府の吹田市になりました",
    "再来年から札幌暮らしです",
    "妻と熊本市で暮らすことになった",
    "海外赴任が決まりました",
    "日本を離れてカナダの学校に行きます",
])
def test_destination_of_a_move_is_marked(expander: Expander, text: str) -> None:
    found = markers(expander, text)
    assert "@regex:move_destination" in found, found
    assert "@regex:other_municipality" not in found, found


@pytest.mark.parametrize("text", [
    "新しい住所は東京都の中野区です",
    "引っ越し先は横浜市の緑区",
])
def test_destination_address_is_not_another_citys_procedure(expander: Expander, text: str) -> None:
    assert "@regex:other_municipality" not in markers(expander, text)


@pytest.mark.parametrize("text", [
    "横浜市の印鑑登録をしたい",
    "東京都の児童手当はいつ振り込まれる",
    "町田市で住民票をとりたい",
])
def test_another_citys_procedure_is_marked(expander: Expander, text: str) -> None:
    found = markers(expander, text)
    assert "@regex:other_municipality" in found, found
    assert "@regex:move_destination" not in found, found


@pytest.mark.parametrize("text", [
    "海外から帰国して川崎に住むことになりました",
    "来月から川崎市で暮らします",
    "川崎市に住む予定です",
])
def test_moving_into_kawasaki_is_not_a_destination_elsewhere(expander: Expander, text: str) -> None:
    assert "@regex:move_destination" not in markers(expander, text)
