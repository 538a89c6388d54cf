"""Scripts picked up without restart; a form in progress finishes on the version it started."""

from __future__ import annotations

import logging
import os
import shutil

import pytest
from forms_helpers import DIALOGS, NOW, Walker

from bot.forms import engine
from bot.forms.registry import InMemorySnapshotStore, ScriptRegistry


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def dialogs_dir(tmp_path):
    d = tmp_path / "dialogs"
    (d / "data").mkdir(parents=True)
    shutil.copy(DIALOGS / "sodaigomi.yml", d / "sodaigomi.yml")
    shutil.copy(DIALOGS / "photo_consent.yml", d / "photo_consent.yml")
    shutil.copy(DIALOGS / "data" / "sodaigomi_fees.yml", d / "data" / "sodaigomi_fees.yml")
    return d


def edit(path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # a new mtime even on coarse clocks


def test_edit_mid_conversation_keeps_the_started_version(dialogs_dir):
    clock = Clock()
    store = InMemorySnapshotStore()
    reg = ScriptRegistry(dialogs_dir, store, clock=clock)
    assert {s.id for s in reg.all()} == {"sodaigomi", "photo_consent"}
    v1 = reg.current("sodaigomi")
    w = Walker(v1)
    w.text("ソファ1つ")
    w.text("2100004")

    edit(dialogs_dir / "sodaigomi.yml", 'version: "2026.11.1"', 'version: "2026.12.1"')
    edit(dialogs_dir / "sodaigomi.yml", "番地・建物名・部屋番号を入力してください。", "番地と建物名を入力してください。")
    assert reg.current("sodaigomi").content_hash == v1.content_hash  # not checked again within a second
    clock.t += 1.5
    v2 = reg.current("sodaigomi")
    assert v2.version == "2026.12.1" and v2.content_hash != v1.content_hash

    # the resident goes on with the version in their state
    started = reg.get(w.state["script_id"], w.state["script_hash"])
    assert started is not None and started.version == "2026.11.1"
    assert "番地・建物名・部屋番号" in w.last_text
    w.script = started
    for t in ("1-2-3", "12月3日", "自宅の玄関前", "川崎 太郎", "044-200-3939", "なし", "送信"):
        w.text(t)
    (submit,) = w.submits()
    assert submit.script_version == "2026.11.1" and submit.script_hash == v1.content_hash
    with pytest.raises(engine.ScriptMismatchError):
        engine.step(v2, w.state, w.result and _incoming(), now=NOW)

    # a new resident starts on the new version
    w2 = Walker(reg.current("sodaigomi"))
    w2.text("ソファ1つ")
    w2.text("2100004")
    assert "番地と建物名を入力してください" in w2.last_text

    # another worker (fresh registry, same snapshot store) still finds the old version
    other = ScriptRegistry(dialogs_dir, store, clock=clock)
    assert other.current("sodaigomi").content_hash == v2.content_hash
    old = other.get("sodaigomi", v1.content_hash)
    assert old is not None and old.version == "2026.11.1" and old.table("data/sodaigomi_fees.yml")
    assert other.get("photo_consent", v1.content_hash) is None  # hash of another script
    assert ScriptRegistry(dialogs_dir, InMemorySnapshotStore()).get("sodaigomi", v1.content_hash) is None


def _incoming():
    from bot.conversation.incoming import Incoming

    return Incoming(kind="text", user_id="U", event_id="e", timestamp_ms=0, text="x")


def test_fee_table_edit_is_a_new_version(dialogs_dir):
    clock = Clock()
    reg = ScriptRegistry(dialogs_dir, clock=clock)
    v1 = reg.current("sodaigomi")
    edit(dialogs_dir / "data" / "sodaigomi_fees.yml", "fee_yen: 1000", "fee_yen: 1200")
    clock.t += 2
    v2 = reg.current("sodaigomi")
    assert v2.content_hash != v1.content_hash
    w = Walker(v2)
    w.text("ベッド")
    assert "1,200円" in w.all_text
    w_old = Walker(reg.get("sodaigomi", v1.content_hash))
    w_old.text("ベッド")
    assert "1,000円" in w_old.all_text


def test_invalid_edit_is_rejected_and_old_version_stays(dialogs_dir, caplog):
    clock = Clock()
    reg = ScriptRegistry(dialogs_dir, clock=clock)
    v1 = reg.current("photo_consent")
    edit(dialogs_dir / "photo_consent.yml", "type: multi_choice", "type: checkboxes")
    clock.t += 2
    with caplog.at_level(logging.ERROR, logger="bot.forms.registry"):
        assert reg.current("photo_consent").content_hash == v1.content_hash
    assert "rejected" in caplog.text and "checkboxes" in caplog.text
    rejected = reg.rejected[dialogs_dir / "photo_consent.yml"]
    assert any("checkboxes" in p.message for p in rejected.problems)
    edit(dialogs_dir / "photo_consent.yml", "type: checkboxes", "type: multi_choice")  # fixed again
    clock.t += 2
    assert reg.current("photo_consent") is not None and not reg.rejected


def test_new_and_removed_files(dialogs_dir):
    clock = Clock()
    reg = ScriptRegistry(dialogs_dir, clock=clock)
    shutil.copy(DIALOGS / "shobo_kunren_report.yml", dialogs_dir / "shobo_kunren_report.yml")
    (dialogs_dir / "photo_consent.yml").unlink()
    clock.t += 2
    assert reg.current("shobo_kunren_report") is not None
    assert reg.current("photo_consent") is None
    assert reg.by_id("sodaigomi") is not None
