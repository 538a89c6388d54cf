"""Dates in Japanese (今日, 明日, 来週の火曜, 12月3日, 令和7年12月3日, 2026-12-03 …) and date rules.

Rules (all optional, in the slot definition):
  min_days / max_days       window relative to today (negative min_days allows past dates)
  allowed_weekdays          e.g. [mon, tue, wed, thu, fri, sat]
  exclude_holidays          national holidays (jpholiday)
  exclude_periods           [{from: "12-29", to: "01-03", reason: 年末年始}] (may wrap the year end)
  business_days_only        shorthand: Mon–Fri, no holidays, no 12/29–1/3
  min_lead_days             at least N counted days between today and the date, where days listed in
  lead_skip_weekdays / lead_skip_holidays / lead_skip_periods are not counted
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any, ClassVar

import jpholiday

from bot.forms.slots.base import Answer, Ctx, Invalid, Ok, Outcome, QuickAction, SlotType, SpecProblem
from bot.forms.textnorm import kanji_to_int, nfkc

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAY_JA = "月火水木金土日"
_ERAS = {"令和": 2018, "r": 2018, "平成": 1988, "h": 1988}
_NUM = r"[0-9]+|[〇一二三四五六七八九十]+"


def _int(s: str) -> int | None:
    return int(s) if s.isdigit() else kanji_to_int(s)


def format_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日({WEEKDAY_JA[d.weekday()]})"


def short_date(d: date) -> str:
    return f"{d.month}月{d.day}日({WEEKDAY_JA[d.weekday()]})"


def _safe_date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _in_period(d: date, period: dict[str, Any]) -> bool:
    start = tuple(int(x) for x in str(period["from"]).split("-"))
    end = tuple(int(x) for x in str(period["to"]).split("-"))
    md = (d.month, d.day)
    if start <= end:
        return start <= md <= end
    return md >= start or md <= end


def parse_date(text: str, today: date, prefer: tuple[date, date] | None = None) -> date | None:
    """Read a Japanese date expression; `prefer` is the allowed window used to guess a missing year."""
    t = nfkc(text).lower()
    t = re.sub(r"[\s　]", "", t)
    t = re.sub(r"[(（][月火水木金土日](?:曜日?)?[)）]", "", t)  # 12月3日(木)
    t = re.sub(r"(?:でお願いします|でおねがいします|でお願い|にします|がいいです|です|まで|で|に|。|\.)+$", "", t)
    simple = {"今日": 0, "きょう": 0, "本日": 0, "明日": 1, "あした": 1, "あす": 1, "明後日": 2, "あさって": 2,
              "明々後日": 3, "しあさって": 3, "昨日": -1, "きのう": -1, "一昨日": -2, "おととい": -2}
    if t in simple:
        return today + timedelta(days=simple[t])
    m = re.fullmatch(rf"({_NUM})(日|週間)後", t)
    if m and (n := _int(m.group(1))) is not None:
        return today + timedelta(days=n * (7 if m.group(2) == "週間" else 1))
    m = re.fullmatch(r"(今週|来週|再来週|次|今度|次週)?の?([月火水木金土日])(?:曜日?|曜)?", t)
    if m and (m.group(1) or "曜" in t):
        wd = WEEKDAY_JA.index(m.group(2))
        week = m.group(1)
        if week in ("今週", "来週", "再来週"):
            monday = today - timedelta(days=today.weekday())
            offset = {"今週": 0, "来週": 7, "再来週": 14}[week]
            return monday + timedelta(days=offset + wd)
        ahead = (wd - today.weekday()) % 7 or 7
        return today + timedelta(days=ahead)
    m = re.fullmatch(rf"(令和|平成|r|h)(元|{_NUM})[年./-]({_NUM})[月./-]({_NUM})日?", t)
    if m:
        n = 1 if m.group(2) == "元" else _int(m.group(2))
        mo, d = _int(m.group(3)), _int(m.group(4))
        if n is None or mo is None or d is None:
            return None
        return _safe_date(_ERAS[m.group(1)] + n, mo, d)
    m = re.fullmatch(r"(\d{4})[年./-](\d{1,2})[月./-](\d{1,2})日?", t) or re.fullmatch(r"(\d{4})(\d{2})(\d{2})", t)
    if m:
        return _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = re.fullmatch(rf"(今月|来月)?({_NUM})[月/]({_NUM})日?", t) or re.fullmatch(rf"(今月|来月)({_NUM})日()", t)
    if m:
        if m.group(1):  # 今月3日 / 来月3日
            base = today.replace(day=1)
            if m.group(1) == "来月":
                base = (base + timedelta(days=32)).replace(day=1)
            d = _int(m.group(2))
            return None if d is None else _safe_date(base.year, base.month, d)
        mo, d = _int(m.group(2)), _int(m.group(3))
        if mo is None or d is None:
            return None
        return _guess_year(today, mo, d, prefer)
    m = re.fullmatch(rf"({_NUM})日", t)
    if m and (d := _int(m.group(1))) is not None:
        for months_ahead in (0, 1):
            base = today.replace(day=1) + timedelta(days=32 * months_ahead)
            cand = _safe_date(base.year, base.month, d)
            if cand and cand >= today:
                return cand
    return None


def _guess_year(today: date, month: int, day: int, prefer: tuple[date, date] | None) -> date | None:
    cands = [c for y in (today.year - 1, today.year, today.year + 1) if (c := _safe_date(y, month, day))]
    if not cands:
        return None
    if prefer:
        inside = [c for c in cands if prefer[0] <= c <= prefer[1]]
        if inside:
            return min(inside, key=lambda c: abs((c - today).days))
    future = [c for c in cands if c >= today]
    return min(future) if future else max(cands)


class DateRules:
    def __init__(self, slot: dict[str, Any], today: date, values: dict[str, Any] | None = None) -> None:
        self.today = today
        # `after_slot`: not before the date answered in another slot (e.g. a period's end)
        after = (values or {}).get(str(slot.get("after_slot"))) if slot.get("after_slot") else None
        self.after = date.fromisoformat(after) if isinstance(after, str) else None
        b = bool(slot.get("business_days_only"))
        self.allowed = set(slot.get("allowed_weekdays") or (WEEKDAYS[:5] if b else WEEKDAYS))
        self.no_holidays = bool(slot.get("exclude_holidays", b))
        self.periods = list(slot.get("exclude_periods") or ([{"from": "12-29", "to": "01-03", "reason": "年末年始"}] if b else []))
        self.lead = int(slot.get("min_lead_days", 0))
        self.lead_skip_wd = set(slot.get("lead_skip_weekdays") or [])
        self.lead_skip_hol = bool(slot.get("lead_skip_holidays", False))
        self.lead_skip_periods = list(slot.get("lead_skip_periods") or [])
        self.first = today + timedelta(days=int(slot.get("min_days", 0)))
        self.last = today + timedelta(days=int(slot.get("max_days", 365)))

    def _counted(self, d: date) -> bool:
        if WEEKDAYS[d.weekday()] in self.lead_skip_wd:
            return False
        if self.lead_skip_hol and jpholiday.is_holiday(d):
            return False
        return not any(_in_period(d, p) for p in self.lead_skip_periods)

    def lead_ok(self, d: date) -> bool:
        if self.lead <= 0:
            return True
        # "N days before, not counting …": counted days from today up to the day before `d`.
        count = 0
        cur = self.today
        while cur < d and count < self.lead:
            count += self._counted(cur)
            cur += timedelta(days=1)
        return count >= self.lead

    def problem(self, d: date) -> tuple[str, str] | None:
        """(reason, Japanese message) if `d` is not allowed, else None."""
        if d < self.first:
            if self.first < self.today:  # past dates are asked for, but not this far back
                return "too_old", f"受け付けられるのは{format_date(self.first)}以降の日です。"
            if d < self.today:
                return "past", f"{format_date(d)}はもう過ぎています。"
            return "too_early", f"{format_date(d)}は早すぎます。"
        if d > self.last:
            if self.last <= self.today:
                return "future", f"{format_date(d)}はまだ来ていない日です。すでに行った日を入力してください。"
            return "too_late", f"受け付けられるのは{format_date(self.last)}までです。"
        if self.after and d < self.after:
            return "before_other", f"{format_date(self.after)}より前の日は選べません。"
        if WEEKDAYS[d.weekday()] not in self.allowed:
            return "weekday", f"{WEEKDAY_JA[d.weekday()]}曜日は選べません。"
        if self.no_holidays and (name := jpholiday.is_holiday_name(d)):
            return "holiday", f"{format_date(d)}は祝日（{name}）のため選べません。"
        for p in self.periods:
            if _in_period(d, p):
                return "period", f"{format_date(d)}は{p.get('reason') or '受付できない期間'}のため選べません。"
        if not self.lead_ok(d):
            return "lead_time", f"{format_date(d)}は申込みの期限を過ぎています（{self.lead}日前までの申込みが必要です）。"
        return None

    def valid_dates(self, limit: int) -> list[date]:
        out: list[date] = []
        if self.last <= self.today:  # a past date is asked: the most recent days first
            d = self.last
            while d >= self.first and len(out) < limit:
                if self.problem(d) is None:
                    out.append(d)
                d -= timedelta(days=1)
            return out
        d = max(self.first, self.today)
        while d <= self.last and len(out) < limit:
            if self.problem(d) is None:
                out.append(d)
            d += timedelta(days=1)
        return out

    def latest_valid(self) -> date | None:
        d = self.last
        while d >= self.first:
            if self.problem(d) is None:
                return d
            d -= timedelta(days=1)
        return None


class DateType(SlotType):
    name = "date"
    accepts = frozenset({"text", "date"})
    options: ClassVar[frozenset[str]] = frozenset({
        "min_days", "max_days", "allowed_weekdays", "exclude_holidays", "exclude_periods", "business_days_only",
        "min_lead_days", "lead_skip_weekdays", "lead_skip_holidays", "lead_skip_periods", "rules_note", "suggest", "after_slot",
    })

    def parse(self, slot: dict[str, Any], answer: Answer, ctx: Ctx) -> Outcome:
        rules = DateRules(slot, ctx.today, ctx.values)
        d: date | None = None
        if answer.kind == "date":
            raw = answer.params.get("date") or (answer.params.get("datetime") or "")[:10]
            d = _safe_date(*map(int, raw.split("-"))) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw) else None
        elif answer.kind == "text" and answer.text:
            d = parse_date(answer.text, ctx.today, (rules.first, rules.last))
        else:
            return self.wrong_kind(answer.kind)
        if d is None:
            return Invalid("not_date", "日付として読み取れませんでした。")
        problem = rules.problem(d)
        if problem:
            reason, message = problem
            nxt = rules.valid_dates(1) if reason != "future" else [x for x in [rules.latest_valid()] if x]
            if nxt and reason in ("past", "too_early", "lead_time", "weekday", "holiday", "period"):
                message += f"\nいちばん早く選べる日は{format_date(nxt[0])}です。"
            if slot.get("rules_note"):
                message += f"\n（{slot['rules_note']}）"
            return Invalid(reason, message, example=short_date(nxt[0]) if nxt else None)
        return Ok(d.isoformat())

    def display(self, slot: dict[str, Any], value: Any) -> str:
        if not value:
            return ""
        return format_date(date.fromisoformat(value))

    def example(self, slot: dict[str, Any]) -> str:
        return str(slot.get("example") or "12月3日、明日、来週の火曜")

    def quick_actions(self, slot: dict[str, Any], ctx: Ctx) -> list[QuickAction]:
        rules = DateRules(slot, ctx.today, ctx.values)
        dates = rules.valid_dates(int(slot.get("suggest", 3)))
        acts: list[QuickAction] = [{"kind": "value", "label": short_date(d), "value": d.isoformat()} for d in dates]
        # The calendar starts at the first day the rules allow (lead time included); days it cannot
        # grey out (Sundays, holidays) are still refused politely with the next valid day.
        lo = dates[0] if dates else max(rules.first, date(2000, 1, 1))
        picker = {"kind": "datetimepicker", "label": "カレンダーで選ぶ", "min": lo.isoformat(),
                  "max": rules.last.isoformat(), "initial": (dates[0] if dates else lo).isoformat()}
        return [*acts, picker]

    def check(self, slot: dict[str, Any], script: Any) -> list[SpecProblem]:
        problems: list[SpecProblem] = []
        for key in ("exclude_periods", "lead_skip_periods"):
            for i, p in enumerate(slot.get(key) or []):
                for end in ("from", "to"):
                    v = str(p.get(end, "")) if isinstance(p, dict) else ""
                    ok = re.fullmatch(r"(\d{2})-(\d{2})", v) and _safe_date(2024, int(v[:2]), int(v[3:]))
                    if not ok:
                        problems.append((f"{key}[{i}].{end}", f"期間の日付「{v}」が「月-日」（例: 12-29）になっていません。",
                                         "12-29 のように2桁の月-日で書いてください。"))
        if int(slot.get("min_days", 0)) > int(slot.get("max_days", 365)):
            problems.append(("min_days", "min_days が max_days より大きく、選べる日がありません。",
                             "min_days を max_days 以下にしてください。"))
        return problems
