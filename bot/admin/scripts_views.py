"""Dialog scripts in the browser: list, edit with live validation, draft → simulator, publish, history."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from bot.admin.script_service import ScriptService, check, diff_lines
from bot.admin.security import actor, requires, services
from bot.admin.views import bp


def _service() -> ScriptService:
    return ScriptService(services().db, services().scripts)


def _live_or_404(script_id: str):
    script = services().scripts.by_id(script_id)
    if script is None:
        abort(404)
    return script


@bp.get("/scripts")
@requires("view")
def scripts():
    registry = services().scripts
    rows = []
    for script in registry.all():
        number = registry.published_numbers.get(script.id)
        rows.append({"id": script.id, "name": script.name, "version": script.version,
                     "source": f"管理画面で公開 v{number}" if number else "リポジトリのファイル",
                     "questions": len(script.slots)})
    return render_template("admin/scripts.html", rows=rows)


@bp.get("/scripts/<script_id>")
@requires("view")
def script_edit(script_id: str):
    script = _live_or_404(script_id)
    registry = services().scripts
    return render_template("admin/script_edit.html", script=script, text=script.text, problems=[],
                           number=registry.published_numbers.get(script_id))


@bp.post("/api/scripts/<script_id>/validate")
@requires("view")
def script_validate(script_id: str):
    body = request.get_json(silent=True) or {}
    return check(services().scripts, str(body.get("text", "")), script_id).as_json()


@bp.post("/api/scripts/<script_id>/draft")
@requires("edit_scripts")
def script_draft(script_id: str):
    _live_or_404(script_id)
    body = request.get_json(silent=True) or {}
    checked, proc = _service().save_draft(script_id, str(body.get("text", "")), actor=actor())
    out = checked.as_json()
    if proc:
        out["simulator_url"] = url_for("simulator.page", draft=proc.split(":", 1)[1])
    return out, (200 if proc else 422)


@bp.post("/scripts/<script_id>/publish")
@requires("edit_scripts")
def script_publish(script_id: str):
    script = _live_or_404(script_id)
    text = request.form.get("text", "")
    checked, row = _service().publish(script_id, text, actor=actor(), note=request.form.get("note", "")[:300])
    if row is None:
        return render_template("admin/script_edit.html", script=script, text=text, problems=checked.problems,
                               number=services().scripts.published_numbers.get(script_id),
                               error="公開できませんでした。下の問題を直してください。"), 422
    flash(f"v{row.number} として公開しました。すべての窓口（ワーカー）に数秒以内に反映されます。")
    return redirect(url_for("admin.script_edit", script_id=script_id))


@bp.get("/scripts/<script_id>/history")
@requires("view")
def script_history(script_id: str):
    script = _live_or_404(script_id)
    versions = _service().versions.history(script_id)
    file_script = services().scripts.file_script(script_id)
    return render_template("admin/script_history.html", script=script, versions=versions,
                           file_script=file_script, live_hash=script.content_hash)


@bp.get("/scripts/<script_id>/diff/<int:row_id>")
@requires("view")
def script_diff(script_id: str, row_id: int):
    script = _live_or_404(script_id)
    service = _service()
    row = service.versions.get(row_id)
    if row is None or row.script_id != script_id:
        abort(404)
    older = [v for v in service.versions.history(script_id) if v.id < row.id]
    if older:
        base_text, base_name = older[0].text, f"v{older[0].number}"
    else:
        file_script = services().scripts.file_script(script_id)
        base_text, base_name = (file_script.text if file_script else ""), "リポジトリのファイル"
    return render_template("admin/script_diff.html", script=script, row=row, base_name=base_name,
                           rows=diff_lines(base_text, row.text))


@bp.post("/scripts/<script_id>/rollback/<int:row_id>")
@requires("edit_scripts")
def script_rollback(script_id: str, row_id: int):
    _live_or_404(script_id)
    checked, row = _service().rollback(script_id, row_id, actor=actor())
    if row is None:
        flash("戻せませんでした: " + " ".join(p.message for p in checked.problems), "error")
    else:
        flash(f"v{row.number} として公開しました（{row.note}）。")
    return redirect(url_for("admin.script_history", script_id=script_id))
