"""The routing contract end to end with the real Rasa server as the NLU back end (runs in CI)."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from bot.catalog.service import DEFAULT_CATALOG_FILE, catalog_from_file
from bot.cli import main
from bot.nlu.data import load_nlu_data
from bot.nlu.normalize import fold
from bot.routing.router import route
from integrations.rasa.client import RasaNlu

TEMPLATES = ("{}の手続きをしたいです", "{}について教えてください", "{}のことで相談したい")


@pytest.fixture(scope="module")
def rasa_nlu(rasa_server) -> RasaNlu:
    return RasaNlu(rasa_server.url, timeout=5.0)


def test_every_procedure_is_reachable_through_rasa(rasa_nlu, rasa_data_dir) -> None:
    catalog = catalog_from_file(DEFAULT_CATALOG_FILE)
    training = {fold(t) for t, _ in load_nlu_data(rasa_data_dir.parent).examples()} if (
        rasa_data_dir.name == "nlu") else set()
    unreachable = []
    for p in catalog.procedures:
        topics = [*p.keywords, re.sub(r"[（(【][^）)】]*[）)】]", "", p.name)]
        texts = [t.format(k) for k in topics for t in TEMPLATES if fold(t.format(k)) not in training]
        if not any(p.id in [c.id for c in route(rasa_nlu.parse(x), catalog, x).candidates[:5]] for x in texts[:12]):
            unreachable.append(p.id)
    assert not unreachable, unreachable


def test_route_cli_uses_rasa_when_rasa_url_is_set(rasa_server) -> None:
    result = CliRunner().invoke(main, ["route"], input="ソファを捨てたい\n今日の天気は？\n",
                                env={"RASA_URL": rasa_server.url})
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["text"] for line in lines] == ["ソファを捨てたい", "今日の天気は？"]
    assert lines[0]["procedure"]["id"] == "sodaigomi"
    assert lines[1]["procedure"] is None
