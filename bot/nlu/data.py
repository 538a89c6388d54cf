"""Load Rasa 3.x NLU training data (YAML) into plain Python structures.

`nlu_data/` is the single source for both NLU back ends, so this loader accepts the
shapes Rasa accepts: `examples: |` block strings and lists of `- text:` blocks, entity
annotations (stripped here), synonyms, lookup tables and regexes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

# Intents that are not procedures: the dialogue acts plus out_of_scope.
DIALOGUE_ACTS = frozenset(
    {"greet", "goodbye", "thanks", "affirm", "deny", "cancel", "help", "ask_human", "restart"}
)
OUT_OF_SCOPE = "out_of_scope"
PROC_PREFIX = "proc_"

# [text](entity) , [text](entity:value) , [text]{"entity": ...}
_ENTITY_RE = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


def strip_entities(text: str) -> str:
    """`[粗大ごみ](item)を出したい` -> `粗大ごみを出したい`."""
    return _ENTITY_RE.sub(r"\1", text)


def proc_id(intent: str) -> str | None:
    """Catalog id of a `proc_<id>` intent, else None."""
    return intent[len(PROC_PREFIX) :] if intent.startswith(PROC_PREFIX) else None


@dataclass
class NluData:
    # intent -> examples (entity annotations stripped, de-duplicated, in file order)
    intents: dict[str, list[str]] = field(default_factory=dict)
    # canonical value -> variants
    synonyms: dict[str, list[str]] = field(default_factory=dict)
    # lookup name -> elements
    lookups: dict[str, list[str]] = field(default_factory=dict)
    # regex name -> patterns
    regexes: dict[str, list[str]] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    def examples(self) -> list[tuple[str, str]]:
        """(text, intent) pairs."""
        return [(t, intent) for intent, texts in self.intents.items() for t in texts]

    def merge(self, other: NluData) -> None:
        for intent, texts in other.intents.items():
            bucket = self.intents.setdefault(intent, [])
            seen = set(bucket)
            bucket.extend(t for t in texts if t not in seen and not seen.add(t))
        for target, src in ((self.synonyms, other.synonyms), (self.lookups, other.lookups),
                            (self.regexes, other.regexes)):
            for key, values in src.items():
                bucket = target.setdefault(key, [])
                bucket.extend(v for v in values if v not in bucket)
        self.files.extend(other.files)


def _parse_examples(raw: object) -> list[str]:
    """Rasa allows a block string of `- ` lines or a list of strings / {text: ...} maps."""
    out: list[str] = []
    if raw is None:
        return out
    if isinstance(raw, str):
        for line in raw.splitlines():
            line = line.strip()
            if line.startswith("- "):
                line = line[2:]
            elif line == "-" or not line:
                continue
            out.append(line.strip())
    elif isinstance(raw, list):
        for item in raw:
            if isinstance(item, dict):
                text = item.get("text")
                if text is not None:
                    out.append(str(text).strip())
            elif item is not None:
                out.append(str(item).strip())
    else:
        raise ValueError(f"unsupported examples value: {type(raw).__name__}")
    return [strip_entities(t).strip() for t in out if t.strip()]


def parse_nlu_document(doc: object, source: Path | None = None) -> NluData:
    data = NluData(files=[source] if source else [])
    if not isinstance(doc, dict):
        return data
    for block in doc.get("nlu") or []:
        if not isinstance(block, dict):
            continue
        examples = _parse_examples(block.get("examples"))
        if "intent" in block:
            bucket = data.intents.setdefault(str(block["intent"]), [])
            for ex in examples:
                if ex not in bucket:
                    bucket.append(ex)
        elif "synonym" in block:
            data.synonyms.setdefault(str(block["synonym"]), []).extend(examples)
        elif "lookup" in block:
            data.lookups.setdefault(str(block["lookup"]), []).extend(examples)
        elif "regex" in block:
            data.regexes.setdefault(str(block["regex"]), []).extend(examples)
    return data


def nlu_files(path: Path) -> list[Path]:
    """YAML files under a file or directory, sorted so hashing and merging are stable."""
    path = Path(path)
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.suffix in {".yml", ".yaml"} and p.is_file())


def load_nlu_data(path: Path | str) -> NluData:
    """Load every NLU YAML file under `path` (a directory, e.g. nlu_data/, or one file).

    Files without an `nlu:` key (domain, config, stories, heldout) are ignored.
    """
    data = NluData()
    for file in nlu_files(Path(path)):
        with file.open(encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
        if isinstance(doc, dict) and "nlu" in doc:
            data.merge(parse_nlu_document(doc, file))
    return data


def data_fingerprint(files: Iterable[Path], extra: str = "") -> str:
    h = hashlib.sha256(extra.encode())
    for f in sorted(Path(p) for p in files):
        h.update(str(f.name).encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class HeldoutItem:
    text: str
    expected: str | None  # official procedure name, or None when no procedure is asked for


def load_heldout(path: Path | str) -> list[HeldoutItem]:
    """nlu_data/heldout/heldout.yml: a list of {text, expected: <official name> | null}.

    Also accepts a mapping with the list under `heldout:` / `items:` / `examples:`.
    """
    with Path(path).open(encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    if isinstance(doc, dict):
        for key in ("heldout", "items", "examples", "tests"):
            if isinstance(doc.get(key), list):
                doc = doc[key]
                break
    if not isinstance(doc, list):
        raise ValueError(f"{path}: expected a list of {{text, expected}}")
    items = []
    for i, row in enumerate(doc):
        if not isinstance(row, dict) or "text" not in row:
            raise ValueError(f"{path}: item {i} has no text")
        expected = row.get("expected")
        expected = str(expected).strip().rstrip("※").strip() if expected not in (None, "") else None
        items.append(HeldoutItem(text=str(row["text"]), expected=expected))
    return items
