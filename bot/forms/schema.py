"""JSON Schema of a dialog script. dialogs/schema.json is written from this (`write_schema`);
a test keeps the two identical."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.forms.slots import SLOT_TYPES

ID = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "maxLength": 40}
MMDD = {"type": "string", "pattern": "^[0-9]{2}-[0-9]{2}$"}
PERIOD = {"type": "object", "required": ["from", "to"], "additionalProperties": False,
          "properties": {"from": MMDD, "to": MMDD, "reason": {"type": "string"}}}
WEEKDAY_LIST = {"type": "array", "items": {"enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}, "uniqueItems": True}
SCALAR = {"type": ["string", "number", "boolean"]}

CONDITION: dict[str, Any] = {
    "type": "object",
    "description": "ask only if …: {slot, equals|not_equals|in|not_in|filled|contains} or {all|any: [...]} or {not: {...}}",
    "oneOf": [
        {"required": ["slot"], "additionalProperties": False, "minProperties": 2, "maxProperties": 2,
         "properties": {"slot": ID, "equals": SCALAR, "not_equals": SCALAR, "contains": SCALAR,
                        "in": {"type": "array", "items": SCALAR}, "not_in": {"type": "array", "items": SCALAR},
                        "filled": {"type": "boolean"}}},
        {"required": ["all"], "additionalProperties": False,
         "properties": {"all": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/condition"}}}},
        {"required": ["any"], "additionalProperties": False,
         "properties": {"any": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/condition"}}}},
        {"required": ["not"], "additionalProperties": False, "properties": {"not": {"$ref": "#/$defs/condition"}}},
    ],
}

CHOICE = {"oneOf": [
    {"type": "string", "minLength": 1},
    {"type": "object", "required": ["label"], "additionalProperties": False,
     "properties": {"value": {"type": ["string", "number"]}, "label": {"type": "string", "minLength": 1},
                    "synonyms": {"type": "array", "items": {"type": "string"}}, "exclusive": {"type": "boolean"}}},
]}

SLOT_PROPS: dict[str, Any] = {
    # common to every type
    "id": ID,
    "type": {"enum": sorted(SLOT_TYPES)},
    "label": {"type": "string", "minLength": 1, "maxLength": 20},
    "prompt": {"type": "string", "minLength": 1},
    "help": {"type": "string", "minLength": 1},
    "example": {"type": ["string", "number"]},
    "required": {"type": "boolean"},
    "personal": {"type": "boolean"},
    "summary": {"type": "boolean"},
    "when": {"$ref": "#/$defs/condition"},
    # type options (the validator checks which belong to which type)
    "min_length": {"type": "integer", "minimum": 0}, "max_length": {"type": "integer", "minimum": 1},
    "pattern": {"type": "string"}, "pattern_message": {"type": "string"},
    "min": {"type": "number"}, "max": {"type": "number"}, "unit": {"type": "string"}, "integer": {"type": "boolean"},
    "choices": {"type": "array", "minItems": 1, "items": CHOICE},
    "min_select": {"type": "integer", "minimum": 0}, "max_select": {"type": "integer", "minimum": 1},
    "yes_label": {"type": "string"}, "no_label": {"type": "string"},
    "agree_label": {"type": "string"}, "decline_label": {"type": "string"}, "decline_message": {"type": "string"},
    "min_days": {"type": "integer"}, "max_days": {"type": "integer"},
    "allowed_weekdays": WEEKDAY_LIST, "exclude_holidays": {"type": "boolean"},
    "exclude_periods": {"type": "array", "items": PERIOD}, "business_days_only": {"type": "boolean"},
    "min_lead_days": {"type": "integer", "minimum": 0}, "lead_skip_weekdays": WEEKDAY_LIST,
    "lead_skip_holidays": {"type": "boolean"}, "lead_skip_periods": {"type": "array", "items": PERIOD},
    "rules_note": {"type": "string"}, "suggest": {"type": "integer", "minimum": 0, "maximum": 5},
    "after_slot": ID,
    "city": {"type": "string"}, "require_number": {"type": "boolean"},
    "within": {"enum": ["kawasaki"]}, "allow_text": {"type": "boolean"},
    "table": {"type": "string", "pattern": "^data/[A-Za-z0-9_./-]+\\.ya?ml$"},
    "max_quantity": {"type": "integer", "minimum": 1}, "fee_note": {"type": "string"},
}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://github.com/kawasaki-line-intake/dialogs/schema.json",
    "title": "kawasaki-line-intake chat-form script",
    "description": "One chat form (slot filling) for one procedure. Guide: docs/dialog-scripts.md",
    "type": "object",
    "required": ["id", "procedure_id", "procedure_name", "version", "owner", "intro", "slots", "completion",
                 "submission"],
    "additionalProperties": False,
    "properties": {
        "id": ID,
        "procedure_id": {"type": "string", "minLength": 1},
        "procedure_name": {"type": "string", "minLength": 1},
        "version": {"type": ["string", "number"]},
        "owner": {"type": "object", "required": ["section"], "additionalProperties": False,
                  "properties": {k: {"type": "string"} for k in ("section", "phone", "email", "hours", "fax", "contact")}},
        "intro": {"type": "string", "minLength": 1},
        "slots": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/slot"}},
        "confirmation": {"type": "object", "additionalProperties": False,
                         "properties": {"title": {"type": "string"}, "note": {"type": "string"}}},
        "completion": {"type": "object", "required": ["message"], "additionalProperties": False,
                       "properties": {"message": {"type": "string", "minLength": 1}}},
        "submission": {"type": "object", "required": ["notify"], "additionalProperties": False,
                       "properties": {"notify": {"oneOf": [
                           {"type": "object", "required": ["kind"], "additionalProperties": False,
                            "properties": {"kind": {"const": "log"}, "to": {"type": "string"}}},
                           {"type": "object", "required": ["kind", "to"], "additionalProperties": False,
                            "properties": {"kind": {"const": "mail"}, "to": {"type": "string", "pattern": "^[^@\\s]+@[^@\\s]+$"}}},
                       ]}}},
    },
    "$defs": {
        "condition": CONDITION,
        "slot": {"type": "object", "required": ["id", "type", "prompt", "help"], "additionalProperties": False,
                 "properties": SLOT_PROPS},
    },
}


def schema_json() -> str:
    return json.dumps(SCHEMA, ensure_ascii=False, indent=2) + "\n"


def write_schema(path: str | Path) -> None:
    Path(path).write_text(schema_json(), encoding="utf-8")
