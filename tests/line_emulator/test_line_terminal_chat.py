"""integrations.line.terminal_chat against a real little bot that answers through the emulator."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from line_fake_bot import SECRET, USER, FakeBot
from linebot.v3.webhooks import LocationMessageContent, MessageEvent, PostbackEvent

from integrations.line.emulator import EmulatorClient, EmulatorHandle
from integrations.line.terminal_chat import render_message, run_chat


def _script(lines: list[str]) -> tuple[Callable[[str], str], list[str]]:
    """An input_fn that types ``lines`` (recording prompts) and raises EOFError at the end."""
    pending = list(lines)
    prompts: list[str] = []

    def input_fn(prompt: str) -> str:
        prompts.append(prompt)
        if not pending:
            raise EOFError
        return pending.pop(0)

    return input_fn, prompts


def _chat(emu: EmulatorHandle, callback_url: str, lines: list[str]) -> tuple[list[str], list[str]]:
    input_fn, prompts = _script(lines)
    output: list[str] = []
    run_chat(callback_url, emu.url, SECRET, USER, input_fn=input_fn, output_fn=output.append,
             reply_wait=5.0, quiet_after=0.3)
    return output, prompts


def test_quick_replies_and_buttons_become_numbered_choices(emu: EmulatorHandle,
                                                           fake_bot: tuple[FakeBot, str]) -> None:
    bot, callback_url = fake_bot
    output, _ = _chat(emu, callback_url, ["こんにちは", "1", "/quit"])
    text = "\n".join(output)
    assert "ボット: ご用件を選んでください。" in output
    # quick reply items of the first message, then the buttons template's actions
    assert "  [1] ソファ" in output
    assert "  [2] 住民票" in output
    assert "  [3] 現在地（位置情報を送る）" in output
    assert "ボット: 窓口の予約ができます" in output
    assert "  [4] 予約日を選ぶ（日時を選ぶ）" in output
    assert "  [5] 市のサイト（リンク）" in output
    # choosing 1 (a message action) sends its text as a text event
    assert "あなた: 粗大ごみ ソファ" in output
    assert "ボット: ソファの粗大ごみ受付ですね。" in output
    assert text.index("[1] ソファ") < text.index("ソファの粗大ごみ受付ですね。")
    assert output[-1] == "終了します。ご利用ありがとうございました。"
    texts = [e.message.text for e in bot.received if isinstance(e, MessageEvent)]
    assert texts == ["こんにちは", "粗大ごみ ソファ"]


def test_postback_datetime_uri_and_location_choices(emu: EmulatorHandle, fake_bot: tuple[FakeBot, str]) -> None:
    bot, callback_url = fake_bot
    lines = ["こんにちは", "2",  # postback with displayText
             "こんにちは", "4", "2026-12-01",  # datetimepicker (date) asks for the date
             "こんにちは", "5",  # uri shows the link, sends nothing
             "3", "35.5308,139.7029"]  # location action asks for coordinates
    output, prompts = _chat(emu, callback_url, lines)
    assert "あなた: 住民票" in output
    assert "ボット: 住民票の写しの請求ですね。" in output
    assert any("日付を入力してください" in p for p in prompts)
    assert "ボット: 2026-12-01 で予約を受け付けました。" in output
    assert "リンク: https://www.city.kawasaki.jp/" in output
    assert any("緯度,経度" in p for p in prompts)
    assert "ボット: 位置を受け取りました: 35.5308,139.7029" in output

    postbacks = [e.postback for e in bot.received if isinstance(e, PostbackEvent)]
    assert [(p.data, p.params) for p in postbacks] == [("proc=juminhyo", None), ("reserve", {"date": "2026-12-01"})]
    locations = [e.message for e in bot.received
                 if isinstance(e, MessageEvent) and isinstance(e.message, LocationMessageContent)]
    assert [(m.latitude, m.longitude) for m in locations] == [(35.5308, 139.7029)]
    assert EmulatorClient(emu.url).violations() == []


def test_flex_buttons_commands_and_bad_input(emu: EmulatorHandle, fake_bot: tuple[FakeBot, str],
                                             tmp_path: Path) -> None:
    bot, callback_url = fake_bot
    image = tmp_path / "sodai.jpg"
    image.write_bytes(b"\xff\xd8\xff" + b"x" * 61)
    lines = ["カード", "1", "9", "/follow", "/location 35.53 139.70 川崎市役所", f"/image {image}", "/sticker",
             "/image", "/unknown", "/help"]
    output, _ = _chat(emu, callback_url, lines)
    assert "ボット: 粗大ごみの申込み" in output and "  [1] 申し込む" in output
    assert "ボット: postback: apply=sodai" in output
    assert "ボット: 「9」を受け付けました。" in output  # no choices left after a plain answer: sent as text
    assert "ボット: 友だち追加ありがとうございます。" in output
    assert "ボット: 位置を受け取りました: 35.53,139.7" in output
    assert "ボット: 画像を受け取りました（64 バイト）" in output
    assert "ボット: スタンプありがとうございます。" in output
    assert "使い方: /image ファイル名" in output
    assert "そのコマンドはありません。/help で一覧を表示します。" in output
    assert any(line.startswith("使い方:") and "/quit" in line for line in output)
    assert bot.reply_errors == []


def test_numbers_outside_the_choices_are_sent_as_text(emu: EmulatorHandle, fake_bot: tuple[FakeBot, str]) -> None:
    # A postal code or a quantity typed while choices are shown is an answer, not a choice.
    _, callback_url = fake_bot
    output, _ = _chat(emu, callback_url, ["こんにちは", "2100004"])
    assert "ボット: 「2100004」を受け付けました。" in output


def test_render_message_covers_templates() -> None:
    carousel = {"type": "template", "altText": "候補", "template": {"type": "carousel", "columns": [
        {"title": "住民票", "text": "写しの請求", "actions": [{"type": "postback", "label": "選ぶ", "data": "a"}]},
        {"title": "印鑑証明", "text": "証明書", "actions": [{"type": "message", "label": "選ぶ", "text": "印鑑"}]}]}}
    lines, actions = render_message(carousel)
    assert lines == ["【住民票】", "写しの請求", "【印鑑証明】", "証明書"]
    assert [a["data" if a["type"] == "postback" else "text"] for a in actions] == ["a", "印鑑"]
    confirm = {"type": "template", "altText": "確認", "template": {"type": "confirm", "text": "送信しますか？", "actions": [
        {"type": "message", "label": "はい", "text": "はい"}, {"type": "message", "label": "いいえ", "text": "いいえ"}]}}
    assert render_message(confirm) == (["送信しますか？"], confirm["template"]["actions"])
