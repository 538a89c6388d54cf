"""Posters: files, Japanese text, and QR codes read back with a real decoder (zxing-cpp)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image

from bot.catalog.service import catalog_from_file
from bot.qr import facilities
from bot.qr.codes import StartCodes, find_code, oa_message_url
from bot.qr.service import PosterError, make_poster
from bot.storage.db import Database
from bot.storage.migrate import upgrade

CATALOG = catalog_from_file()


@pytest.fixture
def db(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'qr.db'}"
    upgrade(url)
    database = Database(url)
    yield database
    database.dispose()


def _decode_pdf(path: Path) -> list[str]:
    pdf = pdfium.PdfDocument(str(path))
    try:
        image = pdf[0].render(scale=2).to_pil()
        text = pdf[0].get_textpage().get_text_range()
    finally:
        pdf.close()
    return [b.text for b in zxingcpp.read_barcodes(image)] + [text]


def test_poster_qr_decodes_to_the_oa_message_link_with_the_start_code(db, tmp_path: Path) -> None:
    files = make_poster(db, CATALOG, procedure="住民票の写し等の交付申請", facility="ward-nakahara",
                        basic_id="@kawasaki-test", out_dir=tmp_path / "out")
    *codes, text = _decode_pdf(files.pdf)
    assert files.start_url in codes and "https://line.me/R/ti/p/%40kawasaki-test" in codes
    parts = urlsplit(files.start_url)
    assert parts.path == "/R/oaMessage/%40kawasaki-test/"
    assert find_code(unquote(parts.query)) == files.code
    # The PDF's text layer carries the Japanese text (drawn with the built-in CID font).
    for words in ("住民票の写し等の交付申請", "LINEで申請できます", "中原区役所", f"#{files.code}"):
        assert words in text.replace("\r\n", "")
    svg = files.svg.read_text(encoding="utf-8")
    assert svg.startswith("<?xml") and "LINEで申請できます" in svg and "中原区役所" in svg
    [png_code] = [b.text for b in zxingcpp.read_barcodes(Image.open(files.png))]
    assert png_code == files.start_url
    # The same procedure and facility keep their code (reprints work); another facility gets its own.
    again = make_poster(db, CATALOG, procedure="juminhyo_copy", facility="ward-nakahara",
                        basic_id="@kawasaki-test", out_dir=tmp_path / "out")
    other = make_poster(db, CATALOG, procedure="juminhyo_copy", facility="ward-asao",
                        basic_id="@kawasaki-test", out_dir=tmp_path / "out")
    assert again.code == files.code != other.code
    target = StartCodes(db).lookup(files.code)
    assert (target.procedure_id, target.facility_code, target.facility_name) == \
        ("juminhyo_copy", "ward-nakahara", "中原区役所")


def test_unknown_procedure_or_facility_is_explained(db, tmp_path: Path) -> None:
    with pytest.raises(PosterError, match="施設コード"):
        make_poster(db, CATALOG, procedure="juminhyo_copy", facility="nowhere", basic_id="@x", out_dir=tmp_path)
    with pytest.raises(PosterError, match="候補"):
        make_poster(db, CATALOG, procedure="住民票", facility="ward-asao", basic_id="@x", out_dir=tmp_path)


def test_facilities_seeded_added_and_validated(db) -> None:
    assert {f.code for f in facilities.list_all(db)} >= {"ward-kawasaki", "ward-saiwai", "ward-nakahara",
                                                         "ward-takatsu", "ward-miyamae", "ward-tama", "ward-asao"}
    assert facilities.seed_ward_offices(db) == 0
    facilities.add(db, "Library-Nakahara", "中原図書館", ward="中原区", kind="library")
    assert facilities.get(db, "library-nakahara").name == "中原図書館"
    for args, words in [(("library-nakahara", "x"), "もう登録"), (("a b", "x"), "使えません"),
                        (("lib-x", "x", "横浜区"), "川崎市の区ではありません")]:
        with pytest.raises(facilities.FacilityError, match=words):
            facilities.add(db, *args)


@pytest.mark.parametrize("text,code", [
    ("#QR-7K2M", "QR-7K2M"), ("#QR-7K2M 住民票の写し等の交付申請", "QR-7K2M"), ("＃ＱＲ－７Ｋ２Ｍ", "QR-7K2M"),
    ("#qr-7k2m", "QR-7K2M"), ("#QR7K2M", "QR-7K2M"), ("QR-7K2M", None), ("#QR-7K2", None), ("#QR-7K2MX", None),
    ("#QR-0O1I", None), ("住民票がほしい", None),
])
def test_find_code(text: str, code: str | None) -> None:
    assert find_code(text) == code


def test_oa_message_url_percent_encodes_everything() -> None:
    assert oa_message_url("@abc", "#QR-7K2M 転出届") == \
        "https://line.me/R/oaMessage/%40abc/?%23QR-7K2M%20%E8%BB%A2%E5%87%BA%E5%B1%8A"
