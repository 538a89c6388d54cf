"""`kawasaki-bot catalog validate|sync|import|search` against a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select

from bot.catalog.cli import catalog
from bot.catalog.models import Procedure

FIXTURE = Path(__file__).resolve().parents[1] / "nlu" / "fixtures" / "procedures.yml"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    engine = create_engine(url)
    Procedure.metadata.create_all(engine, tables=[Procedure.__table__])
    engine.dispose()
    return url


def count(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(Procedure)).scalar_one()
    engine.dispose()
    return n


def test_validate_ok_and_error(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(catalog, ["validate", str(FIXTURE)])
    assert ok.exit_code == 0 and "OK:" in ok.output
    bad = tmp_path / "bad.yml"
    bad.write_text("version: 1\nprocedures:\n- {id: a, name: A, channel: fax, audience: [個人]}\n", encoding="utf-8")
    res = runner.invoke(catalog, ["validate", str(bad)])
    assert res.exit_code != 0 and "channel「fax」は使えません" in res.output


def test_sync_import_search(db_url: str, tmp_path: Path) -> None:
    runner = CliRunner(env={"DATABASE_URL": db_url})
    res = runner.invoke(catalog, ["sync", "--file", str(FIXTURE)])
    assert res.exit_code == 0, res.output
    n = count(db_url)
    assert n > 0 and "追加" in res.output
    again = runner.invoke(catalog, ["sync", "--file", str(FIXTURE)])
    assert "追加 0、更新 0、削除 0" in again.output
    csv_path = tmp_path / "list.csv"
    csv_path.write_text("手続名,カテゴリ,対象,申請方法,URL,キーワード\n犬の登録申請,福祉,個人,窓口,,犬、いぬ\n",
                        encoding="utf-8")
    res = runner.invoke(catalog, ["import", str(csv_path)])
    assert res.exit_code == 0, res.output
    assert count(db_url) == n + 1
    res = runner.invoke(catalog, ["search", "--db", "いぬの登録"])
    hits = [json.loads(line) for line in res.output.splitlines()]
    assert hits[0]["name"] == "犬の登録申請"
