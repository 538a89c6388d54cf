"""The console and the simulator in a real browser (Playwright driving Debian's Chromium) against a
real server: log in, edit → draft → publish a script, chat through it in the simulator (quick replies,
location, image upload, Flex confirmation), see the submission and the dashboard move; a viewer cannot
edit; wrong passwords lock out. Screenshots are taken on the way (phone and desktop sizes); they
replace the ones in docs/screenshots when KB_UPDATE_SCREENSHOTS=1 is set."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from console_helpers import PASSWORD

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
# The screenshots in docs/ are rewritten only when asked (KB_UPDATE_SCREENSHOTS=1), so a test run
# leaves the tree clean; otherwise they are still taken, into a scratch directory.
SHOTS = (Path(__file__).resolve().parents[2] / "docs" / "screenshots" if os.environ.get("KB_UPDATE_SCREENSHOTS")
         else Path(tempfile.gettempdir()) / "kb-console-screenshots")
SHOTS.mkdir(parents=True, exist_ok=True)
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}
NEW_INTRO = "【テスト版】道路・公園・川のこわれを、写真と場所で市に知らせます。"
JPEG = bytes.fromhex(  # a 1x1 white JPEG
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0000b080001000101011100ffc4001f0000010501010101010100000000000000000102030405060708090a0bffc400b5100002010303020403050504040000017d01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a535455565758595a636465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda0008010100003f00fbd3ffd9")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} missing in CI (apt-get install -y chromium)")
        pytest.skip(f"{CHROMIUM} not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _page(browser, console, size=DESKTOP):
    context = browser.new_context(viewport=size, locale="ja-JP", base_url=console.base_url)
    context.set_default_timeout(20_000)
    return context.new_page()


def _login(page, name: str, password: str = PASSWORD) -> None:
    page.goto("/admin/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def _kpi(page, name: str) -> int:
    return int(page.inner_text(f"#kpi-{name}"))


def _with_intro(text: str, intro: str) -> str:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("intro:"))
    end = start + 1
    while end < len(lines) and (lines[end].startswith("  ") or not lines[end].strip()):
        end += 1
    return "\n".join([*lines[:start], f"intro: {intro}", *lines[end:]]) + "\n"


def _bot_says(page, text: str):
    loc = page.locator(".msg.bot", has_text=text).last
    try:
        loc.wait_for()
    except Exception:
        page.screenshot(path="/tmp/fail.png")
        tail = page.inner_text("#log")[-600:]
        raise AssertionError(f"the bot did not say {text!r}; the chat ends with:\n{tail}") from None
    return loc


def _quick(page, label: str) -> None:
    page.locator("#quick").get_by_role("button", name=label, exact=True).click()


def test_edit_publish_chat_and_see_the_submission_and_the_numbers(browser, console) -> None:
    console.user("midori", "editor")
    page = _page(browser, console)
    _login(page, "midori")
    page.wait_for_url("**/admin/dashboard")
    before_completed, before_msgs = _kpi(page, "completed"), _kpi(page, "messages")

    # Edit: validation as staff type, errors block publishing.
    page.click("text=シナリオ")
    page.click("text=道路・公園・河川の損傷通報")
    original = page.input_value("#script-text")
    page.locator("#validation-ok").wait_for()
    page.fill("#script-text", original.replace("type: location", "type: place", 1))
    page.locator(".problem.error", has_text="place").wait_for()
    assert page.is_disabled("#publish")
    edited = _with_intro(original, NEW_INTRO)
    page.fill("#script-text", edited)
    page.locator("#validation-ok").wait_for()
    assert page.is_enabled("#publish")
    page.screenshot(path=str(SHOTS / "editor-desktop.png"))

    # Try the draft in the simulator: the form starts on the edited text before anything is published.
    page.click("#try-draft")
    page.wait_for_url("**/simulator/?draft=*")
    _bot_says(page, NEW_INTRO)
    assert console.services.scripts.by_id("doro_koen_kasen_report").text == original

    # Publish.
    page.goto("/admin/scripts/doro_koen_kasen_report")
    page.fill("#script-text", edited)
    page.locator("#validation-ok").wait_for()
    page.fill("input[name=note]", "案内文を短くしました")
    page.once("dialog", lambda d: d.accept())
    page.click("#publish")
    page.locator(".flash", has_text="v1 として公開しました").wait_for()

    # Chat through the published version as a new resident.
    page.goto("/simulator/")
    page.click("button.reset")
    page.fill("#text", "道路に穴があいています")
    page.click("#send")
    card = _bot_says(page, "道路・公園・河川の損傷通報")
    card.get_by_role("button", name="このLINEで申し込む").click()
    _bot_says(page, NEW_INTRO)
    _bot_says(page, "どこの不具合ですか")
    _quick(page, "道路")
    _bot_says(page, "道路のどんな不具合ですか")
    _quick(page, "穴・陥没")
    _bot_says(page, "場所を教えてください")
    _quick(page, "位置情報を送る")
    page.click("#location .presets button:has-text('川崎市役所')")
    _bot_says(page, "写真があれば")
    page.set_input_files("#file", files=[{"name": "hole.jpg", "mimeType": "image/jpeg", "buffer": JPEG}])
    answer = page.locator(".msg.bot").filter(has_text=re.compile("写真を受け取りました|画像を受け取れませんでした")).last
    answer.wait_for()  # the image event reached the bot through the webhook
    assert "受け取れませんでした" not in answer.inner_text()  # and the photo was fetched from the content API
    _bot_says(page, "くわしく教えてください")
    page.fill("#text", "歩道に直径30cmほどの穴があります")
    page.click("#send")
    _bot_says(page, "危ない状態ですか")
    _quick(page, "危ない")
    _bot_says(page, "連絡を希望しますか")
    _quick(page, "希望する")
    _bot_says(page, "お名前を入力してください")
    page.fill("#text", "川崎 太郎")
    page.click("#send")
    _bot_says(page, "電話番号を入力してください")
    page.fill("#text", "090-1234-5678")
    page.click("#send")
    confirm = _bot_says(page, "損傷通報の内容")
    assert "川崎 太郎" in confirm.inner_text()
    confirm.get_by_role("button", name="送信").click()
    done = _bot_says(page, "受付番号：KW-")
    receipt = re.search(r"KW-\d{6}-[0-9A-Z]{6}", done.inner_text()).group(0)
    page.screenshot(path=str(SHOTS / "simulator-desktop.png"))
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SHOTS / "simulator-phone.png"))
    page.set_viewport_size(DESKTOP)

    # The submission, with the personal data an editor may see; a status change reaches the chat.
    page.goto("/admin/submissions")
    page.click(f"text={receipt}")
    assert "川崎 太郎" in page.inner_text("#answers")
    page.select_option("#new-status", "処理中")
    page.click("#change-status")
    page.locator(".flash", has_text="お知らせしました").wait_for()
    assert page.inner_text("#status") == "処理中"

    # The numbers moved.
    page.goto("/admin/dashboard")
    assert _kpi(page, "completed") == before_completed + 1
    assert _kpi(page, "messages") >= before_msgs + 10
    assert page.locator(".funnel", has_text="道路・公園・河川の損傷通報").count() == 1
    page.screenshot(path=str(SHOTS / "dashboard-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.reload()
    page.screenshot(path=str(SHOTS / "dashboard-phone.png"), full_page=True)
    page.context.close()


def test_viewer_cannot_edit(browser, console) -> None:
    console.user("aoi", "viewer")
    page = _page(browser, console, PHONE)
    _login(page, "aoi")
    page.wait_for_url("**/admin/dashboard")
    page.goto("/admin/scripts/sodaigomi")
    assert page.locator("#script-text").get_attribute("readonly") is not None
    assert page.locator("#publish").count() == 0 and page.locator("#try-draft").count() == 0
    page.goto("/admin/users")
    assert "権限がありません" in page.inner_text("#error-message")
    page.context.close()


def test_wrong_passwords_lock_the_account(browser, console) -> None:
    console.user("kiiro", "admin")
    page = _page(browser, console)
    for i in range(5):
        _login(page, "kiiro", f"wrong-password-{i}")
    assert "ロック" in page.inner_text("#login-error")
    _login(page, "kiiro")
    assert "ロック" in page.inner_text("#login-error")
    assert "/admin/login" in page.url
    page.context.close()


def test_date_picker_and_typed_answers_on_a_phone(browser, open_console) -> None:
    """Embedded defaults: the simulator is open without a login; the calendar is an <input type=date>."""
    page = _page(browser, open_console, PHONE)
    page.goto("/simulator/")
    page.fill("#text", "ソファを捨てたい")
    page.click("#send")
    _bot_says(page, "粗大ごみ").get_by_role("button", name="このLINEで申し込む").click()
    _bot_says(page, "出したいもの")
    page.fill("#text", "ソファ1つ")
    page.click("#send")
    _bot_says(page, "郵便番号")
    page.fill("#text", "2100004")
    page.click("#send")
    _bot_says(page, "宮本町")
    page.fill("#text", "1-2-3")
    page.click("#send")
    _quick(page, "カレンダーで選ぶ")
    picker = page.locator("#picker-input")
    assert picker.get_attribute("type") == "date"
    first_day = picker.get_attribute("min")
    bots = page.locator(".msg.bot").count()
    picker.fill(first_day)
    page.click("#picker-ok")
    page.locator(".msg.me", has_text=first_day).wait_for()
    page.locator(".msg.bot").nth(bots).wait_for()
    answer = page.locator(".msg.bot").nth(bots).inner_text()
    # The calendar opens at the first day the bot's rules allow, so that day is accepted and the
    # form moves on to where the items will be put.
    assert "出す場所" in answer, answer
    earliest = re.search(r"いちばん早く選べる日は(\d+)年(\d+)月(\d+)日", answer)
    if earliest:  # never expected now; kept so a regression shows the bot's suggestion in the failure
        _quick(page, "カレンダーで選ぶ")
        day = "{}-{:02d}-{:02d}".format(*(int(g) for g in earliest.groups()))
        bots = page.locator(".msg.bot").count()
        page.locator("#picker-input").fill(day)
        page.click("#picker-ok")
        page.locator(".msg.bot").nth(bots).wait_for()
        assert "期限を過ぎています" not in page.locator(".msg.bot").nth(bots).inner_text()
    page.screenshot(path=str(SHOTS / "simulator-datepicker-phone.png"))
    page.context.close()
