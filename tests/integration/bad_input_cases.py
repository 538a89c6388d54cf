"""Bad inputs for every slot type, arranged as walks through whole scripts (used by
test_forms_bad_inputs_stack.py).

A walk is a list of (slot id, step). A step sends one thing as a resident would: a text, a tap on
a button of the current question, a forged answer button, a calendar pick, a location, a photo, a
sticker, a video/audio/file. `Bad` steps name what the re-prompt must say; `Good` steps may name
the value that must be stored. Dates assume today = Monday 2026-11-30 (JST), as in tests/forms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MY_NUMBER = "123456789018"  # passes the My Number check digit


# -- what a resident sends --------------------------------------------------------------------
@dataclass(frozen=True)
class Tap:
    """Press a quick reply or button of the latest answer by its label."""

    label: str


@dataclass(frozen=True)
class Forged:
    """An answer button of the current question with one field changed (an old or tampered button)."""

    label: str
    field: str
    value: str


@dataclass(frozen=True)
class Picker:
    """The date picker ("カレンダーで選ぶ") returning `date`, as LINE sends it in postback.params."""

    date: str


@dataclass(frozen=True)
class Place:
    latitude: float
    longitude: float
    address: str


@dataclass(frozen=True)
class Photo:
    """An image message; `stored=False`: LINE has no content for it (the download fails)."""

    stored: bool = True


@dataclass(frozen=True)
class Media:
    """A sticker, video, audio or file message."""

    kind: str


Send = str | Tap | Forged | Picker | Place | Photo | Media


# -- what must happen -------------------------------------------------------------------------
@dataclass(frozen=True)
class Bad:
    send: Send
    says: tuple[str, ...]  # what the re-prompt must say (what is wrong, what to do)
    by_form: bool = True  # False: answered before the form sees it (a My Number is removed on the webhook)


@dataclass(frozen=True)
class Good:
    send: Send
    value: Any = None  # the value that must be stored (None: whatever the form accepted)
    check: Any = None  # or a predicate on the stored value


@dataclass(frozen=True)
class Step:
    """An intermediate input that neither fails nor finishes the question (a multi-choice tap)."""

    send: Send


@dataclass
class Walk:
    name: str
    procedure: str  # catalog procedure id; "draft" = the test-only script below, started as a draft
    steps: list[tuple[str, Bad | Good | Step]] = field(default_factory=list)


def on(slot: str, *steps: Bad | Good | Step) -> list[tuple[str, Bad | Good | Step]]:
    return [(slot, s) for s in steps]


KAWASAKI = Place(35.5308, 139.7029, "神奈川県川崎市川崎区宮本町1")
TOKYO = Place(35.6812, 139.7671, "東京都千代田区丸の内1丁目")
YOKOHAMA = Place(35.4437, 139.6380, "神奈川県横浜市中区港町1丁目")

# -- sodaigomi: item list, postal code, address, date with lead time and horizon, choice ----------
SODAIGOMI = Walk("sodaigomi", "sodaigomi", [
    *on("items",
        Bad("宇宙船", ("「宇宙船」", "わかりません")),
        Bad("ソフア1つ", ("もしかして", "ソファ")),
        Bad("自転車0台", ("自転車", "1以上")),
        Bad("自転車99台", ("99点", "10点まで")),
        Bad("冷蔵庫1台", ("冷蔵庫", "出せません")),
        Bad("ｗｗｗｗ", ("わかりません",)),
        Bad("。。。", ("読み取れません",)),
        Bad(Media("sticker"), ("スタンプ", "文字で")),
        Good("ソファ1つと自転車2台", check=lambda v: v["total_yen"] == 1500
             and [(i["id"], i["quantity"]) for i in v["items"]] == [("sofa", 1), ("bicycle", 2)])),
    *on("postal_code",
        Bad("21000", ("7けた",)),
        Bad("000-0000", ("000-0000", "見つかりません")),
        Bad("100-0001", ("千代田区", "川崎市内")),
        Bad(Photo(), ("画像では", "文字で")),
        Good("〒２１０－０００４", check=lambda v: v["code"] == "2100004" and "宮本町" in v["address"])),
    *on("address",
        Bad("川崎ハイツ", ("番地",)),
        Bad("http://example.com/1", ("住所として",)),
        Bad("1-2-3 " + "コーポ" * 30, ("80文字",)),
        Good("１－２－３ 川崎ハイツ101", "1-2-3 川崎ハイツ101")),
    *on("collection_date",
        Bad("そのうち", ("日付として",)),
        Bad("昨日", ("過ぎて", "2026年12月3日")),
        Bad("12月6日", ("日曜日", "2026年12月3日")),
        Bad("明日", ("期限", "3日前")),
        Bad("12月30日", ("年末年始",)),
        Bad("2027年3月1日", ("2027年1月29日",)),
        Bad(Picker("2026-12-06"), ("日曜日",)),
        Bad(Picker("2027-03-01"), ("2027年1月29日",)),
        Bad(Picker("2026-02-30"), ("日付として",)),
        Bad(Media("video"), ("動画", "文字で")),
        Good(Picker("2026-12-04"), "2026-12-04")),
    *on("put_place",
        Bad("海", ("選択肢",)),
        Bad(Forged("その他", "c", "99"), ("選択肢",)),
        Good(Tap("その他"), "other")),
    *on("put_place_detail",
        Bad("駐車場" * 34, ("100文字",)),
        Good("駐車場の入口の横", "駐車場の入口の横")),
    *on("name",
        Bad("川", ("2文字",)),
        Bad("　", ("2文字",)),  # only a (full-width) space
        Bad(f"番号は{MY_NUMBER}です", ("送らないでください", "番号を入れずに"), by_form=False),
        Good("川崎 太郎", "川崎 太郎")),
    *on("phone",  # the third failure adds the question's help and the section's contact
        Bad("044-123-456", ("けた数",)),
        Bad("1234567890", ("市外局番",)),  # ten digits, no leading 0
        Bad("12345", ("けた数",)),
        Bad("0120-12", ("けた数",)),
        Good("０９０－１２３４－５６７８", "090-1234-5678")),
    *on("note",
        Bad("段差" * 101, ("200文字",)),
        Bad("段差" * 600, ("200文字", "1200文字")),  # longer than any chat message the bot reads
        Bad(Media("audio"), ("音声",)),
        Bad(Media("file"), ("ファイル",)),
        Good("玄関前に段差があります", "玄関前に段差があります")),
])

# -- shobo_kunren_report: past-only date, multi-choice, number bounds, e-mail ------------------------
SHOBO = Walk("shobo_kunren_report", "shobo_kunren_report", [
    *on("building_name",
        Bad("ビ", ("2文字",)),
        Good("川崎〇〇ビル", "川崎〇〇ビル")),
    *on("building_postal",
        Bad("２１０", ("7けた",)),
        Bad("999-9999", ("見つかりません",)),
        Good("210-0004", check=lambda v: v["code"] == "2100004")),
    *on("building_address",
        Bad("宮本町のビル", ("番地",)),
        Good("1-1", "1-1")),
    *on("building_use",
        Bad("ビル", ("選択肢",)),
        Bad(Forged("事務所", "c", "-1"), ("選択肢",)),
        Good("飲食店", "restaurant")),
    *on("fire_manager", Good("防火 一郎", "防火 一郎")),
    *on("drill_date",
        Bad("明日", ("まだ来ていない",)),
        Bad("2025年1月1日", ("2025年11月30日",)),  # older than a year: says from when it can be
        Bad("9月31日", ("日付として",)),
        Bad(Picker("2026-12-24"), ("まだ来ていない",)),
        Good("11月20日", "2026-11-20")),
    *on("drill_types",
        Bad("避難、水泳", ("「水泳」", "選択肢")),
        Bad(Tap("決定"), ("1つ以上",)),
        Step(Tap("通報訓練")),
        Step(Tap("避難訓練")),
        Bad(Media("sticker"), ("選択肢",)),
        Good(Tap("決定"), ["report", "evacuate"])),
    *on("participants",
        Bad("たくさん", ("数字",)),
        Bad("0人", ("1人以上",)),
        Bad("10001人", ("10,000人以下",)),
        Bad("2.5人", ("整数",)),
        Good("約２５人", 25)),
    *on("content",
        Bad("火事", ("5文字",)),
        Bad("避難" * 251, ("500文字",)),
        Good("1階から出火を想定し、通報と避難を行った。", "1階から出火を想定し、通報と避難を行った。")),
    *on("issues", Good(Tap("なし"))),
    *on("reporter_name", Good("〇〇株式会社 総務課 川崎 太郎", "〇〇株式会社 総務課 川崎 太郎")),
    *on("reporter_phone",
        Bad("044-200-393", ("けた数",)),
        Good("+81 44-200-3939", "044-200-3939")),
    *on("reporter_email",
        Bad("bousai.example.co.jp", ("@",)),
        Bad("bousai@example", ("形が正しくありません",)),
        Bad("bousai@gmail.con", ("gmail.com",)),
        Good("ｂｏｕｓａｉ＠ｅｘａｍｐｌｅ．ｃｏ．ｊｐ", "bousai@example.co.jp")),
])

# -- shigen_shudan_kaishu: text pattern, date after another date, kg numbers, image ----------------
SHIGEN = Walk("shigen_shudan_kaishu", "shigen_shudan_kaishu", [
    *on("group_name", Good("宮本町内会", "宮本町内会")),
    *on("registration_no",
        Bad("いちにさん", ("数字",)),
        Bad("1" * 21, ("20文字",)),
        Good("1234", "1234")),
    *on("period_from",
        Bad("先月のどこか", ("日付として",)),
        Good("10月1日", "2026-10-01")),
    *on("period_to",
        Bad("9月30日", ("2026年10月1日", "より前")),
        Bad("明日", ("まだ来ていない",)),
        Good("10/31", "2026-10-31")),
    *on("newspaper_kg",
        Bad("たくさん", ("数字",)),
        Bad("-5kg", ("0kg以上",)),
        Bad("2,000,000kg", ("1,000,000kg以下",)),
        Bad("1.5kg", ("整数",)),
        Good("１２０ｋｇ", 120)),
    *on("magazine_kg", Good("８０キロ", 80)),
    *on("cardboard_kg", Good("60", 60)),
    *on("carton_kg", Good("5kg", 5)),
    *on("cloth_kg", Good("三十", 30)),
    *on("other_kg", Good("0", 0)),
    *on("recycler", Good("〇〇資源株式会社", "〇〇資源株式会社")),
    *on("slip_photo",
        Bad("伝票の写真です", ("写真",)),
        Bad(Media("sticker"), ("写真",)),
        Bad(Media("video"), ("写真",)),
        Bad(KAWASAKI, ("写真",)),
        Bad(Photo(stored=False), ("受け取れません",)),
        Good(Photo(), check=lambda v: v["content_ref"].startswith("upload:"))),
    *on("representative", Good("川崎 太郎", "川崎 太郎")),
    *on("phone", Good("09012345678", "090-1234-5678")),
])

# -- photo_consent: text patterns, exclusive multi-choice, yes/no, consent declined -----------------
PHOTO_CONSENT = Walk("photo_consent", "photo_consent", [
    *on("school",
        Bad("宮本", ("3文字",)),
        Bad("宮本小学校のこと", ("小学校",)),
        Good("川崎市立宮本小学校", "川崎市立宮本小学校")),
    *on("grade_class",
        Bad("二組", ("学年",)),
        Good("３年２組", "３年２組")),
    *on("child_name", Good("川崎 花子", "川崎 花子")),
    *on("uses",
        Bad("学校ホームページの写真、宇宙", ("「宇宙」", "選択肢")),
        Bad("決定", ("1つ以上",)),
        Step(Tap("学校ホームページの写真")),
        Step(Tap("学校だより・学年だより")),
        Good(Tap("決定"), ["website", "newsletter"])),
    *on("with_name",
        Bad("たぶん", ("名前ものせてよい", "名前はのせない")),
        Bad(Media("sticker"), ("名前ものせてよい",)),
        Good(Tap("名前はのせない"), False)),
    *on("guardian_name", Good("川崎 太郎", "川崎 太郎")),
    *on("agreement",
        Bad(Tap("同意しない"), ("進めることができません",)),
        Bad("まあね", ("同意する",)),
        Good(Tap("同意する"), True)),
])

# -- doro_koen_kasen_report: location (map or text), image, yes/no with own labels ----------------
DORO = Walk("doro_koen_kasen_report", "doro_koen_kasen_report", [
    *on("place_kind",
        Bad("山", ("選択肢",)),
        Good(Tap("公園"), "park")),
    *on("park_damage",
        Bad(Photo(), ("選択肢",)),
        Good("遊具", "遊具")),
    *on("location",
        Bad("駅", ("くわしく",)),
        Bad(TOKYO, ("川崎市の外",)),
        Bad(YOKOHAMA, ("川崎市の外",)),
        Bad(Media("sticker"), ("位置情報を送る",)),
        Good(KAWASAKI, check=lambda v: v["latitude"] == KAWASAKI.latitude and "川崎市" in v["address"])),
    *on("photo",
        Bad("写真はあとで", ("写真",)),
        Bad(Media("file"), ("写真",)),
        Good(Photo(), check=lambda v: v["content_ref"].startswith("upload:"))),
    *on("description",
        Bad("穴", ("5文字",)),
        Bad(f"穴の横に{MY_NUMBER}と書いた紙", ("送らないでください",), by_form=False),
        Good("歩道に直径30cmほどの穴があります", "歩道に直径30cmほどの穴があります")),
    *on("danger",
        Bad("たぶん", ("危ない", "すぐには危なくない")),
        Good(Tap("危ない"), True)),
    *on("wants_reply",
        Bad("どちらでも", ("希望する",)),
        Good("希望する", True)),
    *on("reporter_name", Good("川崎 太郎", "川崎 太郎")),
    *on("reporter_phone",
        Bad("4424432060", ("市外局番",)),
        Good("044-244-3206", "044-244-3206")),
])

# -- a test-only script for rules no shipped script uses ---------------------------------------
EXTRAS_ID = "bad_input_extras"
EXTRAS_TEXT = f"""
id: {EXTRAS_ID}
procedure_id: {EXTRAS_ID}
procedure_name: 入力チェックの確認（テスト用）
version: "1"
owner:
  section: テスト課
  phone: "044-000-0000"
intro: テスト用の手続きです。
slots:
  - id: visit_date
    type: date
    label: 来庁日
    prompt: 来庁する日を入力してください（平日のみ）。
    help: 土日・祝日・年末年始はお休みです。
    business_days_only: true
    max_days: 90
  - id: spot
    type: location
    label: 場所
    within: kawasaki
    prompt: 下の「位置情報を送る」ボタンで場所を送ってください。
    help: 地図で場所を選んでください。
  - id: topics
    type: multi_choice
    label: 相談したいこと
    prompt: 相談したいことを2つまで選んでください。
    help: 選び終わったら「決定」を押してください。
    choices: [住まい, 子育て, 介護]
    max_select: 2
  - id: first_visit
    type: yes_no
    label: はじめての相談
    prompt: はじめての相談ですか？
    help: 「はい」か「いいえ」でお答えください。
completion:
  message: "受け付けました。受付番号：{{receipt_no}}"
submission:
  notify: {{kind: log}}
"""

EXTRAS = Walk(EXTRAS_ID, "draft", [
    *on("visit_date",
        Bad("2027年1月11日", ("祝日", "成人の日")),  # jpholiday
        Bad(Picker("2027-01-11"), ("成人の日",)),
        Bad("12月5日", ("土曜日",)),
        Bad("12月29日", ("年末年始",)),
        Bad("2027年6月1日", ("2027年2月28日",)),  # beyond max_days
        Good("12月1日", "2026-12-01")),
    *on("spot",
        Bad("宮本町のあたり", ("位置情報を送る",)),
        Bad(TOKYO, ("川崎市の外",)),
        Bad(Photo(), ("位置情報を送る",)),
        Good(KAWASAKI, check=lambda v: v["longitude"] == KAWASAKI.longitude)),
    *on("topics",
        Bad("住まい、子育て、介護", ("2つまで",)),
        Good("住まいと介護", ["住まい", "介護"])),
    *on("first_visit",
        Bad("たぶん", ("「はい」か「いいえ」",)),
        Bad(Media("audio"), ("「はい」か「いいえ」",)),
        Good("うん", True)),
])

WALKS = [SODAIGOMI, SHOBO, SHIGEN, PHOTO_CONSENT, DORO, EXTRAS]
