"""Catalog file validation (staff-facing Japanese errors), SQL sync and the DB-backed service."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.catalog.loader import DEFAULT_CATALOG_FILE, load_catalog_file
from bot.catalog.models import Procedure
from bot.catalog.schema import CatalogError
from bot.catalog.service import get_catalog
from bot.catalog.sync import load_records, sync_catalog

FIXTURE = Path(__file__).resolve().parents[1] / "nlu" / "fixtures" / "procedures.yml"
PG_URL = os.environ.get("TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def write_catalog(tmp_path: Path, procedures: list[dict], version: str = "1") -> Path:
    path = tmp_path / "procedures.yml"
    path.write_text(yaml.safe_dump({"version": version, "schema": 1, "procedures": procedures},
                                   allow_unicode=True), encoding="utf-8")
    return path


def proc(**kw) -> dict:
    base = {"id": "a", "name": "手続A", "category": "暮らし", "audience": ["個人"], "channel": "counter",
            "online_now": False, "description": "説明", "requirements": {"fee": None, "documents": []},
            "apply": {}, "contact": None, "eta": None, "keywords": ["あ"], "variants": [], "sources": [],
            "unverified": []}
    base.update(kw)
    return base


def test_repository_catalog_is_valid() -> None:
    data = load_catalog_file(DEFAULT_CATALOG_FILE)
    assert data.version and data.procedures
    assert len({p.id for p in data.procedures}) == len(data.procedures)


@pytest.mark.parametrize(
    ("procedures", "message"),
    [
        ([proc(), proc(name="手続B")], "id「a」が重複しています（1件目と同じ）"),
        ([proc(channel="fax")], "channel「fax」は使えません。chat / ekawasaki / pittari / logoform / external / counter"),
        ([proc(name="")], "name（正式名称）がありません"),
        ([proc(id="Bad-Id")], "id「Bad-Id」は使えません"),
        ([proc(audience=["市民"])], "audience（対象）は 個人 / 事業者 で書いてください（「市民」は使えません）"),
        ([proc(requirements={"fee": {"amount_yen": -5}})], "amount_yen「-5」は0以上の整数"),
        ([proc(requirements={"fee": {"amount_yen": 1, "confidence": "sure"}})], "confidence「sure」"),
        ([proc(), proc(id="b")], "名前「手続A」が重複しています"),
    ],
)
def test_validation_errors_are_clear_japanese(tmp_path: Path, procedures: list[dict], message: str) -> None:
    with pytest.raises(CatalogError) as exc:
        load_catalog_file(write_catalog(tmp_path, procedures))
    assert message in str(exc.value)
    assert str(exc.value).startswith("手続カタログ（procedures.yml）に")


def test_all_problems_are_listed_at_once(tmp_path: Path) -> None:
    with pytest.raises(CatalogError) as exc:
        load_catalog_file(write_catalog(tmp_path, [proc(channel="x"), proc(id="b", name="")]))
    assert len(exc.value.errors) == 2


def test_file_level_errors(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="見つかりません"):
        load_catalog_file(tmp_path / "missing.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("version: 1\nprocedures: [\n  - id: a\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="YAML の書き方に誤りがあります"):
        load_catalog_file(bad)
    nover = tmp_path / "nover.yml"
    nover.write_text("procedures: []\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="version"):
        load_catalog_file(nover)


def _exercise_sync(factory: sessionmaker[Session], tmp_path: Path) -> None:
    data = load_catalog_file(FIXTURE)
    with factory() as s:
        first = sync_catalog(s, data)
        s.commit()
    assert len(first.inserted) == len(data.procedures) and not first.updated
    with factory() as s:
        again = sync_catalog(s, data)
        s.commit()
    assert not again.changed and again.unchanged == len(data.procedures)  # idempotent

    # a new version edits one entry and drops another
    raw = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    raw["version"] = "fixture-2"
    raw["procedures"][0]["description"] = "変更した説明"
    dropped = raw["procedures"].pop()["id"]
    newer = tmp_path / "v2.yml"
    newer.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with factory() as s:
        res = sync_catalog(s, load_catalog_file(newer))
        s.commit()
    assert res.updated == [raw["procedures"][0]["id"]] and res.deleted == [dropped]
    # the old file must not roll the database back
    with factory() as s:
        old = sync_catalog(s, data)
        s.commit()
    assert old.skipped and "新しい" in old.skipped and not old.changed
    with factory() as s:
        records = {r.id: r for r in load_records(s)}
    assert records[raw["procedures"][0]["id"]].description == "変更した説明"
    assert all(r.catalog_version == "fixture-2" for r in records.values())
    # forced downgrade works
    with factory() as s:
        forced = sync_catalog(s, data, force=True)
        s.commit()
    assert forced.changed


def sqlite_engine(tmp_path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{tmp_path / 'cat.db'}")
    Procedure.metadata.create_all(engine, tables=[Procedure.__table__])
    return engine


def test_sync_sqlite(tmp_path: Path) -> None:
    _exercise_sync(sessionmaker(sqlite_engine(tmp_path)), tmp_path)


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    schema = f"t_catalog_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not available: {exc}")
    engine = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    Procedure.metadata.create_all(engine, tables=[Procedure.__table__])
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.services
def test_sync_postgresql(pg_engine: Engine, tmp_path: Path) -> None:
    _exercise_sync(sessionmaker(pg_engine), tmp_path)


def test_get_catalog_from_sql_fills_an_empty_table(tmp_path: Path) -> None:
    factory = sessionmaker(sqlite_engine(tmp_path))
    cat = get_catalog(factory, path=FIXTURE)
    assert cat.get("sodaigomi") is not None and cat.version == "fixture-1"
    with factory() as s:
        assert len(load_records(s)) == len(cat)
    assert get_catalog(None, path=FIXTURE).get("sodaigomi").name == cat.get("sodaigomi").name


def test_unverified_marks() -> None:
    cat = get_catalog(None, path=FIXTURE)
    jumin = cat.get("juminhyo")
    assert jumin.is_unverified("requirements.fee") and jumin.is_unverified("requirements.fee.amount_yen")
    assert not jumin.fee_is_fact()
    assert cat.get("shizei_shomei").fee_is_fact()
