"""Submissions: list with filters, detail, status changes (LINE notice), CSV export."""

from __future__ import annotations

from datetime import datetime

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from bot.admin.security import actor, requires, services
from bot.admin.submission_service import JST, NEXT_STATUS, Filters, SubmissionAdmin
from bot.admin.views import bp
from bot.staff.audit import record
from bot.submissions.models import STATUSES


def _admin() -> SubmissionAdmin:
    svc = services()
    return SubmissionAdmin(svc.submissions, svc.scripts, svc.line)


@bp.get("/submissions")
@requires("view")
def submissions():
    filters = Filters.from_args(request.args)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    admin = _admin()
    rows, total = admin.page(filters, page)
    return render_template("admin/submissions.html", rows=rows, total=total, page=page, filters=filters,
                           statuses=STATUSES, procedures=admin.procedures(), name=admin.procedure_name,
                           drafts=admin.draft_hashes(rows),
                           pages=(total + 49) // 50, args={k: v for k, v in request.args.items() if k != "page"})


@bp.get("/submissions/export.csv")
@requires("view")
def submissions_csv():
    filters = Filters.from_args(request.args)
    see = current_user.can("see_personal")
    data, count = _admin().csv_bytes(filters, see_personal=see)
    with services().db.session() as s:
        record(s, actor(), "submissions.export", "submissions", "", f"rows={count} personal={see}",
               filters={k: v for k, v in request.args.items()})
    name = f"submissions-{datetime.now(JST):%Y%m%d-%H%M}.csv"
    return Response(data, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/submissions/<receipt_no>")
@requires("view")
def submission_detail(receipt_no: str):
    admin = _admin()
    sub = admin.get(receipt_no)
    if sub is None:
        abort(404)
    detail = admin.detail(sub, see_personal=current_user.can("see_personal"))
    if not detail.masked:
        with services().db.session() as s:  # reading personal data is recorded too
            record(s, actor(), "submission.view", f"submission:{receipt_no}")
    return render_template("admin/submission_detail.html", detail=detail, sub=sub,
                           procedure=admin.procedure_name(sub.procedure_id), next_statuses=NEXT_STATUS[sub.status])


@bp.post("/submissions/<receipt_no>/status")
@requires("change_status")
def submission_status(receipt_no: str):
    admin = _admin()
    sub = admin.get(receipt_no)
    if sub is None:
        abort(404)
    ok, note = admin.change_status(sub, request.form.get("status", ""), actor=actor(),
                                   message=request.form.get("message", "")[:300])
    flash(note, "ok" if ok else "error")
    return redirect(url_for("admin.submission_detail", receipt_no=receipt_no))
