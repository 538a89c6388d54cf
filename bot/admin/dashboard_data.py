"""The city's numbers for the dashboard, read from analytics_events and the hand-off / QR tables.

Messages per day counts distinct webhook events with analytics rows: every resident message records a
`message_received` event (its kind, never its text), so this is the number of messages.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from bot.storage.db import Database
from bot.storage.models import AnalyticsEvent, utcnow

JST = ZoneInfo("Asia/Tokyo")
FORM_EVENTS = ("form_started", "question_answered", "form_completed", "form_cancelled")
MAX_FORM_ROWS = 100_000
ABANDONED_AFTER = timedelta(minutes=30)


@dataclass
class FormFunnel:
    procedure_id: str
    started: int = 0
    completed: int = 0
    cancelled: int = 0
    abandoned: int = 0
    in_progress: int = 0
    answered: Counter = field(default_factory=Counter)  # slot id → instances that answered it
    stopped_at: Counter = field(default_factory=Counter)  # slot id → cancelled / abandoned right after it


@dataclass
class Numbers:
    days: list[tuple[str, int]]
    procedures_found: list[tuple[str, int]]
    forms: dict[str, FormFunnel]
    handoffs: list[tuple[str, int]]
    handoffs_shown: int
    qr_by_facility: list[tuple[str, int]]
    no_procedure: int


def _day_expr(db: Database, column):
    if db.engine.dialect.name == "postgresql":
        return func.to_char(func.timezone("Asia/Tokyo", column), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", column, "+9 hours")


def collect(db: Database, *, days: int = 14, today: date | None = None, names=None) -> Numbers:
    today = today or datetime.now(JST).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, time(), JST).astimezone(UTC)
    name_of = names or (lambda pid: pid)
    with db.session() as s:
        day = _day_expr(db, AnalyticsEvent.created_at)
        per_day = dict(s.execute(
            select(day, func.count(func.distinct(AnalyticsEvent.event_id)))
            .where(AnalyticsEvent.created_at >= since).group_by(day)).all())
        found = s.execute(
            select(AnalyticsEvent.procedure_id, func.count())
            .where(AnalyticsEvent.created_at >= since, AnalyticsEvent.name.in_(("procedure_found", "procedure_picked")),
                   AnalyticsEvent.procedure_id.is_not(None))
            .group_by(AnalyticsEvent.procedure_id).order_by(func.count().desc()).limit(10)).all()
        no_proc = s.scalar(select(func.count()).where(AnalyticsEvent.created_at >= since,
                                                      AnalyticsEvent.name == "no_procedure")) or 0
        shown = s.scalar(select(func.count()).where(AnalyticsEvent.created_at >= since,
                                                    AnalyticsEvent.name == "handoff_shown")) or 0
        form_rows = s.execute(
            select(AnalyticsEvent.name, AnalyticsEvent.procedure_id, AnalyticsEvent.props, AnalyticsEvent.created_at)
            .where(AnalyticsEvent.created_at >= since, AnalyticsEvent.name.in_(FORM_EVENTS))
            .order_by(AnalyticsEvent.id).limit(MAX_FORM_ROWS)).all()
        qr_events = s.execute(
            select(AnalyticsEvent.props).where(AnalyticsEvent.created_at >= since,
                                               AnalyticsEvent.name.like("qr%"))).scalars().all()
    series = []
    for i in range(days):
        d = (first + timedelta(days=i)).isoformat()
        series.append((d, int(per_day.get(d, 0))))
    handoffs, qr = _handoffs_and_qr(db, since, qr_events, name_of)
    return Numbers(days=series, procedures_found=[(name_of(p), int(c)) for p, c in found],
                   forms=_funnels(form_rows), handoffs=handoffs, handoffs_shown=int(shown), qr_by_facility=qr,
                   no_procedure=int(no_proc))


def _funnels(rows) -> dict[str, FormFunnel]:
    instances: dict[str, dict] = defaultdict(lambda: {"answered": [], "end": None, "at": None, "last": None})
    procedure: dict[str, str] = {}
    for name, pid, props, created in rows:
        props = props or {}
        iid = str(props.get("instance_id") or "")
        if not iid:
            continue
        inst = instances[iid]
        procedure.setdefault(iid, pid or str(props.get("procedure_id") or ""))
        inst["last"] = created
        if name == "form_started":
            inst["started"] = True
        elif name == "question_answered" and props.get("slot"):
            inst["answered"].append(str(props["slot"]))
        elif name == "form_completed":
            inst["end"] = "completed"
        elif name == "form_cancelled":
            inst["end"] = "cancelled"
            inst["at"] = props.get("slot")
    now = utcnow()
    out: dict[str, FormFunnel] = {}
    for iid, inst in instances.items():
        if not inst.get("started"):
            continue  # started before the period: its funnel would be partial
        pid = procedure[iid]
        f = out.setdefault(pid, FormFunnel(pid))
        f.started += 1
        for slot in dict.fromkeys(inst["answered"]):
            f.answered[slot] += 1
        last = inst["last"]
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        if inst["end"] == "completed":
            f.completed += 1
        elif inst["end"] == "cancelled":
            f.cancelled += 1
            f.stopped_at[str(inst["at"] or (inst["answered"][-1] if inst["answered"] else "（最初）"))] += 1
        elif last is not None and now - last > ABANDONED_AFTER:
            f.abandoned += 1
            f.stopped_at[inst["answered"][-1] if inst["answered"] else "（最初の質問の前）"] += 1
        else:
            f.in_progress += 1
    return out


def _handoffs_and_qr(db: Database, since: datetime, qr_events, name_of) -> tuple[list, list]:
    """Hand-off clicks and QR scans come from issue 5's tables when they exist."""
    handoffs: list[tuple[str, int]] = []
    qr: Counter = Counter()
    for props in qr_events:
        code = (props or {}).get("facility_code") or (props or {}).get("facility")
        if code:
            qr[str(code)] += 1
    facility_names: dict[str, str] = {}
    try:
        from bot.handoff.models import HandoffClick
        from bot.qr.models import Facility

        with db.session() as s:
            handoffs = [(name_of(p), int(c)) for p, c in s.execute(
                select(HandoffClick.procedure_id, func.count()).where(HandoffClick.clicked_at >= since)
                .group_by(HandoffClick.procedure_id).order_by(func.count().desc()).limit(10)).all()]
            facility_names = dict(s.execute(select(Facility.code, Facility.name)).all())
    except (ImportError, SQLAlchemyError):
        pass
    scans = [(facility_names.get(code, code), n) for code, n in qr.most_common()]
    return handoffs, scans
