"""Validation of Messaging API requests and webhook bodies against LINE's own OpenAPI specs.

The vendored specs (``openapi/messaging-api.yml``, ``openapi/webhook.yml``) are OpenAPI 3.0, which
is not plain JSON Schema.  They are translated once into JSON Schema (draft 4 semantics, which is
what OpenAPI 3.0 schemas are based on) and compiled into ``jsonschema`` validators:

- ``$ref`` is resolved at load time by inlining (a possibly cyclic graph of dicts), so validation
  never pays for reference lookups;
- ``nullable: true`` becomes ``type: [T, "null"]`` (and ``null`` joins an ``enum``);
- ``discriminator`` is enforced by a custom keyword: the value of the discriminating property
  selects the mapped schema, and an unknown value is an error.  Sub-schemas that pull in their
  base through ``allOf`` get the base without the discriminator (otherwise it would recurse), and
  each mapped schema pins the discriminating property to its mapping value(s);
- ``format`` is checked for ``uri``, ``uuid``, ``int32``, ``int64`` and ``date-time``; documentation
  keywords (``description``, ``example``, ``externalDocs``, ``x-*``) are dropped.

LINE's published OpenAPI files leave out several limits that the Messaging API reference documents
and the real API enforces (e.g. a quick-reply or template action label is at most 20 characters, a
buttons template has at most 4 actions).  Those are added as a small, explicit overlay (``DOCUMENTED_LIMITS``), each taken
from the LINE Messaging API reference; pass ``documented_limits=False`` to validate against the
bare OpenAPI file only.
"""

from __future__ import annotations

import copy
import functools
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

import yaml
from jsonschema import Draft4Validator, FormatChecker, ValidationError, validators

__all__ = [
    "DOCUMENTED_LIMITS",
    "Operation",
    "SpecError",
    "UnknownOperationError",
    "find_operation",
    "messaging_operations",
    "reference_errors",
    "validate_messaging_request",
    "validate_messaging_schema",
    "validate_webhook_body",
    "validate_webhook_event",
    "warm_up",
]

_SCHEMA_PREFIX = "#/components/schemas/"
# Keywords that carry validation meaning in an OpenAPI 3.0 Schema Object (others are dropped).
_KEEP = frozenset(
    {
        "type", "enum", "required", "minItems", "maxItems", "uniqueItems", "minLength", "maxLength",
        "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
        "minProperties", "maxProperties", "format",
    }
)
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf")


@dataclass(frozen=True, slots=True)
class SpecError:
    """One violation: a human readable message and where it is, as a JSON pointer."""

    message: str
    pointer: str  # JSON pointer into the validated body, "" for the root, e.g. "/messages/0/text"

    @property
    def line_property(self) -> str:
        """The location as LINE writes it in ``details[].property``, e.g. ``messages[0].text``."""
        out = ""
        for raw in self.pointer.split("/")[1:]:
            part = raw.replace("~1", "/").replace("~0", "~")
            out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
        return out

    def as_detail(self) -> dict[str, str]:
        """The entry for LINE's error body ``details`` list."""
        return {"message": self.message, "property": self.line_property}


class UnknownOperationError(LookupError):
    """No operation in messaging-api.yml matches the method and path."""


@dataclass(frozen=True, slots=True)
class Operation:
    method: str  # upper case
    path: str  # the spec's template, e.g. "/v2/bot/message/{messageId}/content"
    operation_id: str
    body_schema: str | None  # component schema name of an application/json request body
    body_required: bool
    host: str  # "api" or "api-data"


# --------------------------------------------------------------------------------------------
# Documented limits missing from the OpenAPI files (LINE Messaging API reference,
# https://developers.line.biz/en/reference/messaging-api/ ; anchors in the comments).
# Each entry is merged into the named component schema before compilation.
# --------------------------------------------------------------------------------------------
_LABEL_20: dict[str, Any] = {"properties": {"label": {"maxLength": 20}}}
DOCUMENTED_LIMITS: dict[str, dict[str, dict[str, Any]]] = {
    "messaging-api": {
        # #text-message: "Max character limit: 5000"
        "TextMessage": {"properties": {"text": {"maxLength": 5000}}},
        "TextMessageV2": {"properties": {"text": {"maxLength": 5000}}},
        # #quick-reply: items is required; #items-object: type "action" and action are required
        "QuickReply": {"required": ["items"]},
        # #action-objects, label specifications: max 20 characters on quick reply buttons, template
        # buttons and rich menu areas, 12 in image carousels, 40 on Flex Message buttons.
        "QuickReplyItem": {"required": ["type", "action"], "properties": {
            "type": {"enum": ["action"]}, "action": _LABEL_20}},
        "RichMenuArea": {"properties": {"action": _LABEL_20}},
        "FlexButton": {"properties": {"action": {"properties": {"label": {"maxLength": 40}}}}},
        # #message-action: text required, max 300
        "MessageAction": {"required": ["text"], "properties": {"text": {"maxLength": 300}}},
        # #postback-action: data required (max 300 is in the spec); displayText max 300
        "PostbackAction": {"required": ["data"], "properties": {"displayText": {"maxLength": 300}}},
        # #uri-action: uri required, max 1000
        "URIAction": {"required": ["uri"], "properties": {"uri": {"maxLength": 1000}}},
        # #datetime-picker-action: data and mode required
        "DatetimePickerAction": {"required": ["data", "mode"]},
        # #template-messages: altText max 400; #flex-message / #imagemap-message: altText max 1500
        "TemplateMessage": {"properties": {"altText": {"maxLength": 400}}},
        "FlexMessage": {"properties": {"altText": {"maxLength": 1500}}},
        "ImagemapMessage": {"properties": {"altText": {"maxLength": 1500}}},
        # #buttons: actions max 4, title max 40, text max 160
        "ButtonsTemplate": {
            "properties": {
                "actions": {"minItems": 1, "maxItems": 4, "items": _LABEL_20},
                "title": {"maxLength": 40},
                "text": {"maxLength": 160},
            }
        },
        # #confirm: exactly 2 actions, text max 240
        "ConfirmTemplate": {
            "properties": {"actions": {"minItems": 2, "maxItems": 2, "items": _LABEL_20}, "text": {"maxLength": 240}}
        },
        # #carousel: columns max 10; #column-object-for-carousel: actions max 3, title 40, text 120
        "CarouselTemplate": {"properties": {"columns": {"minItems": 1, "maxItems": 10}}},
        "CarouselColumn": {
            "properties": {
                "actions": {"minItems": 1, "maxItems": 3, "items": _LABEL_20},
                "title": {"maxLength": 40},
                "text": {"maxLength": 120},
            }
        },
        # #image-carousel: columns max 10; #column-object-for-image-carousel: action label max 12
        "ImageCarouselTemplate": {"properties": {"columns": {"minItems": 1, "maxItems": 10}}},
        "ImageCarouselColumn": {"properties": {"action": {"properties": {"label": {"maxLength": 12}}}}},
        # #f-carousel: max 12 bubbles
        "FlexCarousel": {"properties": {"contents": {"minItems": 1, "maxItems": 12}}},
        # the spec's own description: "It must be a multiple of 5"
        "ShowLoadingAnimationRequest": {"properties": {"loadingSeconds": {"multipleOf": 5}}},
    },
    "webhook": {},
}


# --------------------------------------------------------------------------------------------
# Loading and translating
# --------------------------------------------------------------------------------------------
@functools.cache
def _load_document(name: str) -> dict[str, Any]:
    text = resources.files("integrations.line").joinpath("openapi", f"{name}.yml").read_text("utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)


def _merge_limits(schema: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Add ``extra`` constraints to a raw component schema (properties may live under allOf)."""
    schema = copy.deepcopy(schema)
    target = schema
    if "allOf" in schema and "properties" not in schema:
        # Sub-schemas declare their own properties in the last allOf entry.
        target = schema["allOf"][-1]
    for key, value in extra.items():
        if key == "required":
            schema["required"] = sorted(set(schema.get("required", [])) | set(value))
        elif key == "properties":
            props = target.setdefault("properties", {})
            for prop, limits in value.items():
                props[prop] = {"allOf": [props[prop], limits]} if prop in props else limits
        else:
            schema[key] = value
    return schema


class _Translator:
    """OpenAPI 3.0 component schemas -> inlined JSON Schema dicts (draft 4 semantics)."""

    def __init__(self, raw: dict[str, dict[str, Any]]):
        self.raw = raw
        self.out: dict[str, dict[str, Any]] = {}
        # base name -> (property name, {value: target name})
        self.discriminated: dict[str, tuple[str, dict[str, str]]] = {}
        # target name -> (base name, property name, values)
        self.targets: dict[str, tuple[str, str, list[str]]] = {}
        for name, schema in raw.items():
            disc = schema.get("discriminator")
            if not disc:
                continue
            prop = disc["propertyName"]
            mapping = {
                value: ref.removeprefix(_SCHEMA_PREFIX) for value, ref in (disc.get("mapping") or {}).items()
            }
            self.discriminated[name] = (prop, mapping)
            for value, target in mapping.items():
                entry = self.targets.setdefault(target, (name, prop, []))
                entry[2].append(value)
        # Create every output dict first so refs can be wired to them (cycles are fine).
        for name in raw:
            self.out[name] = {}
            if name in self.discriminated:
                self.out[name + "__base"] = {}
        for name, schema in raw.items():
            self._fill(name, schema)

    def _fill(self, name: str, schema: dict[str, Any]) -> None:
        if name in self.discriminated:
            prop, mapping = self.discriminated[name]
            self.out[name + "__base"].update(self._schema(schema, context=name))
            dispatch = {value: self.out[target] for value, target in mapping.items()}
            self.out[name].update(
                {
                    "type": "object",
                    "required": [prop],
                    "discriminator": {"propertyName": prop, "mapping": dispatch, "name": name},
                }
            )
            return
        translated = self._schema(schema, context=name)
        if name in self.targets:
            _, prop, values = self.targets[name]
            translated = {"allOf": [translated, {"properties": {prop: {"enum": list(values)}}}]}
        self.out[name].update(translated)

    def _ref(self, ref: str, context: str | None, in_all_of: bool) -> dict[str, Any]:
        if not ref.startswith(_SCHEMA_PREFIX):
            raise ValueError(f"unsupported $ref {ref}")
        name = ref.removeprefix(_SCHEMA_PREFIX)
        if in_all_of and context in self.targets and self.targets[context][0] == name:
            return self.out[name + "__base"]
        return self.out[name]

    def _schema(self, node: dict[str, Any], context: str | None, in_all_of: bool = False) -> dict[str, Any]:
        if "$ref" in node:  # OpenAPI 3.0: siblings of $ref are ignored
            return self._ref(node["$ref"], context, in_all_of)
        out: dict[str, Any] = {k: v for k, v in node.items() if k in _KEEP}
        if "properties" in node:
            out["properties"] = {p: self._schema(s, context) for p, s in node["properties"].items()}
        if isinstance(node.get("items"), dict):
            out["items"] = self._schema(node["items"], context)
        if isinstance(node.get("additionalProperties"), dict):
            out["additionalProperties"] = self._schema(node["additionalProperties"], context)
        elif isinstance(node.get("additionalProperties"), bool):
            out["additionalProperties"] = node["additionalProperties"]
        if isinstance(node.get("not"), dict):
            out["not"] = self._schema(node["not"], context)
        for key in _SUBSCHEMA_LISTS:
            if key in node:
                out[key] = [self._schema(s, context, in_all_of=key == "allOf") for s in node[key]]
        if node.get("nullable") is True:
            if "type" in out:
                out["type"] = [out["type"], "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        return out


# --------------------------------------------------------------------------------------------
# The validator class
# --------------------------------------------------------------------------------------------
def _discriminator(validator: Any, disc: dict[str, Any], instance: Any, schema: Any) -> Iterator[ValidationError]:
    if not isinstance(instance, dict):
        return
    prop = disc["propertyName"]
    if prop not in instance:
        return  # reported by "required"
    value = instance[prop]
    target = disc["mapping"].get(value) if isinstance(value, str) else None
    if target is None:
        allowed = ", ".join(sorted(disc["mapping"]))
        yield ValidationError(
            f"{value!r} is not a valid {disc['name']} {prop} (one of: {allowed})", path=[prop]
        )
        return
    yield from validator.descend(instance, target)


_FORMATS = FormatChecker(formats=())
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@_FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    return not isinstance(value, str) or bool(_URI.match(value))


@_FORMATS.checks("uuid")
def _is_uuid(value: object) -> bool:
    return not isinstance(value, str) or bool(_UUID.match(value))


@_FORMATS.checks("int32")
def _is_int32(value: object) -> bool:
    return not isinstance(value, int) or isinstance(value, bool) or -(2**31) <= value < 2**31


@_FORMATS.checks("int64")
def _is_int64(value: object) -> bool:
    return not isinstance(value, int) or isinstance(value, bool) or -(2**63) <= value < 2**63


@_FORMATS.checks("date-time")
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return "T" in value or "t" in value


_OpenApiValidator = validators.extend(Draft4Validator, {"discriminator": _discriminator})


@functools.cache
def _schemas(document: str, documented_limits: bool) -> dict[str, dict[str, Any]]:
    raw = dict(_load_document(document)["components"]["schemas"])
    if documented_limits:
        for name, extra in DOCUMENTED_LIMITS[document].items():
            raw[name] = _merge_limits(raw[name], extra)
    return _Translator(raw).out


@functools.cache
def _reference_validator(document: str, schema_name: str, documented_limits: bool) -> Any:
    """A plain ``jsonschema`` validator of the same translated schema (slower; used to cross-check)."""
    schema = _schemas(document, documented_limits)[schema_name]
    return _OpenApiValidator(schema, format_checker=_FORMATS)


def reference_errors(
    document: str, schema_name: str, value: Any, *, documented_limits: bool = True
) -> list[SpecError]:
    """Validate with the ``jsonschema`` library instead of the compiled fast path (same schema).

    ``document`` is "messaging-api" or "webhook".  Used by tests to cross-check the fast path.
    """
    found = []
    for error in _reference_validator(document, schema_name, documented_limits).iter_errors(value):
        found.append(SpecError(error.message, _pointer(error.absolute_path)))
    return sorted(found, key=lambda e: e.pointer)


# --------------------------------------------------------------------------------------------
# The fast path: the translated schema compiled into closures.  jsonschema walks the schema
# through generic machinery (~25 us per sub-schema visited); the compiled form runs the same
# draft-4 checks for a fraction of that.  Tests cross-check both on valid and mutated bodies.
# --------------------------------------------------------------------------------------------
_Path = tuple[Any, Any] | tuple[()]  # () for the root, else (parent path, key)
_Out = list[tuple[str, _Path]]
_Check = Callable[[Any, _Path, _Out], None]

_TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def _json_type(value: Any) -> str:
    for name in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _TYPE_TESTS[name](value):
            return name
    return type(value).__name__


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def _sized(lo: int, hi: int | None) -> str:
    return f"between {lo} and {hi}" if hi is not None else f"at least {lo}"


def _compile(schema: dict[str, Any], memo: dict[int, _Check]) -> _Check:
    key = id(schema)
    if key in memo:
        return memo[key]
    cell: list[_Check] = []
    memo[key] = lambda inst, path, out: cell[0](inst, path, out)  # stand-in while compiling a cycle
    checks: list[_Check] = []
    add = checks.append

    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        tests = [_TYPE_TESTS[n] for n in names]
        wanted = " or ".join(names)
        python_type = {"object": dict, "array": list, "string": str}.get(names[0]) if len(names) == 1 else None

        if python_type is not None:

            def check_type(inst: Any, path: _Path, out: _Out) -> None:
                if not isinstance(inst, python_type):
                    out.append((f"must be of type {wanted}, not {_json_type(inst)}", path))

        else:

            def check_type(inst: Any, path: _Path, out: _Out) -> None:
                if not any(t(inst) for t in tests):
                    out.append((f"must be of type {wanted}, not {_json_type(inst)}", path))

        add(check_type)
    if "enum" in schema:
        allowed = list(schema["enum"])
        shown = ", ".join(repr(a) for a in allowed)

        def check_enum(inst: Any, path: _Path, out: _Out) -> None:
            if not any(_same(inst, a) for a in allowed):
                out.append((f"{inst!r} is not one of: {shown}", path))

        add(check_enum)
    if "required" in schema:
        required = list(schema["required"])

        def check_required(inst: Any, path: _Path, out: _Out) -> None:
            if isinstance(inst, dict):
                for name in required:
                    if name not in inst:
                        out.append(("must be specified", (path, name)))

        add(check_required)
    if "properties" in schema:
        props = [(name, _compile(sub, memo)) for name, sub in schema["properties"].items()]

        def check_properties(inst: Any, path: _Path, out: _Out) -> None:
            if isinstance(inst, dict):
                for name, fn in props:
                    if name in inst:
                        fn(inst[name], (path, name), out)

        add(check_properties)
    extra = schema.get("additionalProperties", True)
    if extra is not True:
        known = set(schema.get("properties", {}))
        extra_fn = _compile(extra, memo) if isinstance(extra, dict) else None

        def check_additional(inst: Any, path: _Path, out: _Out) -> None:
            if isinstance(inst, dict):
                for name, value in inst.items():
                    if name in known:
                        continue
                    if extra_fn is None:
                        out.append(("unknown property", (path, name)))
                    else:
                        extra_fn(value, (path, name), out)

        add(check_additional)
    if "items" in schema:
        item_fn = _compile(schema["items"], memo)

        def check_items(inst: Any, path: _Path, out: _Out) -> None:
            if isinstance(inst, list):
                for i, value in enumerate(inst):
                    item_fn(value, (path, i), out)

        add(check_items)
    if "minItems" in schema or "maxItems" in schema:
        lo_items, hi_items = schema.get("minItems", 0), schema.get("maxItems")
        size = _sized(lo_items, hi_items)

        def check_size(inst: Any, path: _Path, out: _Out) -> None:
            if isinstance(inst, list) and (len(inst) < lo_items or (hi_items is not None and len(inst) > hi_items)):
                out.append((f"size must be {size} (got {len(inst)})", path))

        add(check_size)
    if schema.get("uniqueItems"):

        def check_unique(inst: Any, path: _Path, out: _Out) -> None:
            if isinstance(inst, list):
                seen: list[Any] = []
                for value in inst:
                    if any(_same(value, s) for s in seen):
                        out.append(("items must be unique", path))
                        return
                    seen.append(value)

        add(check_unique)
    if "minLength" in schema or "maxLength" in schema:
        lo_len, hi_len = schema.get("minLength", 0), schema.get("maxLength")
        length = _sized(lo_len, hi_len)

        def check_length(inst: Any, path: _Path, out: _Out) -> None:
            if isinstance(inst, str) and (len(inst) < lo_len or (hi_len is not None and len(inst) > hi_len)):
                out.append((f"length must be {length} (got {len(inst)})", path))

        add(check_length)
    if "pattern" in schema:
        pattern = re.compile(schema["pattern"])

        def check_pattern(inst: Any, path: _Path, out: _Out) -> None:
            if isinstance(inst, str) and not pattern.search(inst):
                out.append((f"must match {pattern.pattern}", path))

        add(check_pattern)
    if "minimum" in schema or "maximum" in schema:
        lo, hi = schema.get("minimum"), schema.get("maximum")
        lo_ex, hi_ex = bool(schema.get("exclusiveMinimum")), bool(schema.get("exclusiveMaximum"))

        def check_range(inst: Any, path: _Path, out: _Out) -> None:
            if not _is_number(inst):
                return
            if lo is not None and (inst <= lo if lo_ex else inst < lo):
                out.append((f"must be {'greater than' if lo_ex else 'at least'} {lo}", path))
            if hi is not None and (inst >= hi if hi_ex else inst > hi):
                out.append((f"must be {'less than' if hi_ex else 'at most'} {hi}", path))

        add(check_range)
    if "multipleOf" in schema:
        step = schema["multipleOf"]

        def check_multiple(inst: Any, path: _Path, out: _Out) -> None:
            if not _is_number(inst):
                return
            if isinstance(step, float) or isinstance(inst, float):
                quotient = inst / step
                bad = int(quotient) != quotient
            else:
                bad = inst % step != 0
            if bad:
                out.append((f"must be a multiple of {step}", path))

        add(check_multiple)
    if "minProperties" in schema or "maxProperties" in schema:
        lo_props, hi_props = schema.get("minProperties", 0), schema.get("maxProperties")
        count = _sized(lo_props, hi_props)

        def check_prop_count(inst: Any, path: _Path, out: _Out) -> None:
            if isinstance(inst, dict) and (len(inst) < lo_props or (hi_props is not None and len(inst) > hi_props)):
                out.append((f"number of properties must be {count}", path))

        add(check_prop_count)
    if "format" in schema and schema["format"] in _FORMATS.checkers:
        fmt = schema["format"]
        fmt_fn = _FORMATS.checkers[fmt][0]

        def check_format(inst: Any, path: _Path, out: _Out) -> None:
            if not fmt_fn(inst):
                out.append((f"{inst!r} is not a valid {fmt}", path))

        add(check_format)
    if "allOf" in schema:
        checks.extend(_compile(sub, memo) for sub in schema["allOf"])
    if "anyOf" in schema:
        any_fns = [_compile(sub, memo) for sub in schema["anyOf"]]

        def check_any(inst: Any, path: _Path, out: _Out) -> None:
            for fn in any_fns:
                trial: _Out = []
                fn(inst, path, trial)
                if not trial:
                    return
            out.append(("does not match any of the allowed schemas", path))

        add(check_any)
    if "oneOf" in schema:
        one_fns = [_compile(sub, memo) for sub in schema["oneOf"]]

        def check_one(inst: Any, path: _Path, out: _Out) -> None:
            matches = 0
            for fn in one_fns:
                trial: _Out = []
                fn(inst, path, trial)
                matches += not trial
            if matches != 1:
                out.append((f"must match exactly one allowed schema (matched {matches})", path))

        add(check_one)
    if "not" in schema:
        not_fn = _compile(schema["not"], memo)

        def check_not(inst: Any, path: _Path, out: _Out) -> None:
            trial: _Out = []
            not_fn(inst, path, trial)
            if not trial:
                out.append(("must not match the excluded schema", path))

        add(check_not)
    if "discriminator" in schema:
        disc = schema["discriminator"]
        prop, base_name = disc["propertyName"], disc["name"]
        mapping = {value: _compile(sub, memo) for value, sub in disc["mapping"].items()}
        allowed_values = ", ".join(sorted(mapping))

        def check_discriminator(inst: Any, path: _Path, out: _Out) -> None:
            if isinstance(inst, dict) and prop in inst:
                value = inst[prop]
                fn = mapping.get(value) if isinstance(value, str) else None
                if fn is None:
                    message = f"{value!r} is not a valid {base_name} {prop} (one of: {allowed_values})"
                    out.append((message, (path, prop)))
                else:
                    fn(inst, path, out)

        add(check_discriminator)

    if len(checks) == 1:
        run = checks[0]
    else:
        frozen = tuple(checks)

        def run(inst: Any, path: _Path, out: _Out) -> None:
            for check in frozen:
                check(inst, path, out)

    cell.append(run)
    memo[key] = run
    return run


@functools.cache
def _memo(document: str, documented_limits: bool) -> dict[int, _Check]:
    return {}


_COMPILED: dict[tuple[str, str, bool], _Check] = {}
_COMPILE_LOCK = threading.Lock()  # a half-compiled cycle must not be used by another thread


def _validator(document: str, schema_name: str, documented_limits: bool) -> _Check:
    key = (document, schema_name, documented_limits)
    check = _COMPILED.get(key)
    if check is None:
        with _COMPILE_LOCK:
            check = _COMPILED.get(key)
            if check is None:
                schema = _schemas(document, documented_limits)[schema_name]
                check = _COMPILED[key] = _compile(schema, _memo(document, documented_limits))
    return check


def _flatten(path: _Path) -> list[Any]:
    """Paths are built as linked pairs (parent, key) while validating (cheap), flattened on error."""
    parts: list[Any] = []
    while path:
        path, key = path
        parts.append(key)
    parts.reverse()
    return parts


def _pointer(parts: Iterable[Any]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _errors(check: _Check, body: Any) -> list[SpecError]:
    out: _Out = []
    check(body, (), out)
    if not out:
        return []
    return sorted((SpecError(message, _pointer(_flatten(path))) for message, path in out), key=lambda e: e.pointer)


# --------------------------------------------------------------------------------------------
# Operations of messaging-api.yml
# --------------------------------------------------------------------------------------------
@functools.cache
def messaging_operations() -> tuple[Operation, ...]:
    """Every operation of messaging-api.yml (method, path template, JSON body schema)."""
    ops = []
    for path, item in _load_document("messaging-api")["paths"].items():
        for method, op in item.items():
            if method not in {"get", "post", "put", "delete", "patch"}:
                continue
            body = (op.get("requestBody") or {}).get("content", {}).get("application/json", {}).get("schema")
            body_schema = body["$ref"].removeprefix(_SCHEMA_PREFIX) if body and "$ref" in body else None
            servers = op.get("servers") or []
            host = "api-data" if any("api-data" in s.get("url", "") for s in servers) else "api"
            ops.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    operation_id=op.get("operationId", ""),
                    body_schema=body_schema,
                    body_required=bool((op.get("requestBody") or {}).get("required")),
                    host=host,
                )
            )
    return tuple(ops)


@functools.cache
def _operation_table() -> tuple[dict[tuple[str, str], Operation], list[tuple[str, re.Pattern[str], Operation]]]:
    exact: dict[tuple[str, str], Operation] = {}
    templated: list[tuple[str, re.Pattern[str], Operation]] = []
    for op in messaging_operations():
        if "{" in op.path:
            pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(op.path)) + "$")
            templated.append((op.method, pattern, op))
        else:
            exact[(op.method, op.path)] = op
    return exact, templated


def find_operation(method: str, path: str) -> Operation | None:
    """The messaging-api.yml operation for a concrete request path (exact paths win)."""
    method = method.upper()
    exact, templated = _operation_table()
    op = exact.get((method, path))
    if op is not None:
        return op
    for op_method, pattern, op in templated:
        if op_method == method and pattern.match(path):
            return op
    return None


# --------------------------------------------------------------------------------------------
# Public validation API
# --------------------------------------------------------------------------------------------
def validate_messaging_request(
    method: str, path: str, body: Any, *, documented_limits: bool = True
) -> list[SpecError]:
    """Validate the JSON body of a Messaging API request (e.g. POST /v2/bot/message/reply).

    Returns the violations (empty when valid).  Raises ``UnknownOperationError`` when the method and
    path are not an operation of messaging-api.yml.  Operations without a JSON body accept ``None``.
    """
    op = find_operation(method, path)
    if op is None:
        raise UnknownOperationError(f"{method.upper()} {path} is not in messaging-api.yml")
    if op.body_schema is None:
        return [] if body is None else [SpecError("this operation takes no JSON request body", "")]
    if body is None:
        return [SpecError("the request body is required", "")] if op.body_required else []
    return _errors(_validator("messaging-api", op.body_schema, documented_limits), body)


def validate_messaging_schema(schema_name: str, value: Any, *, documented_limits: bool = True) -> list[SpecError]:
    """Validate a value against a named component schema of messaging-api.yml (e.g. "Message")."""
    return _errors(_validator("messaging-api", schema_name, documented_limits), value)


def validate_webhook_body(body: Any) -> list[SpecError]:
    """Validate a webhook request body against webhook.yml's CallbackRequest."""
    return _errors(_validator("webhook", "CallbackRequest", False), body)


def validate_webhook_event(event: Any) -> list[SpecError]:
    """Validate one webhook event object against webhook.yml's Event (with its discriminator)."""
    return _errors(_validator("webhook", "Event", False), event)


def warm_up() -> None:
    """Load and compile the common validators now (they are otherwise built on first use)."""
    for name in ("ReplyMessageRequest", "PushMessageRequest", "MulticastRequest", "ShowLoadingAnimationRequest"):
        _validator("messaging-api", name, True)
    _validator("webhook", "CallbackRequest", False)


