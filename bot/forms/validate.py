"""Checks a dialog script for staff: JSON Schema plus meaning, reported in Japanese with file:line.

Report line: `dialogs/x.yml:12: 何が問題か／直し方: どう直すか`
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from bot.forms.conditions import referenced_slots
from bot.forms.schema import SCHEMA, SLOT_PROPS
from bot.forms.script import Script, ScriptError
from bot.forms.slots import SLOT_TYPES
from bot.forms.slots.choice import choices
from bot.forms.templates import BUILTINS, PLACEHOLDER

COMMON_SLOT_KEYS = {"id", "type", "label", "prompt", "help", "example", "required", "personal", "summary", "when"}
SLOT_FIELDS = {
    "postal_code": {"code", "formatted", "prefecture", "city", "ward", "town", "address"},
    "item_list": {"total_yen"},
    "location": {"latitude", "longitude", "address", "title", "text"},
    "image": {"content_ref"},
}
GUIDE = "docs/dialog-scripts.md"


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    message: str
    fix: str
    severity: str = "error"  # "error" | "warning"

    def format(self) -> str:
        mark = "" if self.severity == "error" else "［注意］"
        return f"{self.path}:{self.line}: {mark}{self.message}／直し方: {self.fix}"


class _Lines:
    """Line numbers (1-based) of YAML nodes, looked up by a path such as ["slots", 2, "when"]."""

    def __init__(self, text: str) -> None:
        try:
            self.root = yaml.compose(text)
        except yaml.YAMLError:
            self.root = None

    def line(self, path: Iterable[Any], key: bool = True) -> int:
        node = self.root
        line = 1
        for part in path:
            if isinstance(node, yaml.MappingNode):
                found = None
                for k, v in node.value:
                    if k.value == part:
                        found = (k, v)
                        break
                if found is None:
                    return line
                line = found[0].start_mark.line + 1 if key else found[1].start_mark.line + 1
                node = found[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                return line
        return line


def _field_name(path: list[Any], data: Any = None) -> str:
    if not path:
        return "ファイルの一番上の階層"
    if path[0] == "slots" and len(path) > 1 and isinstance(path[1], int):
        slots = data.get("slots") if isinstance(data, dict) else None
        slot = slots[path[1]] if isinstance(slots, list) and path[1] < len(slots) else None
        sid = slot.get("id") if isinstance(slot, dict) else None
        head = f"{path[1] + 1}番目の質問" + (f"「{sid}」" if sid else "")
        return head + "".join(f" の {p}" for p in path[2:])
    return ".".join(str(p) for p in path)


def _schema_problems(data: dict[str, Any], rel: str, lines: _Lines) -> list[Problem]:
    problems: list[Problem] = []
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for err in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        path = list(err.absolute_path)
        name = _field_name(path, data)
        kind = err.validator
        if kind == "required":
            missing = re.findall(r"'([^']+)' is a required property", err.message)
            what = missing[0] if missing else "?"
            problems.append(Problem(rel, lines.line(path), f"{name} に必須の「{what}」がありません。",
                                    f"「{what}:」を書き足してください（書き方は {GUIDE}）。"))
        elif kind == "additionalProperties" and isinstance(err.instance, dict):
            allowed = set(err.schema.get("properties", {}))
            for extra in [k for k in err.instance if k not in allowed]:
                problems.append(Problem(rel, lines.line([*path, extra]), f"「{extra}」は使えない項目名です（つづり間違いかもしれません）。",
                                        "正しい項目名に直すか、その行を削除してください。"))
        elif kind == "enum" and path and path[-1] == "type":
            problems.append(Problem(rel, lines.line(path), f"質問の種類「{err.instance}」はありません。",
                                    "使える種類: " + ", ".join(sorted(SLOT_TYPES))))
        elif kind == "pattern" and path and path[-1] in ("id", "after_slot", "slot"):
            problems.append(Problem(rel, lines.line(path), f"ID「{err.instance}」に使えない文字があります。",
                                    "半角の英小文字・数字・_ で、英字から始めてください（例: collection_date）。"))
        elif kind == "maxLength" and path and path[-1] == "label":
            problems.append(Problem(rel, lines.line(path), f"label「{err.instance}」が長すぎます（LINEのボタンは20文字まで）。",
                                    "20文字以内に短くしてください。"))
        elif kind in ("minLength", "minItems"):
            problems.append(Problem(rel, lines.line(path), f"{name} が空です。", "内容を書いてください。"))
        elif kind == "type":
            problems.append(Problem(rel, lines.line(path), f"{name} の値の形が違います（{err.validator_value} が必要です）。",
                                    f"{GUIDE} の例と同じ形にしてください。"))
        elif kind == "oneOf" and "when" in path:
            problems.append(Problem(rel, lines.line(path), f"{name} の条件の書き方が正しくありません。",
                                    "{slot: 質問ID, equals: 値} のように、slot と比べ方（equals / in / filled など）を1つずつ書いてください。"))
        else:
            problems.append(Problem(rel, lines.line(path), f"{name} の書き方が正しくありません。",
                                    f"{GUIDE} の「{path[0] if path else '全体'}」の説明と例のとおりに書いてください"
                                    f"（検査の詳細: {err.message[:100]}）。"))
    return problems


def _check_condition_values(script: Script, cond: Any, slot_path: list[Any], rel: str, lines: _Lines,
                            ids: dict[str, dict[str, Any]]) -> list[Problem]:
    """A condition comparing with a value the referenced question can never have makes the slot unreachable."""
    problems: list[Problem] = []
    if not isinstance(cond, dict):
        return problems
    for key in ("all", "any"):
        for c in cond.get(key) or []:
            problems += _check_condition_values(script, c, slot_path, rel, lines, ids)
    if "not" in cond:
        problems += _check_condition_values(script, cond["not"], slot_path, rel, lines, ids)
    target = ids.get(str(cond.get("slot")))
    if not target:
        return problems
    wanted: list[Any] = []
    for op in ("equals", "contains"):
        if op in cond:
            wanted.append(cond[op])
    wanted += list(cond.get("in") or [])
    ttype = target.get("type")
    if ttype in ("choice", "multi_choice"):
        ok = {c["value"] for c in choices(target)} | {c["label"] for c in choices(target)}
    elif ttype in ("yes_no", "consent"):
        stype = SLOT_TYPES[str(ttype)]
        ok = {True, False, *stype.labels(target)}  # type: ignore[attr-defined]
    else:
        return problems
    for w in wanted:
        if w not in ok:
            problems.append(Problem(rel, lines.line([*slot_path, "when"]),
                                    f"条件の値「{w}」は、質問「{target['id']}」の答えになりません（この質問は決して表示されません）。",
                                    "選択肢の value か label（はい/いいえの質問なら true / false）を書いてください。"))
    return problems


def _template_problems(text: Any, where: list[Any], rel: str, lines: _Lines, ids: dict[str, dict[str, Any]],
                       answered_before: set[str] | None, allow_receipt: bool) -> list[Problem]:
    problems: list[Problem] = []
    if not isinstance(text, str):
        return problems
    for m in PLACEHOLDER.finditer(text):
        name, field = m.group(1), m.group(2)
        line = lines.line(where, key=False)
        if name in BUILTINS and field is None:
            if name == "receipt_no" and not allow_receipt:
                problems.append(Problem(rel, line, "{receipt_no}（受付番号）は完了メッセージの中でしか使えません。",
                                        "completion.message に移してください。"))
            continue
        if name not in ids:
            problems.append(Problem(rel, line, f"「{{{m.group(0)[1:-1]}}}」の「{name}」という質問はありません。",
                                    "質問の id を正しく書くか、使える名前（" + ", ".join(BUILTINS) + "）を使ってください。"))
            continue
        if field is not None:
            known = SLOT_FIELDS.get(str(ids[name].get("type")), set())
            if field not in known:
                problems.append(Problem(rel, line, f"「{m.group(0)}」の「.{field}」は、この種類の質問にはありません。",
                                        "使える項目: " + (", ".join(sorted(known)) or "（なし。{" + name + "} だけにしてください）")))
        if answered_before is not None and name not in answered_before:
            problems.append(Problem(rel, line, f"「{m.group(0)}」はまだ答えていない質問を使っています。",
                                    "その質問より後の質問の文章で使ってください。"))
    return problems


def _meaning_problems(script: Script, rel: str, lines: _Lines) -> list[Problem]:
    problems: list[Problem] = []
    data = script.data
    raw_slots = data.get("slots") or []
    ids: dict[str, dict[str, Any]] = {}
    order: dict[str, int] = {}
    for i, slot in enumerate(raw_slots):
        if not isinstance(slot, dict):
            continue
        sid = str(slot.get("id"))
        path = ["slots", i]
        if sid in ids:
            problems.append(Problem(rel, lines.line([*path, "id"]), f"質問の id「{sid}」が2回使われています。",
                                    "どちらかの id を別の名前にしてください。"))
            continue
        ids[sid] = slot
        order[sid] = i

    answered: set[str] = set()
    for i, slot in enumerate(raw_slots):
        if not isinstance(slot, dict):
            continue
        sid = str(slot.get("id"))
        path = ["slots", i]
        stype = SLOT_TYPES.get(str(slot.get("type")))
        if stype is not None:
            for key in slot:
                if key not in COMMON_SLOT_KEYS and key in SLOT_PROPS and key not in stype.options:
                    problems.append(Problem(rel, lines.line([*path, key]),
                                            f"「{key}」は {stype.name} の質問では使えない設定です。",
                                            f"削除するか、{GUIDE} の「{stype.name}」の設定を確認してください。"))
            for key, message, fix in stype.check(slot, script):
                head = re.split(r"[.\[]", key)[0]
                problems.append(Problem(rel, lines.line([*path, head]), f"質問「{sid}」: {message}", fix))
        if not slot.get("label"):
            problems.append(Problem(rel, lines.line(path), f"質問「{sid}」に label（短い項目名）がありません。",
                                    "確認画面と修正ボタンに出る20文字以内の名前を label: に書いてください。", "warning"))
        for ref in referenced_slots(slot.get("when")):
            if ref not in ids:
                problems.append(Problem(rel, lines.line([*path, "when"]), f"条件 when の「{ref}」という質問はありません。",
                                        "条件に使う質問の id を正しく書いてください。"))
            elif order[ref] >= i:
                problems.append(Problem(rel, lines.line([*path, "when"]),
                                        f"条件 when が、この質問より後（または自分自身）の「{ref}」を使っています。この質問は表示されません。",
                                        "条件には、この質問より前にある質問だけを使ってください。"))
        problems += _check_condition_values(script, slot.get("when"), path, rel, lines, ids)
        after = slot.get("after_slot")
        if after and (after not in ids or order[after] >= i or ids[after].get("type") != "date"):
            problems.append(Problem(rel, lines.line([*path, "after_slot"]), f"after_slot「{after}」は、前にある日付の質問ではありません。",
                                    "この質問より前にある date の質問の id を書いてください。"))
        for key in ("prompt", "help"):
            problems += _template_problems(slot.get(key), [*path, key], rel, lines, ids, set(answered), False)
        answered.add(sid)

    problems += _template_problems(data.get("intro"), ["intro"], rel, lines, ids, set(), False)
    conf = data.get("confirmation") or {}
    for key in ("title", "note"):
        problems += _template_problems(conf.get(key), ["confirmation", key], rel, lines, ids, None, False)
    completion = (data.get("completion") or {}).get("message")
    problems += _template_problems(completion, ["completion", "message"], rel, lines, ids, None, True)
    if isinstance(completion, str) and "{receipt_no}" not in completion:
        problems.append(Problem(rel, lines.line(["completion", "message"]), "完了メッセージに受付番号 {receipt_no} がありません。",
                                "completion.message に「受付番号：{receipt_no}」を入れてください。"))
    owner = data.get("owner") or {}
    if isinstance(owner, dict) and not any(owner.get(k) for k in ("phone", "email", "contact")):
        problems.append(Problem(rel, lines.line(["owner"]), "担当の連絡先（phone / email / contact）がありません。",
                                "困ったときに案内する電話番号などを owner に書いてください。"))
    if script.path and Path(script.path).stem != script.id:
        problems.append(Problem(rel, lines.line(["id"]), f"ファイル名と id「{script.id}」が違います。",
                                f"ファイル名を {script.id}.yml にするか、id をファイル名に合わせてください。", "warning"))
    return problems


def validate_text(text: str, path: str = "<text>", *, base_dir: str | Path | None = None,
                  table_texts: dict[str, str] | None = None) -> tuple[Script | None, list[Problem]]:
    """Parse and check one script. Returns the script (None if unreadable) and every problem found."""
    rel = path
    try:
        script = Script.from_text(text, path=path, base_dir=base_dir, table_texts=table_texts)
    except ScriptError as exc:
        return None, [Problem(rel, exc.line or 1, str(exc), "YAML の字下げ（スペース）や「:」の後の空白を確認してください。")]
    lines = _Lines(text)
    problems = _schema_problems(script.data, rel, lines)
    try:
        problems += _meaning_problems(script, rel, lines)
    except Exception as exc:  # a broken shape the schema already reported; never crash the report
        if not problems:
            problems.append(Problem(rel, 1, f"内容を確認できませんでした（{exc}）。", f"{GUIDE} の例と見比べてください。"))
    problems.sort(key=lambda p: (p.line, p.severity))
    return script, problems


def validate_file(path: str | Path, base_dir: str | Path | None = None) -> tuple[Script | None, list[Problem]]:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(str(path), 1, f"ファイルを読めません（{exc}）。", "UTF-8 のテキストファイルか確認してください。")]
    return validate_text(text, str(path), base_dir=base_dir if base_dir is not None else p.parent)


def script_files(paths: Iterable[str | Path]) -> list[Path]:
    """Scripts named by `paths` (a directory means its *.yml / *.yaml, not its data/ tables)."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out += sorted(q for q in p.iterdir() if q.suffix in (".yml", ".yaml") and q.is_file())
        else:
            out.append(p)
    return out


def has_errors(problems: Iterable[Problem]) -> bool:
    return any(p.severity == "error" for p in problems)
