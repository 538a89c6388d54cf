"""`kawasaki-bot submissions export`: applications as CSV for the back office."""

from __future__ import annotations

import sys
from datetime import date

import click


@click.group("submissions")
def submissions() -> None:
    """Applications filed through chat forms."""


@submissions.command("export")
@click.option("--procedure", default="", help="Catalog id, e.g. sodaigomi.")
@click.option("--status", default="", help="受付 / 処理中 / 完了 / 差し戻し")
@click.option("--since", "date_from", type=click.DateTime(["%Y-%m-%d"]), default=None, help="From this day (JST).")
@click.option("--until", "date_to", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Up to this day (JST).")
@click.option("--masked", is_flag=True, help="Hide personal data (for sharing outside the section).")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), default=None, help="File (default: stdout).")
def export(procedure: str, status: str, date_from, date_to, masked: bool, out: str | None) -> None:
    """Write applications as CSV (UTF-8 with BOM, opens in Excel); personal data is decrypted."""
    from bot.admin.submission_service import Filters, SubmissionAdmin
    from bot.config import load_settings
    from bot.services import Services

    services = Services(load_settings())
    filters = Filters(procedure=procedure, status=status,
                      date_from=date_from.date() if date_from else None,
                      date_to=date_to.date() if date_to else None)
    admin = SubmissionAdmin(services.submissions, services.scripts, services.line)
    data, count = admin.csv_bytes(filters, see_personal=not masked)
    if out:
        with open(out, "wb") as fh:
            fh.write(data)
    else:
        sys.stdout.buffer.write(data)
    click.echo(f"{count}件を書き出しました（{date.today():%Y-%m-%d}）", err=True)
