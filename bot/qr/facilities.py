"""Facilities where posters hang. The seven ward offices are seeded by migration 0003 (from
shared/facts/wards.yml); staff add libraries, branch offices etc. with `kawasaki-bot facilities add`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from bot.qr.models import Facility
from bot.storage.db import Database

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
WARDS = ("川崎区", "幸区", "中原区", "高津区", "宮前区", "多摩区", "麻生区")
KINDS = ("ward_office", "branch_office", "library", "civic_center", "station", "other")

# Same data as migration 0003 (kept here for `facilities seed` on a database made with create_all).
WARD_OFFICES = [
    ("ward-kawasaki", "川崎区役所", "川崎区", "〒210-8570 川崎市川崎区東田町8"),
    ("ward-saiwai", "幸区役所", "幸区", "〒212-8570 川崎市幸区戸手本町1-11-1"),
    ("ward-nakahara", "中原区役所", "中原区", "〒211-8570 川崎市中原区小杉町3-245"),
    ("ward-takatsu", "高津区役所", "高津区", "〒213-8570 川崎市高津区下作延2-8-1"),
    ("ward-miyamae", "宮前区役所", "宮前区", "〒216-8570 川崎市宮前区宮前平2-20-5"),
    ("ward-tama", "多摩区役所", "多摩区", "〒214-8570 川崎市多摩区登戸1775-1"),
    ("ward-asao", "麻生区役所", "麻生区", "〒215-8570 川崎市麻生区万福寺1-5-1"),
]


class FacilityError(ValueError):
    """A problem staff can fix; the message is Japanese."""


@dataclass(frozen=True)
class FacilityInfo:
    code: str
    name: str
    ward: str | None
    kind: str
    address: str | None


def _info(f: Facility) -> FacilityInfo:
    return FacilityInfo(f.code, f.name, f.ward, f.kind, f.address)


def get(db: Database, code: str) -> FacilityInfo | None:
    with db.session() as s:
        f = s.get(Facility, code)
        return _info(f) if f else None


def list_all(db: Database) -> list[FacilityInfo]:
    with db.session() as s:
        return [_info(f) for f in s.scalars(select(Facility).order_by(Facility.kind.desc(), Facility.code))]


def add(db: Database, code: str, name: str, ward: str | None = None, kind: str = "other",
        address: str | None = None) -> FacilityInfo:
    code = code.strip().lower()
    if not CODE_RE.match(code):
        raise FacilityError(f"施設コード「{code}」は使えません。半角の小文字英数字と - で、2〜63文字にしてください（例 library-central）。")
    if not name.strip():
        raise FacilityError("施設の名前を入れてください。")
    if ward and ward not in WARDS:
        raise FacilityError(f"区「{ward}」は川崎市の区ではありません。{' / '.join(WARDS)} のどれかにしてください。")
    if kind not in KINDS:
        raise FacilityError(f"種類「{kind}」は使えません。{' / '.join(KINDS)} のどれかにしてください。")
    with db.session() as s:
        if s.get(Facility, code) is not None:
            raise FacilityError(f"施設コード「{code}」はもう登録されています。")
        f = Facility(code=code, name=name.strip(), ward=ward or None, kind=kind, address=address)
        s.add(f)
    return FacilityInfo(code, name.strip(), ward or None, kind, address)


def seed_ward_offices(db: Database) -> int:
    """Add the ward offices that are missing; returns how many were added."""
    added = 0
    with db.session() as s:
        for code, name, ward, address in WARD_OFFICES:
            if s.get(Facility, code) is None:
                s.add(Facility(code=code, name=name, ward=ward, kind="ward_office", address=address))
                added += 1
    return added
