"""`kawasaki-bot report`: the city's numbers (see docs/report.md)."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta

import click


def _day(value: str | None, param: str) -> datetime | None:
    from bot.analytics.report import JST

    if not value:
        return None
    try:
        return datetime.combine(datetime.strptime(value, "%Y-%m-%d").date(), time(0), tzinfo=JST)
    except ValueError as exc:
        raise click.BadParameter("日付は 2026-04-01 の形で書いてください。", param_hint=param) from exc


@click.command("report")
@click.option("--since", default=None, help="この日から（日本時間、例 2026-04-01）")
@click.option("--until", default=None, help="この日の前日まで（日本時間、例 2026-05-01）")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--stale-hours", type=float, default=24.0, show_default=True,
              help="この時間続きのない申し込みを「中断」と数える")
def report_command(since: str | None, until: str | None, fmt: str, stale_hours: float) -> None:
    """手続ごと・申請方法ごと・施設ごとの件数、質問ごとの中断、オンラインで進んだ割合を出力します。"""
    from bot.analytics.report import build_report, format_text
    from bot.qr.cli import open_db

    _, db = open_db()
    try:
        data = build_report(db, since=_day(since, "--since"), until=_day(until, "--until"),
                            stale_after=timedelta(hours=stale_hours))
    finally:
        db.dispose()
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        click.echo(format_text(data))
