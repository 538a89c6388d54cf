"""Hand-offs, tracked links, QR posters and the report through the whole stack
(webhook → queue → worker → PostgreSQL → LINE emulator, and GET /go/<token> on the same app)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pypdfium2 as pdfium
import pytest
import requests
import zxingcpp
from click.testing import CliRunner
from sqlalchemy import func, select

from bot.analytics.cli import report_command
from bot.handoff.links import LinkIssuer, LinkPayload
from bot.handoff.models import HandoffClick
from bot.qr.cli import qr
from bot.storage.models import AnalyticsEvent

pytestmark = pytest.mark.services
USER = "U" + "a5" * 16
EKAWASAKI = "https://lgpos.task-asp.net/cu/141305/ea/residents/portal/home"




def _go(stack, uri: str, method: str = "GET") -> requests.Response:
    """Open a tracked link on the stack's own server (PUBLIC_BASE_URL is the default localhost)."""
    token = urlsplit(uri).path.rsplit("/go/", 1)[1]
    base = stack.callback_url.rsplit("/callback", 1)[0]
    return requests.request(method, f"{base}/go/{token}", allow_redirects=False, timeout=10)


def _clicks(stack, **where) -> int:
    with stack.services.db.session() as s:
        q = select(func.count()).select_from(HandoffClick)
        for k, v in where.items():
            q = q.where(getattr(HandoffClick, k) == v)
        return s.scalar(q)


def _events(stack, name: str, procedure_id: str) -> list[dict]:
    with stack.services.db.session() as s:
        return [p for (p,) in s.execute(select(AnalyticsEvent.props).where(
            AnalyticsEvent.name == name, AnalyticsEvent.procedure_id == procedure_id))]


def _report(database_url: str) -> dict:
    res = CliRunner().invoke(report_command, ["--format", "json"], env={"DATABASE_URL": database_url})
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def _row(report: dict, key: str, value: str, section: str = "procedures") -> dict:
    return next((r for r in report[section] if r[key] == value), {})


def test_juminhyo_variants_to_a_tracked_link_that_redirects_once_per_click(stack, resident, pg_database) -> None:
    before = _report(pg_database)
    r = resident(USER)
    r.say("住民票の写しがほしい")
    assert "だれの住民票" in r.text_of()
    r.press("世帯全員")
    r.press("個人票")
    assert "何通" in r.text_of()
    r.press("2通")
    card = r.text_of()
    assert "世帯全員" in card and "2通" in card and "マイナンバーカード" in card and "300円" not in card
    uri = r.link("e-KAWASAKIで申請する")
    assert uri.startswith(stack.services.settings.public_base_url + "/go/")
    token_clicks = _clicks(stack, procedure_id="juminhyo_copy")

    head = _go(stack, uri, "HEAD")  # a link preview: redirected, not counted
    assert head.status_code == 302 and _clicks(stack, procedure_id="juminhyo_copy") == token_clicks
    first = _go(stack, uri)
    assert first.status_code == 302 and first.headers["Location"] == EKAWASAKI
    assert first.headers["Cache-Control"] == "no-store"
    assert _clicks(stack, procedure_id="juminhyo_copy") == token_clicks + 1
    assert _go(stack, uri).status_code == 302  # a second tap is a second click
    assert _clicks(stack, procedure_id="juminhyo_copy") == token_clicks + 2
    stack.analytics_settled()
    [shown] = [p for p in _events(stack, "handoff_shown", "juminhyo_copy") if p["answers"]["copies"] == "2通"]
    clicked = [p for p in _events(stack, "handoff_clicked", "juminhyo_copy") if p["token"] == shown["token"]]
    assert len(clicked) == 2 and clicked[0]["source"] == "chat"

    after = _report(pg_database)
    b, a = _row(before, "id", "juminhyo_copy"), _row(after, "id", "juminhyo_copy")
    assert a["shown"] - b.get("shown", 0) == 1
    assert a["clicked"] - b.get("clicked", 0) == 1 and a["clicks"] - b.get("clicks", 0) == 2  # one link, two taps
    assert a["found"] - b.get("found", 0) == 1
    assert after["online_share"]["handoff_clicked"] - before["online_share"]["handoff_clicked"] == 1


@pytest.mark.parametrize("kind", ["forged", "altered", "expired", "garbage"])
def test_bad_tokens_get_a_friendly_page_and_never_a_redirect(stack, kind: str) -> None:
    settings = stack.services.settings
    issuer = LinkIssuer(settings.channel_secret, settings.public_base_url)
    now = datetime.now(UTC)
    payload = LinkPayload("t" * 16, "juminhyo_copy", "ekawasaki", EKAWASAKI, "h" * 16, "chat", None, int(now.timestamp()))
    if kind == "forged":
        uri = LinkIssuer("someone-else", "http://x").url(
            LinkPayload("t" * 16, "juminhyo_copy", "ekawasaki", "https://evil.example/", "h", "chat", None,
                        int(now.timestamp())))
    elif kind == "altered":
        token = issuer.token(payload)
        i = len(token) // 3
        uri = "/go/" + token[:i] + ("x" if token[i] != "x" else "y") + token[i + 1 :]
    elif kind == "expired":
        uri = issuer.url(LinkPayload(**{**payload.__dict__, "issued_at": int((now - timedelta(days=8)).timestamp())}))
    else:
        uri = "/go/..%2F..%2Fetc%2Fpasswd"
    before = _clicks(stack)
    res = _go(stack, uri)
    assert res.status_code == (410 if kind == "expired" else 404)
    assert "Location" not in res.headers and res.headers["Content-Type"].startswith("text/html")
    page = res.text
    assert "044-200-3939" in page and "lgpos.task-asp.net" in page and "evil.example" not in page
    if kind == "expired":
        assert "有効期限" in page and "住民票の写し等の交付申請" in page
    assert _clicks(stack) == before


def test_tenshutsu_goes_to_pittari(stack, resident) -> None:
    r = resident("U" + "b6" * 16)
    r.say("転出届を出したい")
    r.press("申請ページを開く")
    assert "ぴったりサービス" in r.text_of()
    res = _go(stack, r.link("ぴったりサービスで申請"))
    assert res.status_code == 302 and res.headers["Location"] == "https://myna.go.jp"
    assert _events(stack, "handoff_clicked", "tenshutsu_todoke")[-1]["channel"] == "pittari"


def _poster(tmp_path: Path, database_url: str, procedure: str, facility: str) -> str:
    res = CliRunner().invoke(qr, ["poster", "--procedure", procedure, "--facility", facility, "--out", str(tmp_path)],
                             env={"DATABASE_URL": database_url, "LINE_BOT_BASIC_ID": "@kawasaki-test"})
    assert res.exit_code == 0, res.output
    pdf_path = next(tmp_path.glob("poster-*.pdf"))
    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        image = pdf[0].render(scale=2).to_pil()
    finally:
        pdf.close()
    links = [b.text for b in zxingcpp.read_barcodes(image)]
    [start] = [u for u in links if "/oaMessage/" in u]
    assert urlsplit(start).path == "/R/oaMessage/%40kawasaki-test/"
    return unquote(urlsplit(start).query)  # what LINE puts in the resident's input box


def test_poster_qr_starts_the_procedure_through_the_emulator_and_the_scan_is_counted(stack, resident, pg_database,
                                                                                     tmp_path: Path) -> None:
    before = _report(pg_database)
    prefilled = _poster(tmp_path / "a", pg_database, "転出届", "ward-asao")
    assert prefilled.startswith("#QR-")
    r = resident("U" + "c7" * 16)
    r.say(prefilled)
    assert "麻生区役所" in r.text_of() and "ぴったりサービス" in r.text_of()
    res = _go(stack, r.link("ぴったりサービスで申請"))
    assert res.status_code == 302
    assert _clicks(stack, procedure_id="tenshutsu_todoke", source="qr", facility_code="ward-asao") >= 1
    # A chat procedure's poster starts the chat form at once.
    prefilled = _poster(tmp_path / "b", pg_database, "sodaigomi", "ward-kawasaki")
    r.say(prefilled)
    assert "出したいもの" in r.text_of()
    r.say("ソファ1つ")
    r.say("やめる")
    r.press("はい、やめる")

    stack.analytics_settled()
    after = _report(pg_database)
    asao_b, asao_a = (_row(x, "code", "ward-asao", "facilities") for x in (before, after))
    assert asao_a["scans"] - asao_b.get("scans", 0) == 1 and asao_a["clicks"] - asao_b.get("clicks", 0) == 1
    assert asao_a["posters"] >= 1 and asao_a["name"] == "麻生区役所"
    kawa_b, kawa_a = (_row(x, "code", "ward-kawasaki", "facilities") for x in (before, after))
    assert kawa_a["scans"] - kawa_b.get("scans", 0) == 1
    so_b, so_a = (_row(x, "id", "sodaigomi") for x in (before, after))
    assert so_a["qr"] - so_b.get("qr", 0) == 1 and so_a["started"] - so_b.get("started", 0) == 1
    assert so_a["abandoned"] - so_b.get("abandoned", 0) == 1  # やめる
    text = CliRunner().invoke(report_command, [], env={"DATABASE_URL": pg_database}).output
    assert "麻生区役所（ward-asao）" in text and "オンラインで進んだ割合" in text and "転出届" in text
