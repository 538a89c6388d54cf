"""Dashboard (the city's numbers as charts) and the audit log page."""

from __future__ import annotations

from flask import render_template, request

from bot.admin import charts
from bot.admin.dashboard_data import collect
from bot.admin.security import requires, services
from bot.admin.views import bp
from bot.staff.audit import recent

PERIODS = (7, 14, 30, 90)


def procedure_names():
    svc = services()
    try:
        catalog = svc.catalog()
    except Exception:  # the dashboard still works without the catalog
        catalog = None
    scripts = {s.procedure_id: s.name for s in svc.scripts.all()}

    def name(pid: str) -> str:
        record = catalog.get(pid) if catalog is not None else None
        return getattr(record, "name", None) or scripts.get(pid) or pid

    return name


@bp.get("/dashboard")
@requires("view")
def dashboard():
    days = request.args.get("days", 14, type=int)
    days = days if days in PERIODS else 14
    name = procedure_names()
    numbers = collect(services().db, days=days, names=name)
    funnels = []
    registry = services().scripts
    for pid, f in sorted(numbers.forms.items(), key=lambda kv: -kv[1].started):
        script = next((s for s in registry.all() if s.procedure_id == pid), None)
        order = script.slot_ids if script else list(f.answered)
        labels = {s["id"]: str(s.get("label") or s["id"]) for s in script.slots} if script else {}
        conditional = {s["id"] for s in script.slots if s.get("when")} if script else set()
        steps = [("開始", f.started)] + [(labels.get(sid, sid), f.answered.get(sid, 0)) for sid in order
                                        if f.answered.get(sid) or sid not in conditional] + [("送信完了", f.completed)]
        stops = [(labels.get(sid, sid), n) for sid, n in f.stopped_at.most_common(5)]
        funnels.append({"name": name(pid), "f": f, "chart": charts.bars(steps, title=f"{name(pid)} の質問ごとの回答数",
                                                                           color="#7a5af8"),
                        "stops": stops})
    total_msgs = sum(v for _, v in numbers.days)
    return render_template(
        "admin/dashboard.html", days=days, periods=PERIODS, numbers=numbers, funnels=funnels,
        total_msgs=total_msgs,
        completed=sum(f.completed for f in numbers.forms.values()),
        started=sum(f.started for f in numbers.forms.values()),
        abandoned=sum(f.abandoned + f.cancelled for f in numbers.forms.values()),
        chart_days=charts.columns(numbers.days, title="1日ごとのメッセージ数"),
        chart_found=charts.bars(numbers.procedures_found, title="見つかった手続き"),
        chart_handoffs=charts.bars(numbers.handoffs, title="外部サイトへの案内のクリック", color="#f59e0b"),
        chart_qr=charts.bars(numbers.qr_by_facility, title="施設ごとのQRコード読み取り", color="#0ea5e9"),
    )


@bp.get("/audit")
@requires("see_audit")
def audit():
    prefix = request.args.get("action", "")[:32]
    return render_template("admin/audit.html", entries=recent(services().db, limit=300, action_prefix=prefix),
                           prefix=prefix)
