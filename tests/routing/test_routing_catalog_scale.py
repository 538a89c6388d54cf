"""CSV import of the city's full list: errors, stable ids, 2,650 procedures, keyword reachability."""

from __future__ import annotations

import importlib.util
import random
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import sessionmaker

from bot.catalog.csv_import import import_csv, read_catalog_csv, stable_id
from bot.catalog.loader import load_catalog_file
from bot.catalog.models import Procedure
from bot.catalog.schema import CatalogError
from bot.catalog.service import catalog_from_session
from bot.catalog.sync import sync_catalog
from bot.nlu.result import IntentScore, NluResult
from bot.routing.router import route

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "nlu" / "fixtures" / "procedures.yml"
HEADER = "手続名,カテゴリ,対象,申請方法,URL,キーワード\n"


def load_gen():
    spec = importlib.util.spec_from_file_location("kawasaki_gen_catalog", REPO / "bench" / "gen_catalog.py")
    mod = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return load_gen().write_csv(tmp_path_factory.mktemp("gen") / "catalog_2650.csv")


@pytest.fixture(scope="module")
def big_catalog(big_csv: Path, tmp_path_factory: pytest.TempPathFactory):
    engine = create_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'cat.db'}")
    Procedure.metadata.create_all(engine, tables=[Procedure.__table__])
    factory = sessionmaker(engine)
    with factory() as s:
        sync_catalog(s, load_catalog_file(FIXTURE))
        res = import_csv(s, big_csv)
        s.commit()
    assert len(res.inserted) == 2650
    with factory() as s:
        again = import_csv(s, big_csv)
        s.commit()
        assert not again.changed  # idempotent
        assert s.scalar(select(func.count()).select_from(Procedure)) == 2650 + len(load_catalog_file(FIXTURE).procedures)
        return catalog_from_session(s)


def test_generator_is_deterministic(tmp_path: Path) -> None:
    gen = load_gen()
    a, b = gen.generate(), gen.generate()
    assert a == b and len(a) == 2650 and len({r["手続名"] for r in a}) == 2650


def test_ids_are_stable_across_imports(big_csv: Path) -> None:
    first = [r.id for r in read_catalog_csv(big_csv)]
    assert first == [r.id for r in read_catalog_csv(big_csv)]
    assert len(set(first)) == len(first)
    assert stable_id("犬の登録申請") == stable_id("犬の登録申請")


def test_exact_names_rank_first(big_catalog) -> None:
    rng = random.Random(7)
    sample = rng.sample([p for p in big_catalog.procedures if p.origin == "import"], 200)
    misses = [p.name for p in sample if big_catalog.search(p.name, 1)[0].procedure.id != p.id]
    assert not misses


def paraphrase(name: str) -> str:
    """A resident's wording of an official name: casual verbs, no bracketed details."""
    text = name.split("（")[0].split("【")[0]
    for a, b in (("申請", "を申し込みたい"), ("届出", "を届け出たい"), ("申込", "を申し込みたい"),
                 ("の", " "), ("請求", "を請求したい"), ("届", "を出したい")):
        if a in text:
            text = text.replace(a, b, 1)
            break
    else:
        text += "について知りたい"
    return text


def test_keyword_reachability_at_scale(big_catalog) -> None:
    rng = random.Random(11)
    sample = rng.sample([p for p in big_catalog.procedures if p.origin == "import"], 300)
    none = IntentScore("out_of_scope", 0.0)
    nlu = NluResult(text="", intent=none, ranking=(none,), backend="none")
    hits = 0
    misses = []
    for p in sample:
        text = paraphrase(p.name)
        dec = route(nlu, big_catalog, text)
        if dec.kind != "none" and p.id in [c.id for c in dec.candidates]:
            hits += 1
        else:
            misses.append((text, p.name))
    assert hits / len(sample) >= 0.95, misses[:10]


def test_search_is_fast_at_scale(big_catalog) -> None:
    texts = [paraphrase(p.name) for p in big_catalog.procedures[:300]]
    big_catalog.search(texts[0])
    t0 = time.perf_counter()
    for t in texts:
        big_catalog.search(t)
    assert (time.perf_counter() - t0) / len(texts) < 0.02  # loose bound; bench reports the real figure


def test_curated_entries_win_over_import(tmp_path: Path) -> None:
    csv_path = tmp_path / "list.csv"
    csv_path.write_text(HEADER + "粗大ごみ収集申込手続,暮らし,個人,e-KAWASAKI,https://example.jp,粗大ごみ\n"
                        "犬の登録申請,医療・福祉・保健,個人,窓口,,犬、いぬ\n", encoding="utf-8")
    engine = create_engine(f"sqlite:///{tmp_path / 'c.db'}")
    Procedure.metadata.create_all(engine, tables=[Procedure.__table__])
    with sessionmaker(engine)() as s:
        sync_catalog(s, load_catalog_file(FIXTURE))
        res = import_csv(s, csv_path)
        s.commit()
        assert len(res.inserted) == 1
        cat = catalog_from_session(s)
    assert cat.by_name("粗大ごみ収集申込手続").channel == "chat"  # the curated entry
    dog = cat.by_name("犬の登録申請")
    assert dog.channel == "counter" and dog.origin == "import" and dog.keywords == ["犬", "いぬ"]


def test_cp932_csv_from_excel(tmp_path: Path) -> None:
    path = tmp_path / "sjis.csv"
    path.write_bytes((HEADER + "犬の登録申請※,医療・福祉・保健,個人・事業者,ぴったりサービス,,犬\n").encode("cp932"))
    (rec,) = read_catalog_csv(path)
    assert rec.name == "犬の登録申請" and rec.online_now and rec.channel == "pittari"
    assert rec.audience == ["個人", "事業者"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("手続名,カテゴリ,対象,URL\n", "列「申請方法」がありません"),
        (HEADER + "犬の登録申請,福祉,個人,FAX,,犬\n", "2行目（犬の登録申請）: 申請方法「FAX」が分かりません"),
        (HEADER + ",福祉,個人,窓口,,犬\n", "2行目: 手続名が空です"),
        (HEADER + "犬の登録申請,福祉,市民,窓口,,犬\n", "対象「市民」は 個人 / 事業者 / 個人・事業者 で書いてください"),
        (HEADER + "A,福祉,個人,窓口,,x\nA,福祉,個人,窓口,,y\n", "3行目（A）: 同じ手続名・カテゴリの行が 2行目にもあります"),
        ("", "CSV が空です"),
    ],
)
def test_csv_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CatalogError) as exc:
        read_catalog_csv(path)
    assert message in str(exc.value)


def test_same_name_in_two_categories_gets_two_ids(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text(HEADER + "補助金交付申請,地域での活動,事業者,e-KAWASAKI,,補助金\n"
                    "補助金交付申請,産業・経済,事業者,e-KAWASAKI,,補助金\n", encoding="utf-8")
    a, b = read_catalog_csv(path)
    assert a.id != b.id
