"""Hypothesis strategies for LINE webhook bodies, built from webhook.yml, and their hostile mutations.

`valid_event()` / `valid_body()` walk the OpenAPI component schemas (``$ref``, ``allOf``, the
``discriminator`` mappings, enums, formats) so every event type LINE documents is generated; a few
property names get realistic values (user ids, ULIDs, timestamps, hostile texts). `mutated_body()`
then damages a valid body the ways the issue lists. `encode()` turns a payload into bytes
in one of several encodings (UTF-8, ASCII-escaped, CESU-like invalid UTF-8).
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
WEBHOOK_YML = ROOT / "integrations" / "line" / "openapi" / "webhook.yml"
_PREFIX = "#/components/schemas/"

# Characters that break naive text handling: NUL and controls, ZWJ sequences, RTL overrides,
# BOM, combining marks, full-width and half-width kana, astral emoji, and lone surrogates
# (which only survive as JSON \u escapes).
HOSTILE_CHARS = [
    "\x00", "\x01", "\x1b", "\x7f", "\u0085", "\u2028", "\u2029", "\u200b", "\u200c", "\u200d", "\u200e",
    "\u200f", "\u202a", "\u202e", "\u2066", "\u2069", "\ufeff", "\ufffd", "\ufe0f", "\u0301", "\u3000",
    "ｶﾞ", "ガ", "川崎", "𠮷", "👨\u200d👩\u200d👧\u200d👦", "🏳️\u200d🌈", "👍🏽", "🇯🇵", "\U0010ffff",
    "\ud800", "\udfff", "\\", '"', "'", "<script>", "%s", "{0}", "\r\n", "\t", " ",
]
USER_IDS = ["U" + f"{i:x}" * 32 for i in range(1, 4)]
EVENT_TYPES = ["message", "unsend", "follow", "unfollow", "join", "leave", "memberJoined", "memberLeft",
               "postback", "videoPlayComplete", "beacon", "accountLink", "membership", "module", "activated",
               "deactivated", "botSuspended", "botResumed", "delivery"]

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@cache
def schemas() -> dict[str, dict[str, Any]]:
    return yaml.safe_load(WEBHOOK_YML.read_text("utf-8"))["components"]["schemas"]


def _ref_name(node: dict[str, Any]) -> str | None:
    ref = node.get("$ref")
    return ref.removeprefix(_PREFIX) if isinstance(ref, str) else None


def _flatten(name: str) -> tuple[dict[str, Any], set[str]]:
    """Properties and required names of a schema, following allOf (a base's own part only)."""
    node = schemas()[name]
    props: dict[str, Any] = dict(node.get("properties") or {})
    required = set(node.get("required") or [])
    for part in node.get("allOf") or []:
        ref = _ref_name(part)
        p, r = _flatten(ref) if ref else (dict(part.get("properties") or {}), set(part.get("required") or []))
        props.update(p)
        required |= r
    return props, required


def _discriminator_of(name: str) -> tuple[str, dict[str, str]] | None:
    disc = schemas()[name].get("discriminator")
    if not disc:
        return None
    return disc["propertyName"], {v: r.removeprefix(_PREFIX) for v, r in (disc.get("mapping") or {}).items()}


@cache
def _pins() -> dict[str, dict[str, str]]:
    """A sub-schema named in a discriminator mapping always carries its mapped value."""
    out: dict[str, dict[str, str]] = {}
    for name in schemas():
        disc = _discriminator_of(name)
        if disc:
            for value, target in disc[1].items():
                out.setdefault(target, {disc[0]: value})
    return out


# ---------------------------------------------------------------------------------------- texts
@st.composite
def hostile_text(draw, max_len: int = 20_000) -> str:
    """0 to max_len characters mixing Japanese, emoji/ZWJ, RTL, NUL and lone surrogates."""
    length = draw(st.one_of(st.sampled_from([0, 1, 2, 1000, 1001, 5000, max_len]), st.integers(0, max_len)))
    unit = draw(st.lists(st.one_of(st.sampled_from(HOSTILE_CHARS), st.characters(), st.sampled_from("あ粗大ごみ 0A")),
                         min_size=1, max_size=6))
    piece = "".join(unit)
    return (piece * (length // max(len(piece), 1) + 1))[:length]


def plain_text() -> st.SearchStrategy[str]:
    return st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


def _ulid() -> st.SearchStrategy[str]:
    return st.text(st.sampled_from(_CROCKFORD), min_size=26, max_size=26).map(lambda s: "01" + s[2:])


def _overrides(now_ms: int) -> dict[str, st.SearchStrategy[Any]]:
    """Realistic values for property names whose OpenAPI type alone says little."""
    hexid = st.text(st.sampled_from("0123456789abcdef"), min_size=32, max_size=32)
    return {
        "destination": hexid.map(lambda h: "U" + h),
        "userId": st.one_of(st.sampled_from(USER_IDS), hexid.map(lambda h: "U" + h)),
        "groupId": hexid.map(lambda h: "C" + h),
        "roomId": hexid.map(lambda h: "R" + h),
        "webhookEventId": _ulid(),
        "timestamp": st.integers(now_ms - 60_000, now_ms),
        "replyToken": hexid,
        "text": st.one_of(plain_text(), hostile_text(2_000)),
        "data": st.one_of(st.sampled_from(["action=menu", "action=handoff&proc=juminhyo_copy", ""]), plain_text()),
        "id": st.integers(10**17, 10**18 - 1).map(str),
        "latitude": st.floats(-90, 90, allow_nan=False),
        "longitude": st.floats(-180, 180, allow_nan=False),
    }


# ---------------------------------------------------------------------------------------- schemas
class SchemaStrategies:
    """Strategies for the component schemas of webhook.yml (valid instances)."""

    def __init__(self, now_ms: int | None = None) -> None:
        self.now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
        self.overrides = _overrides(self.now_ms)
        self._memo: dict[str, st.SearchStrategy[Any]] = {}

    def named(self, name: str) -> st.SearchStrategy[Any]:
        if name not in self._memo:
            self._memo[name] = st.deferred(lambda: self._build(name))
        return self._memo[name]

    def _build(self, name: str) -> st.SearchStrategy[Any]:
        disc = _discriminator_of(name)
        if disc is not None:  # a base: one of its mapped sub-schemas, each pinned to its value
            prop, mapping = disc
            return st.one_of([self._object(target, pinned={prop: value}) for value, target in mapping.items()])
        node = schemas()[name]
        if "properties" in node or "allOf" in node:
            return self._object(name, pinned=_pins().get(name))
        return self.node(node, None)

    def _object(self, name: str, pinned: dict[str, str] | None = None) -> st.SearchStrategy[dict]:
        props, required = _flatten(name)
        pinned = pinned or {}
        need = {k: st.just(v) for k, v in pinned.items()}
        optional: dict[str, st.SearchStrategy[Any]] = {}
        for prop, node in props.items():
            if prop in need:
                continue
            strategy = self.node(node, prop)
            (need if prop in required else optional)[prop] = strategy
        return st.fixed_dictionaries(need, optional=optional)

    def node(self, node: dict[str, Any], prop: str | None) -> st.SearchStrategy[Any]:
        ref = _ref_name(node)
        if ref:
            return self.named(ref)
        if prop in self.overrides and node.get("type") in ("string", "integer", "number"):
            limit = node.get("maxLength")
            return self.overrides[prop].map(lambda v: v[:limit]) if limit else self.overrides[prop]
        if "enum" in node:
            return st.sampled_from(node["enum"])
        kind = node.get("type")
        if kind == "string":
            if node.get("format") == "uri":
                return st.sampled_from(["https://example.com/a.jpg", "https://obs.line-apps.com/x"])
            return st.text(st.characters(blacklist_categories=("Cs",)),
                           min_size=node.get("minLength", 0), max_size=min(node.get("maxLength", 20), 20))
        if kind == "integer":
            lo, hi = node.get("minimum", 0), node.get("maximum", 2**31 - 1)
            return st.integers(lo, hi)
        if kind == "number":
            return st.floats(node.get("minimum", -1e6), node.get("maximum", 1e6), allow_nan=False)
        if kind == "boolean":
            return st.booleans()
        if kind == "array":
            return st.lists(self.node(node.get("items") or {}, None), min_size=node.get("minItems", 0),
                            max_size=min(node.get("maxItems", 3), 3))
        if kind == "object" or "additionalProperties" in node:
            extra = node.get("additionalProperties")
            values = self.node(extra, None) if isinstance(extra, dict) else st.just("x")
            return st.dictionaries(st.sampled_from(["date", "time", "datetime", "status", "x"]), values, max_size=3)
        return st.none()

    def event(self, event_type: str | None = None) -> st.SearchStrategy[dict]:
        if event_type is None:
            return self.named("Event")
        prop, mapping = _discriminator_of("Event")  # type: ignore[misc]
        return self._object(mapping[event_type], pinned={prop: event_type})

    def body(self, events: st.SearchStrategy[list[dict]] | None = None) -> st.SearchStrategy[dict]:
        events = events if events is not None else st.lists(self.event(), max_size=5)
        return st.fixed_dictionaries({"destination": self.overrides["destination"], "events": events})


# ---------------------------------------------------------------------------------------- mutations
JSON_JUNK = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False, allow_infinity=False),
              plain_text(), st.sampled_from(["", "\x00", "\ud800", "NaN", "0", "[]", "{}"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(plain_text(), inner, max_size=3)),
    max_leaves=8,
)
BIG_VALUES = st.sampled_from([10**400, 10**30, -(10**30), 2**63, -1, 0, 1e308, -1e308, 1.5, True, False, None, "", [], {}])


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (tuple of keys / indexes) to a value inside a JSON document, except the root."""
    out: list[tuple] = []
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return out
    for key, child in items:
        out.append((*prefix, key))
        out += _paths(child, (*prefix, key))
    return out


def _get(doc: Any, path: tuple) -> Any:
    for key in path:
        doc = doc[key]
    return doc


MUTATIONS = ("drop", "extra", "wrong_type", "big_value", "unknown_type", "duplicate_event", "hostile_text",
             "nul_key", "swap_events")


@st.composite
def mutate(draw, body: dict) -> tuple[dict, list[str]]:
    """Apply one to three random mutations to a copy of a (valid) body; returns it and their names."""
    doc = copy.deepcopy(body)
    applied: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(MUTATIONS))
        paths = _paths(doc)
        if name in ("drop", "extra", "wrong_type", "big_value") and not paths:
            name = "extra"
        if name == "drop":
            path = draw(st.sampled_from(paths))
            parent = _get(doc, path[:-1])
            del parent[path[-1]]
        elif name == "extra":
            containers = [()] + [p for p in paths if isinstance(_get(doc, p), dict)]
            target = _get(doc, draw(st.sampled_from(containers)))
            target[draw(st.sampled_from(["extra", "type2", "__proto__", "x" * 300, ""]))] = draw(JSON_JUNK)
        elif name in ("wrong_type", "big_value"):
            path = draw(st.sampled_from(paths))
            _get(doc, path[:-1])[path[-1]] = draw(JSON_JUNK if name == "wrong_type" else BIG_VALUES)
        elif name == "unknown_type":
            typed = [p for p in paths if p[-1] == "type"]
            if typed:
                path = draw(st.sampled_from(typed))
                _get(doc, path[:-1])["type"] = draw(st.sampled_from(["hologram", "", "MESSAGE", "text ", "null"]))
        elif name == "duplicate_event" and doc.get("events"):
            events = doc["events"]
            events.append(copy.deepcopy(events[draw(st.integers(0, len(events) - 1))]))
        elif name == "hostile_text":
            texts = [p for p in paths if isinstance(_get(doc, p), str)]
            if texts:
                path = draw(st.sampled_from(texts))
                _get(doc, path[:-1])[path[-1]] = draw(hostile_text())
        elif name == "nul_key":
            doc["events\x00"] = doc.get("events")
        elif name == "swap_events":
            doc["events"] = draw(st.sampled_from([None, {}, "[]", 0, [[]], [None], [1, "a"]]))
        applied.append(name)
    return doc, applied


# ---------------------------------------------------------------------------------------- encoding
ENCODINGS = ("utf8", "ascii_escaped", "surrogatepass", "pretty_bom")


def encode(payload: Any, how: str = "utf8") -> bytes:
    """JSON bytes; lone surrogates become \\u escapes (ascii) or invalid UTF-8 (surrogatepass)."""
    if how == "ascii_escaped":
        return json.dumps(payload, ensure_ascii=True).encode("ascii")
    if how == "pretty_bom":
        return b"\xef\xbb\xbf" + json.dumps(payload, ensure_ascii=False, indent=1).encode("utf-8", "surrogatepass")
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        if how == "surrogatepass":
            return text.encode("utf-8", "surrogatepass")
        return json.dumps(payload, ensure_ascii=True).encode("ascii")


@dataclass(frozen=True)
class Hostile:
    """A body that is not a JSON document LINE would send (non-JSON, invalid UTF-8, deep nesting, huge)."""

    family: str
    body: bytes

    def __repr__(self) -> str:  # hypothesis prints this for a failing example: keep it readable
        head = self.body[:120]
        return f"Hostile({self.family!r}, {len(self.body)} bytes, starts {head!r})"


def nested(depth: int, opener: str = "[") -> bytes:
    closer = "]" if opener == "[" else "}"
    inner = '"a":' if opener == "{" else ""
    return ('{"destination":"U' + "0" * 32 + '","events":[{"type":"message","x":'
            + (opener + inner) * depth + "1" + closer * depth + "}]}").encode()


@st.composite
def raw_junk(draw) -> Hostile:
    """Bodies that are not well-formed webhook JSON at all."""
    family = draw(st.sampled_from(["non_json", "invalid_utf8", "deep_nesting", "truncated_json", "empty",
                                   "json_scalar", "huge_number"]))
    if family == "non_json":
        body = draw(st.one_of(st.binary(max_size=200), st.sampled_from([
            b"events=1&destination=x", b"<xml/>", b"{'events': []}", b"{events:[]}", b"\x00" * 64, b"NaN",
            b'{"events":[]} trailing', b"\xff\xfe{\x00}\x00"])))
    elif family == "invalid_utf8":
        good = b'{"destination":"U' + b"0" * 32 + b'","events":[{"type":"message","message":{"type":"text","text":"'
        body = good + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf",
                                            b"\xe3\x81"])) + b'"}}]}'
    elif family == "deep_nesting":
        depth = draw(st.sampled_from([64, 65, 500, 900, 950, 960, 970, 975, 980, 985, 990, 1000, 5000, 100_000]))
        body = nested(depth, draw(st.sampled_from(["[", "{"])))
    elif family == "truncated_json":
        whole = b'{"destination":"U' + b"0" * 32 + b'","events":[{"type":"message","message":{"type":"text"}}]}'
        body = whole[: draw(st.integers(1, len(whole) - 1))]
    elif family == "empty":
        body = draw(st.sampled_from([b"", b" ", b"\n", b"{}", b'{"events":[]}']))
    elif family == "json_scalar":
        body = draw(st.sampled_from([b"null", b"0", b"true", b'"events"', b"[]", b"[{}]", b"1e999"]))
    else:  # numbers Python parses slowly or refuses (int > 4300 digits)
        digits = draw(st.sampled_from([20, 400, 4300, 4301, 100_000]))
        body = b'{"events":[{"type":"message","timestamp":1' + b"0" * digits + b"}]}"
    return Hostile(family, body)

