"""The city's numbers from `analytics_events` (definitions in docs/report.md).

Events may be recorded twice when a worker re-runs a turn after a crash (the effects ran, the
commit did not); such copies share their webhook event id, so every count here is of distinct
(event name, event id, procedure, form instance, question) — a re-run never inflates a number.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.catalog.models import Procedure
from bot.qr.models import Facility, StartCode
from bot.storage.db import Database
from bot.storage.models import AnalyticsEvent

JST = ZoneInfo("Asia/Tokyo")
EVENTS = ("procedure_found", "procedure_picked", "qr_scanned", "handoff_shown", "handoff_clicked",
          "counter_guidance", "form_started", "question_answered", "form_completed", "form_cancelled")
BEFORE_FIRST = "(最初の質問の前)"
COLUMNS = ("found", "qr", "shown", "clicked", "counter", "started", "completed", "abandoned")


@dataclass
class _Row:
    name: str
    procedure_id: str | None
    event_id: str | None
    props: dict
    at: datetime
    id: int


@dataclass
class _Form:
    procedure_id: str | None
    script_id: str
    started: datetime | None = None
    last: datetime | None = None
    last_slot: str | None = None
    last_slot_at: tuple = ()
    completed: bool = False
    cancelled: bool = False
    events: list = field(default_factory=list)


def _aware(dt: datetime) -> datetime:
    """SQLite hands back naive datetimes; the application stores UTC."""
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _rows(db: Database, since: datetime | None, until: datetime | None) -> list[_Row]:
    q = select(AnalyticsEvent.name, AnalyticsEvent.procedure_id, AnalyticsEvent.event_id, AnalyticsEvent.props,
               AnalyticsEvent.created_at, AnalyticsEvent.id).where(AnalyticsEvent.name.in_(EVENTS))
    if since is not None:
        q = q.where(AnalyticsEvent.created_at >= since)
    if until is not None:
        q = q.where(AnalyticsEvent.created_at < until)
    seen: set = set()
    out: list[_Row] = []
    with db.session() as s:
        for name, pid, eid, props, at, rid in s.execute(q.order_by(AnalyticsEvent.created_at, AnalyticsEvent.id)):
            props = props if isinstance(props, dict) else {}
            key = (name, eid, pid, props.get("instance_id"), props.get("slot")) if eid else ("row", rid)
            if key in seen:
                continue
            seen.add(key)
            out.append(_Row(name, pid, eid, props, _aware(at), rid))
    return out


def build_report(db: Database, *, since: datetime | None = None, until: datetime | None = None,
                 now: datetime | None = None, stale_after: timedelta = timedelta(hours=24)) -> dict[str, Any]:
    now = now or datetime.now(JST)
    rows = _rows(db, since, until)
    with db.session() as s:
        procs = {pid: (name, channel) for pid, name, channel in s.execute(
            select(Procedure.id, Procedure.name, Procedure.channel))}
        facilities = {code: (name, ward) for code, name, ward in s.execute(
            select(Facility.code, Facility.name, Facility.ward))}
        posters = dict(s.execute(select(StartCode.facility_code, func.count()).group_by(StartCode.facility_code)).all())

    per: dict[str, Counter] = defaultdict(Counter)
    clicked_tokens: dict[str, set] = defaultdict(set)
    raw_clicks: Counter = Counter()
    fac_scans: Counter = Counter()
    fac_clicks: Counter = Counter()
    forms: dict[str, _Form] = {}
    for r in rows:
        pid = r.procedure_id or "(不明)"
        if r.name in ("procedure_found", "procedure_picked"):
            per[pid]["found"] += 1
        elif r.name == "qr_scanned":
            per[pid]["qr"] += 1
            fac_scans[str(r.props.get("facility") or "(不明)")] += 1
        elif r.name == "handoff_shown":
            per[pid]["shown"] += 1
        elif r.name == "handoff_clicked":
            raw_clicks[pid] += 1
            token = r.props.get("token") or f"row{r.id}"
            if token not in clicked_tokens[pid]:
                clicked_tokens[pid].add(token)
                per[pid]["clicked"] += 1
                if r.props.get("facility"):
                    fac_clicks[str(r.props["facility"])] += 1
        elif r.name == "counter_guidance":
            per[pid]["counter"] += 1
        else:  # form events
            iid = r.props.get("instance_id")
            if not iid:
                continue
            form = forms.setdefault(iid, _Form(r.procedure_id, str(r.props.get("script_id") or "")))
            form.last = r.at
            if r.name == "form_started":
                form.started = r.at
            elif r.name == "question_answered":
                form.last_slot = str(r.props.get("slot") or "")
            elif r.name == "form_completed":
                form.completed = True
            elif r.name == "form_cancelled":
                form.cancelled = True

    dropoff: dict[tuple[str, str], int] = Counter()
    in_progress = 0
    for form in forms.values():
        if form.started is None:
            continue  # started before the period: its outcome belongs to the earlier report
        pid = form.procedure_id or "(不明)"
        per[pid]["started"] += 1
        if form.completed:
            per[pid]["completed"] += 1
        elif form.cancelled or (form.last is not None and now - form.last > stale_after):
            per[pid]["abandoned"] += 1
            dropoff[(form.script_id, form.last_slot or BEFORE_FIRST)] += 1
        else:
            in_progress += 1

    procedures = []
    by_channel: dict[str, Counter] = defaultdict(Counter)
    for pid in sorted(per, key=lambda p: (-sum(per[p].values()), p)):
        name, channel = procs.get(pid, (pid, "(不明)"))
        counts = {c: per[pid][c] for c in COLUMNS}
        procedures.append({"id": pid, "name": name, "channel": channel, **counts, "clicks": raw_clicks[pid]})
        by_channel[channel].update(counts)
    channels = [{"channel": ch, **{c: cnt[c] for c in COLUMNS}} for ch, cnt in sorted(by_channel.items())]
    fac_codes = sorted(set(fac_scans) | set(fac_clicks) | set(posters))
    facility_rows = [{"code": code, "name": facilities.get(code, (code, None))[0],
                      "ward": facilities.get(code, (None, None))[1], "posters": posters.get(code, 0),
                      "scans": fac_scans[code], "clicks": fac_clicks[code]} for code in fac_codes]
    facility_rows.sort(key=lambda f: (-f["scans"], f["code"]))
    drop_rows = [{"script_id": sid, "last_answered": slot, "abandoned": n}
                 for (sid, slot), n in sorted(dropoff.items(), key=lambda kv: (-kv[1], kv[0]))]

    completed = sum(p["completed"] for p in procedures)
    clicked = sum(p["clicked"] for p in procedures)
    counter = sum(p["counter"] for p in procedures)
    total = completed + clicked + counter
    return {
        "period": {"since": since.isoformat() if since else None, "until": until.isoformat() if until else None,
                   "generated_at": now.isoformat()},
        "procedures": procedures,
        "channels": channels,
        "facilities": facility_rows,
        "dropoff": drop_rows,
        "forms_in_progress": in_progress,
        "online_share": {
            "completed_in_chat": completed,
            "handoff_clicked": clicked,
            "counter_guidance": counter,
            "share": round((completed + clicked) / total, 4) if total else None,
            "definition": "(チャットで申し込み完了 + 申請ページへのリンクを開いた件数) ÷ "
                          "(それら + 窓口案内を表示した件数)",
        },
    }


_HEAD = {"found": "案内", "qr": "QR", "shown": "申請案内", "clicked": "リンク", "counter": "窓口案内",
         "started": "開始", "completed": "完了", "abandoned": "中断"}
_CHANNEL_JA = {"chat": "チャット", "ekawasaki": "e-KAWASAKI", "pittari": "ぴったりサービス", "logoform": "LoGoフォーム",
               "external": "その他のシステム", "counter": "窓口"}


def format_text(report: dict[str, Any]) -> str:
    p = report["period"]
    lines = [f"川崎市 LINE手続き案内 利用状況（{p['since'] or '最初'} 〜 {p['until'] or '現在'}、作成 {p['generated_at'][:16]}）", ""]
    head = "\t".join(_HEAD[c] for c in COLUMNS)
    lines += ["■ 手続ごと", f"手続\t方法\t{head}"]
    for r in report["procedures"]:
        lines.append(f"{r['name']}\t{_CHANNEL_JA.get(r['channel'], r['channel'])}\t"
                     + "\t".join(str(r[c]) for c in COLUMNS))
    if not report["procedures"]:
        lines.append("（記録はまだありません）")
    lines += ["", "■ 申請方法ごと", f"方法\t{head}"]
    for r in report["channels"]:
        lines.append(f"{_CHANNEL_JA.get(r['channel'], r['channel'])}\t" + "\t".join(str(r[c]) for c in COLUMNS))
    lines += ["", "■ 施設ごと（QRポスター）", "施設\t区\tポスター\t読み取り\tリンク"]
    for f in report["facilities"]:
        lines.append(f"{f['name']}（{f['code']}）\t{f['ward'] or '-'}\t{f['posters']}\t{f['scans']}\t{f['clicks']}")
    lines += ["", "■ チャット申し込みの中断（最後に答えた質問）", "フォーム\t最後に答えた質問\t中断"]
    for d in report["dropoff"]:
        lines.append(f"{d['script_id']}\t{d['last_answered']}\t{d['abandoned']}")
    if not report["dropoff"]:
        lines.append("（中断はありません）")
    lines.append(f"入力中（24時間以内に続きができる）：{report['forms_in_progress']}")
    o = report["online_share"]
    share = "—" if o["share"] is None else f"{o['share'] * 100:.1f}%"
    lines += ["", "■ オンラインで進んだ割合",
              f"{share}  = (チャットで完了 {o['completed_in_chat']} + 申請ページを開いた {o['handoff_clicked']}) ÷ "
              f"(それら + 窓口案内 {o['counter_guidance']})",
              "※申請ページを開いた後、そのシステムで申請を終えたかはこのボットからは分かりません。", "",
              "列の意味：案内=手続を見つけて案内した回数　QR=ポスターのQRから来た回数　申請案内=申請ページの案内を表示"
              "　リンク=申請ページへのリンクを開いた数（同じリンクは1回）　窓口案内=窓口の案内を表示"
              "　開始/完了/中断=チャットでの申し込み（中断=やめた、または24時間続きがない）"]
    return "\n".join(lines)
