"""Flex messages of the hand-off: the card that sends a resident to another city system, and the
counter guidance. Pure builders (Messaging API JSON).

Values the catalog marks UNVERIFIED are never shown as fact: the card says 公式ページで確認 or
points to サンキューコールかわさき instead.
"""

from __future__ import annotations

import re
from typing import Any

from bot.catalog.schema import ProcedureRecord
from bot.handoff.variants import copies_of
from bot.routing.cards import (
    ALT_TEXT_MAX,
    CALL_CENTER_HOURS,
    CALL_CENTER_NAME,
    CALL_CENTER_PHONE,
    CONFIRM,
    truncate,
)

GREEN = "#06C755"
NOTE_COLOR = "#B45309"
UNVERIFIED_NOTE = f"※未確認の情報です。{CONFIRM}。"
TEL_URI = "tel:" + CALL_CENTER_PHONE.replace("-", "")
# Ward office counters (shared/facts/wards.yml, confidence high).
WARD_HOURS = "平日 8:30〜17:00（区民課は第2・第4土曜 8:30〜12:30も開いています）。12月29日〜1月3日は休み"

SYSTEMS = {
    # channel: (name shown to residents, button label ≤ 20 characters)
    "ekawasaki": ("オンライン手続かわさき（e-KAWASAKI）", "e-KAWASAKIで申請する"),
    "pittari": ("マイナポータル（ぴったりサービス）", "ぴったりサービスで申請"),
    "logoform": ("LoGoフォーム（かんたん申請）", "LoGoフォームで申請する"),
    "external": ("市の専用サイト", "申し込みページを開く"),
}
HANDOFF_CHANNELS = tuple(SYSTEMS)
NO_SECRETS = "マイナンバーやカードの番号・暗証番号は、このチャットに送らないでください。"

_UNVERIFIED_RE = re.compile(r"UNVERIFIED|未確認", re.IGNORECASE)
_UNVERIFIED_PAREN_RE = re.compile(r"[（(][^（）()]*(?:UNVERIFIED|未確認)[^（）()]*[）)]", re.IGNORECASE)


def clean(value: Any) -> tuple[str, bool]:
    """Text without internal UNVERIFIED notes, and whether it carried one."""
    s = str(value or "").strip()
    flagged = bool(_UNVERIFIED_RE.search(s))
    s = _UNVERIFIED_PAREN_RE.sub("", s)
    return _UNVERIFIED_RE.sub("", s).strip(" 、"), flagged


def system_name(proc: ProcedureRecord) -> str:
    name, _ = SYSTEMS.get(proc.channel, SYSTEMS["external"])
    if proc.channel == "external":
        own, _flag = clean((proc.apply or {}).get("system"))
        return own or name
    return name


def _t(s: str, **kw: Any) -> dict:
    return {"type": "text", "text": s or " ", "wrap": True, **kw}


def _row(label: str, value: str, note: str | None = None) -> dict:
    contents = [_t(label, size="xs", color="#888888", weight="bold"), _t(value, size="sm", color="#333333")]
    if note:
        contents.append(_t(note, size="xs", color=NOTE_COLOR))
    return {"type": "box", "layout": "vertical", "margin": "md", "spacing": "xs", "contents": contents}


def _req(proc: ProcedureRecord) -> dict:
    return proc.requirements if isinstance(proc.requirements, dict) else {}


def why_lines(proc: ProcedureRecord) -> list[str]:
    """Why this procedure is done on that system (identity check, fee payment)."""
    req, system = _req(proc), system_name(proc)
    needs = []
    if req.get("mynumber_card"):
        needs.append("マイナンバーカードでの本人確認")
    if req.get("payment"):
        needs.append("手数料の支払い")
    lines = []
    if needs:
        lines.append(f"この手続には{'と'.join(needs)}が必要です。このLINEではできないため、{system}で申請します。")
    else:
        lines.append(f"この手続は{system}で受け付けています。")
    if proc.channel == "pittari":
        lines.append("ぴったりサービスは国のマイナポータルの申請サービスで、マイナンバーを使う手続を安全に申請できます。")
    elif proc.channel == "ekawasaki":
        lines.append("e-KAWASAKIは川崎市の申請サイトです。"
                     + ("手数料はオンラインで支払えます（クレジットカードなど）。" if req.get("payment") else ""))
    elif proc.channel == "logoform":
        lines.append("LoGoフォームは、登録なしで使える市の申請フォームです。")
    return lines


def fee_text(proc: ProcedureRecord, answers: dict[str, str] | None = None) -> tuple[str, str | None]:
    """(fee as shown, note). A fee that is not verified is never stated as fact."""
    req = _req(proc)
    fee = req.get("fee")
    if fee is None:
        if req.get("payment") is False:
            return "かかりません", None
        return f"{CONFIRM}。", None
    if not isinstance(fee, dict) or not proc.fee_is_fact():
        return f"金額は{CONFIRM}。", None
    amount, unit = fee.get("amount_yen"), str(fee.get("unit") or "")
    note, _ = clean(fee.get("note"))
    if amount == 0:
        return "無料", None
    if isinstance(amount, int):
        shown = f"{amount:,}円" + (f"（{unit}）" if unit else "")
        copies = copies_of(answers or {})
        if copies and unit == "1通" and copies > 1:
            shown += f"\n{copies}通で {amount * copies:,}円"
        return shown, note or None
    return (note, None) if note else (f"金額は{CONFIRM}。", None)


def prepare_lines(proc: ProcedureRecord, *, online: bool) -> tuple[list[str], bool]:
    """What to have at hand, and whether an unverified item was left out."""
    req = _req(proc)
    items: list[str] = []
    if req.get("mynumber_card"):
        items.append("マイナンバーカード")
        if req.get("pin_needed"):
            items.append("カードの暗証番号（カードを受け取ったときに決めたもの）")
        if online:
            items.append("カードを読み取れるスマートフォン（またはパソコンとICカードリーダー）")
    if req.get("payment") and online:
        items.append("クレジットカードなど（手数料の支払い）")
    flagged = proc.is_unverified("requirements.documents")
    skip = "窓口のとき" if online else "オンラインのとき"
    for doc in req.get("documents") or []:
        s, f = clean(doc)
        if f:
            flagged = True
            continue
        if not s or skip in s or (s.startswith("マイナンバーカード") and "マイナンバーカード" in items):
            continue
        items.append(s)
    return items[:7], flagged


def _answers_box(answers: list[tuple[str, str]]) -> list[dict]:
    if not answers:
        return []
    lines = "\n".join(f"・{q.rstrip('？?')}：{a}" for q, a in answers)
    return [_row("お答えいただいた内容", truncate(lines, 600))]


def _eta_row(proc: ProcedureRecord) -> list[dict]:
    if not proc.eta:
        return []
    eta, flagged = clean(proc.eta)
    note = UNVERIFIED_NOTE if flagged or proc.is_unverified("eta") else None
    return [_row("かかる時間のめやす", f"{eta}（入力にかかる時間。審査や発行にかかる日数は別です）", note)]


def _button(label: str, action: dict, style: str = "primary") -> dict:
    button = {"type": "button", "style": style, "height": "sm", "action": {"label": label, **action}}
    if style == "primary":
        button["color"] = GREEN
    return button


def handoff_card(proc: ProcedureRecord, link: str | None, answers: list[tuple[str, str]] | None = None,
                 answer_map: dict[str, str] | None = None) -> dict:
    """The hand-off card: why there, what to prepare, fee, time, the answers, and the tracked link."""
    system = system_name(proc)
    apply = proc.apply or {}
    prepare, flagged = prepare_lines(proc, online=True)
    fee, fee_note = fee_text(proc, answer_map)
    rows = [_row("どこで申請するか", "\n".join(why_lines(proc)),
                 UNVERIFIED_NOTE if proc.is_unverified("channel") else None)]
    rows += _answers_box(answers or [])
    if prepare:
        rows.append(_row("用意するもの", "\n".join(f"・{x}" for x in prepare),
                         f"※ほかに必要なものがある場合があります。{CONFIRM}。" if flagged else None))
    rows.append(_row("手数料", fee, fee_note))
    rows += _eta_row(proc)
    how = []
    if not apply.get("url_verified", False) or proc.is_unverified("apply.url"):
        how.append(f"リンク先は{system}の入口のページです。「{proc.name}」をさがして申請してください。")
    how.append(f"わからないときは{CALL_CENTER_NAME}（{CALL_CENTER_PHONE}、{CALL_CENTER_HOURS}）へ。")
    rows.append(_row("申請のしかた", "\n".join(how)))
    buttons = []
    if link:
        label = SYSTEMS.get(proc.channel, SYSTEMS["external"])[1]
        buttons.append(_button(label, {"type": "uri", "uri": link}))
    else:
        rows.append(_row("申請ページ", f"申請ページのアドレスを確認中です。{CONFIRM}。"))
    if apply.get("counter"):
        buttons.append(_button("窓口での手続を見る", {"type": "postback", "data": f"action=counter&proc={proc.id}",
                                                  "displayText": "窓口での手続を見る"}, "secondary"))
    buttons.append(_button("電話で聞く", {"type": "uri", "uri": TEL_URI}, "secondary"))
    bubble = {
        "type": "bubble",
        "size": "mega",
        "header": {"type": "box", "layout": "vertical", "contents": [
            _t(f"{system}で申請", size="xs", color=GREEN, weight="bold"),
            _t(proc.name, size="lg", weight="bold"),
        ]},
        "body": {"type": "box", "layout": "vertical", "contents": [
            *rows, _t(NO_SECRETS, size="xxs", color="#888888", margin="lg")]},
        "footer": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": buttons},
    }
    alt = truncate(f"{proc.name}は{system}で申請できます。準備するもの：{'、'.join(prepare[:3]) or 'なし'}", ALT_TEXT_MAX)
    return {"type": "flex", "altText": alt, "contents": bubble}


def counter_card(proc: ProcedureRecord, answers: list[tuple[str, str]] | None = None,
                 answer_map: dict[str, str] | None = None) -> dict:
    """Counter guidance: where, when, what to bring, fee, who to ask."""
    apply = proc.apply or {}
    rows: list[dict] = []
    rows += _answers_box(answers or [])
    where, flagged = clean(apply.get("counter"))
    contact = proc.contact if isinstance(proc.contact, dict) else {}
    if not where:
        where = "お住まいの区の区役所" if contact.get("ward_based") else f"{CONFIRM}。"
    rows.append(_row("窓口", where, UNVERIFIED_NOTE if flagged or proc.is_unverified("apply.counter") else None))
    hours, hflag = clean(apply.get("hours"))
    if not hours or hflag or proc.is_unverified("apply.hours"):
        hours, hnote = (WARD_HOURS, None) if "区" in where else (f"{CONFIRM}。", None)
        if hflag or proc.is_unverified("apply.hours"):
            hnote = UNVERIFIED_NOTE
    else:
        hnote = None
    rows.append(_row("受付時間", hours, hnote))
    bring, flagged = prepare_lines(proc, online=False)
    if not any("本人確認" in b for b in bring):
        bring.append("本人確認書類（運転免許証・マイナンバーカードなど）")
    rows.append(_row("持ち物", "\n".join(f"・{x}" for x in bring),
                     f"※ほかに必要なものがある場合があります。{CONFIRM}。" if flagged else None))
    fee, fee_note = fee_text(proc, answer_map)
    rows.append(_row("手数料", fee, fee_note))
    section, _ = clean(contact.get("section")) if contact else ("", False)
    ask = f"{section}\n" if section else ""
    rows.append(_row("問い合わせ", f"{ask}{CALL_CENTER_NAME} {CALL_CENTER_PHONE}（{CALL_CENTER_HOURS}）"))
    buttons = [_button("電話で聞く", {"type": "uri", "uri": TEL_URI}, "secondary")]
    if proc.channel in HANDOFF_CHANNELS:
        buttons.insert(0, _button("オンラインで申請する", {"type": "postback", "data": f"action=handoff&proc={proc.id}",
                                                     "displayText": "オンラインで申請する"}))
    bubble = {
        "type": "bubble",
        "size": "mega",
        "header": {"type": "box", "layout": "vertical", "contents": [
            _t("窓口でのお手続", size="xs", color=GREEN, weight="bold"), _t(proc.name, size="lg", weight="bold")]},
        "body": {"type": "box", "layout": "vertical", "contents": rows},
        "footer": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": buttons},
    }
    return {"type": "flex", "altText": truncate(f"{proc.name}の窓口：{where}", ALT_TEXT_MAX), "contents": bubble}
