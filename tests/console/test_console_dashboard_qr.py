"""The dashboard counts QR scans per facility from the events the QR start codes record."""

from __future__ import annotations

import uuid

from bot.admin.dashboard_data import collect
from bot.storage.db import Database
from bot.storage.models import AnalyticsEvent


def test_qr_scans_per_facility_use_the_recorded_event_shape(pg_database) -> None:
    db = Database(pg_database)
    tag = uuid.uuid4().hex[:8]
    with db.session() as s:
        # The shape bot/procedure_skill.py records when a poster's start code arrives.
        s.add_all([AnalyticsEvent(name="qr_scanned", procedure_id="sodaigomi", event_id=f"{tag}-{i}",
                                  props={"facility": "ward-kawasaki", "code": "#QR-TEST"}) for i in range(3)])
        s.add(AnalyticsEvent(name="qr_scanned", procedure_id="sodaigomi", event_id=f"{tag}-x",
                             props={"facility": "ward-tama", "code": "#QR-TEST2"}))
    numbers = dict(collect(db, days=1).qr_by_facility)
    assert numbers.get("川崎区役所", 0) >= 3 and numbers.get("多摩区役所", 0) >= 1
    db.dispose()
