"""Consistency of the procedure catalog (bot/catalog/procedures.yml) and the NLU training data
(nlu_data/nlu/*.yml) with each other and with the city's seed documents.

The seed documents live outside the repository (shared/seeds next to the repo, or $KAWASAKI_SEEDS_DIR);
tests that need them are skipped when they are absent. nlu_data/heldout/ is never read here.
"""

from __future__ import annotations

import os
import re
import statistics
import unicodedata
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CATALOG = REPO / "bot" / "catalog" / "procedures.yml"
NLU_DIR = REPO / "nlu_data" / "nlu"
SEEDS = Path(os.environ.get("KAWASAKI_SEEDS_DIR") or REPO.parent / "shared" / "seeds")
SEED_000 = SEEDS / "000_682235d05fdc8903.txt"
SEED_002 = SEEDS / "002_303d41ab9306c007.txt"

CHANNELS = {"chat", "ekawasaki", "pittari", "logoform", "external", "counter"}
AUDIENCES = {"個人", "事業者"}
SOURCES = {"seed 000", "seed 000 portal", "seed 002", "facts"}
CONFIDENCES = {"high", "medium", "low", "UNVERIFIED"}
DIALOGUE_ACTS = {"greet", "goodbye", "thanks", "affirm", "deny", "cancel", "help", "ask_human", "restart"}
ENTITIES = {"sodai_item", "ward", "place_kind"}
EKAWASAKI_CANDIDATE = "https://lgpos.task-asp.net/cu/141305/ea/residents/portal/home"  # UNVERIFIED in facts
# The brief fixes which procedures the bot fills in chat.
CHAT_IDS = {"sodaigomi", "photo_consent", "shobo_kunren_report", "shigen_shudan_kaishu", "doro_koen_kasen_report"}
FACTS_NAMES = {"転入届", "印鑑登録", "道路・公園・河川の損傷通報"}
PLACEHOLDER_MARKS = ("〇〇", "テスト")

ENTITY_RE = re.compile(r"\[([^\]]+)\]\(([^)]*)\)")


# ------------------------------------------------------------------ helpers


def load_catalog() -> dict:
    with CATALOG.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def procedures() -> list[dict]:
    return load_catalog()["procedures"]


def nlu_docs() -> dict[Path, dict]:
    files = sorted(p for p in NLU_DIR.glob("*.yml"))
    docs = {}
    for f in files:
        with f.open(encoding="utf-8") as fh:
            docs[f] = yaml.safe_load(fh)
    return docs


def block_examples(block: dict) -> list[str]:
    raw = block.get("examples") or ""
    out = []
    for line in raw.splitlines():
        line = line.strip()
        if not line:
            continue
        assert line.startswith("- "), f"example line must start with '- ': {line!r}"
        out.append(line[2:].strip())
    return out


def plain(text: str) -> str:
    return ENTITY_RE.sub(r"\1", text)


def norm(text: str) -> str:
    """What a classifier sees as the same text: NFKC, case-folded, no spaces, no end punctuation."""
    t = unicodedata.normalize("NFKC", plain(text)).casefold()
    t = re.sub(r"\s+", "", t)
    return t.rstrip("。.!！?？、,") or t


def intents() -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for doc in nlu_docs().values():
        for block in doc.get("nlu") or []:
            if "intent" in block:
                out[block["intent"]].extend(block_examples(block))
    return dict(out)


def seed_text(path: Path) -> str:
    if not path.exists():
        pytest.skip(f"seed document not available: {path}")
    return path.read_text(encoding="utf-8")


def seed_000_list() -> dict[str, tuple[str, bool]]:
    """name -> (category heading, online ※) for the "most used procedures" list of seed 000."""
    lines = seed_text(SEED_000).splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.strip() == "住民基本台帳・戸籍")
    end = next(i for i, ln in enumerate(lines) if ln.startswith("(注)") and i > start)
    found: dict[str, tuple[str, bool]] = {}
    category = ""
    for ln in lines[start:end]:
        ln = ln.strip()
        if not ln or ln.startswith("手続名の最後に"):
            continue
        if ln.startswith("- "):
            name = ln[2:].strip()
            if name.endswith(" 等"):
                name = name[: -len(" 等")].strip()
            online = name.endswith("※")
            found[name.rstrip("※").strip()] = (category, online)
        else:
            category = ln
    return found


def seed_000_portal() -> list[str]:
    """Entries of the e-KAWASAKI procedure-list screenshot in seed 000."""
    lines = seed_text(SEED_000).splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("該当件数 829"))
    end = next(i for i, ln in enumerate(lines) if ln.startswith("③②で検索") and i > start)
    entries = []
    for ln in lines[start + 1 : end]:
        for part in ln.split(" >"):
            part = part.strip()
            if not part or part.startswith("該当件数") or "条件をリセット" in part:
                continue
            if part.endswith(" フォルダ"):  # folder icon label, not part of the name
                part = part[: -len(" フォルダ")]
            entries.append(part)
    return entries


# ------------------------------------------------------------------ catalog


def test_catalog_header() -> None:
    doc = load_catalog()
    assert doc["version"] == "2026.11.1"
    assert doc["schema"] == 1
    assert isinstance(doc["procedures"], list) and doc["procedures"]


def test_catalog_ids_names_and_enums() -> None:
    ids, names = set(), set()
    for p in procedures():
        pid = p["id"]
        assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", pid), pid
        assert pid not in ids, f"duplicate id {pid}"
        ids.add(pid)
        assert p["name"] not in names, f"duplicate name {p['name']}"
        names.add(p["name"])
        assert "※" not in p["name"] and not p["name"].endswith("等"), p["name"]
        assert p["channel"] in CHANNELS, (pid, p["channel"])
        assert p["audience"] and set(p["audience"]) <= AUDIENCES, pid
        assert p["source"] in SOURCES, pid
        assert isinstance(p["online_now"], bool), pid
        assert isinstance(p["category"], str) and p["category"], pid
        assert isinstance(p["description"], str) and 5 < len(p["description"]) < 120, pid
        assert isinstance(p["eta"], str) and p["eta"], pid
        assert p["keywords"] and all(isinstance(k, str) and k for k in p["keywords"]), pid
        assert p["sources"], pid


def test_catalog_requirements_apply_contact() -> None:
    for p in procedures():
        pid = p["id"]
        req = p["requirements"]
        for key in ("mynumber_card", "pin_needed", "payment"):
            assert isinstance(req[key], bool), (pid, key)
        assert isinstance(req["documents"], list), pid
        if req["pin_needed"]:
            assert req["mynumber_card"], f"{pid}: PIN without a My Number card"
        fee = req["fee"]
        if fee is not None:
            assert set(fee) == {"amount_yen", "unit", "note", "confidence"}, pid
            assert fee["amount_yen"] is None or (isinstance(fee["amount_yen"], int) and fee["amount_yen"] >= 0)
            assert fee["confidence"] in CONFIDENCES, pid
            if fee["confidence"] == "UNVERIFIED":
                assert "UNVERIFIED" in str(fee["note"]), f"{pid}: keep the UNVERIFIED mark in the fee note"
            if fee["amount_yen"]:
                assert req["payment"], f"{pid}: a fee but payment is false"
        ap = p["apply"]
        assert {"system", "url", "url_verified", "counter", "hours"} <= set(ap), pid
        assert isinstance(ap["url_verified"], bool), pid
        if ap["url"] is None:
            assert p["channel"] in {"chat", "pittari", "counter"} and not ap["url_verified"], pid
        else:
            assert ap["url"].startswith(("http://", "https://")), pid
        if ap["url"] == EKAWASAKI_CANDIDATE:
            assert ap["url_verified"] is False, f"{pid}: the e-KAWASAKI portal URL is UNVERIFIED in facts"
            assert "apply.url" in p["unverified"], pid
        if p["channel"] == "pittari":
            assert ap["url"].startswith("https://myna.go.jp") and not ap["url_verified"], pid
        if p["channel"] in {"ekawasaki", "logoform"}:
            assert ap["url"] == EKAWASAKI_CANDIDATE, pid
        contact = p["contact"]
        assert {"section", "phone", "ward_based"} <= set(contact), pid
        if contact["phone"] is not None:
            assert re.fullmatch(r"0\d{1,4}-\d{1,4}-\d{4}", contact["phone"]), (pid, contact["phone"])


def _resolve(obj: dict, path: str) -> bool:
    cur: object = obj
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return False
        cur = cur[part]
    return True


def test_unverified_paths_exist() -> None:
    for p in procedures():
        assert isinstance(p["unverified"], list), p["id"]
        for path in p["unverified"]:
            assert _resolve(p, path), f"{p['id']}: unverified path {path!r} names no field"


def test_channel_rules_from_the_brief() -> None:
    by_id = {p["id"]: p for p in procedures()}
    assert {pid for pid, p in by_id.items() if p["channel"] == "chat"} == CHAT_IDS
    by_name = {p["name"]: p for p in procedures()}
    assert by_name["印鑑登録"]["channel"] == "counter"
    assert by_name["転入届"]["channel"] == "counter"
    assert by_name["転出届"]["channel"] == "pittari"
    assert by_name["図書館予約申込"]["channel"] == "external"
    assert by_name["公共施設の予約"]["channel"] == "external"
    for p in procedures():
        if p["category"] in {"子育て・教育", "介護"} and p["channel"] == "pittari":
            assert p["requirements"]["mynumber_card"], p["id"]
    onestop = [p for p in procedures() if p["source"] == "seed 002"]
    assert len(onestop) == 1 and onestop[0]["channel"] == "pittari"


def test_facts_procedures_present() -> None:
    facts = {p["name"] for p in procedures() if p["source"] == "facts"}
    assert facts == FACTS_NAMES


# ------------------------------------------------------------------ catalog vs seed documents


def test_seed_names_are_exact() -> None:
    seed0 = seed_text(SEED_000).replace("※", "")
    seed2 = seed_text(SEED_002).replace("※", "")
    for p in procedures():
        if p["source"] in {"seed 000", "seed 000 portal"}:
            assert p["name"] in seed0, f"{p['id']}: {p['name']!r} is not written so in seed 000"
        elif p["source"] == "seed 002":
            assert p["name"] in seed2, f"{p['id']}: {p['name']!r} is not written so in seed 002"


def test_every_seed_list_procedure_is_in_the_catalog() -> None:
    listed = seed_000_list()
    assert len(listed) >= 40  # the parser found the list
    by_name = {p["name"]: p for p in procedures()}
    for name, (category, online) in listed.items():
        assert name in by_name, f"seed 000 procedure missing from the catalog: {name}"
        p = by_name[name]
        assert p["source"] == "seed 000", name
        assert p["category"] == category, (name, p["category"], category)
        assert p["online_now"] is online, f"{name}: online_now must follow the ※ mark ({online})"
    extra = {p["name"] for p in procedures() if p["source"] == "seed 000"} - set(listed)
    assert not extra, f"source 'seed 000' but not in the seed list: {extra}"


def test_every_real_portal_procedure_is_in_the_catalog() -> None:
    entries = seed_000_portal()
    real = [e for e in entries if not any(mark in e for mark in PLACEHOLDER_MARKS)]
    assert len(real) >= 8 and len(entries) > len(real)
    portal = {p["name"] for p in procedures() if p["source"] == "seed 000 portal"}
    assert portal == set(real)
    names = {p["name"] for p in procedures()}
    for placeholder in (e for e in entries if e not in real):
        assert placeholder not in names, f"placeholder in the catalog: {placeholder}"


# ------------------------------------------------------------------ NLU data


def test_nlu_files_are_rasa_3_yaml() -> None:
    docs = nlu_docs()
    assert docs
    for f, doc in docs.items():
        assert isinstance(doc, dict) and doc.get("version") == "3.1", f.name
        assert set(doc) <= {"version", "nlu"}, f.name
        for block in doc["nlu"]:
            kinds = {"intent", "synonym", "lookup", "regex"} & set(block)
            assert len(kinds) == 1 and set(block) == kinds | {"examples"}, (f.name, block)
            assert isinstance(block["examples"], str), (f.name, block)
            assert block_examples(block), (f.name, block)
            if "intent" in block:
                assert "/" not in block["intent"]


def test_entity_annotations_are_simple_and_valid() -> None:
    for intent, examples in intents().items():
        for ex in examples:
            for value, entity in ENTITY_RE.findall(ex):
                assert entity in ENTITIES, (intent, ex)
                assert value.strip() == value and value, (intent, ex)
            rest = ENTITY_RE.sub("", ex)
            assert "](" not in rest and "[" not in rest and "]" not in rest, (intent, ex)


def test_every_intent_matches_the_catalog() -> None:
    ids = {p["id"] for p in procedures()}
    names = set(intents())
    proc_intents = {n for n in names if n.startswith("proc_")}
    assert {n[len("proc_") :] for n in proc_intents} == ids
    assert names - proc_intents == DIALOGUE_ACTS | {"out_of_scope"}


def test_example_counts() -> None:
    counts = {name: len({norm(e) for e in exs}) for name, exs in intents().items()}
    for name, n in counts.items():
        if name.startswith("proc_"):
            assert n >= 15, f"{name}: only {n} unique examples"
        elif name in DIALOGUE_ACTS:
            assert n >= 20, f"{name}: only {n} unique examples"
    assert counts["out_of_scope"] >= 150
    proc_counts = [n for name, n in counts.items() if name.startswith("proc_")]
    assert statistics.median(proc_counts) >= 17


def test_no_example_under_two_intents() -> None:
    owner: dict[str, str] = {}
    clashes = []
    for name, exs in intents().items():
        for ex in exs:
            key = norm(ex)
            if key in owner and owner[key] != name:
                clashes.append((ex, owner[key], name))
            owner.setdefault(key, name)
    assert not clashes, clashes


def test_synonyms_and_lookups() -> None:
    targets: dict[str, str] = {}
    lookups: dict[str, list[str]] = {}
    for doc in nlu_docs().values():
        for block in doc["nlu"]:
            if "synonym" in block:
                for ex in block_examples(block):
                    assert ex not in targets or targets[ex] == block["synonym"], ex
                    assert ex != block["synonym"], ex
                    targets[ex] = block["synonym"]
            if "lookup" in block:
                lookups.setdefault(block["lookup"], []).extend(block_examples(block))
    for name, items in lookups.items():
        assert len(items) == len(set(items)), f"duplicates in lookup {name}"
    assert set(lookups["ward"]) == {"川崎区", "幸区", "中原区", "高津区", "宮前区", "多摩区", "麻生区"}
    # Each synonym's canonical value of a ward / place_kind is in its lookup table.
    for variant, canonical in targets.items():
        if canonical.endswith("区"):
            assert canonical in lookups["ward"], variant
    assert not set(lookups["sodai_item"]) & set(lookups["not_sodai_item"])


def test_catalog_keywords_do_not_name_another_procedure() -> None:
    """A keyword equal to another procedure's official name would send residents to the wrong one."""
    names = {p["name"]: p["id"] for p in procedures()}
    for p in procedures():
        for kw in p["keywords"]:
            assert names.get(kw, p["id"]) == p["id"], (p["id"], kw)


def test_catalog_loads_with_the_project_loader() -> None:
    from bot.catalog.loader import load_catalog_file

    data = load_catalog_file(CATALOG)
    assert data.version == "2026.11.1"
    assert [r.id for r in data.procedures] == [p["id"] for p in procedures()]
