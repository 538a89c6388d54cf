"""Sensitive numbers in chat: an individual number (マイナンバー) or a payment-card number.

They are removed from the text in the web process, before the event is queued, hashed, logged or
seen by the NLU, so they are never stored anywhere. The resident is told not to send them.
"""

from __future__ import annotations

import re
import unicodedata

REDACTION = "［番号を削除しました］"

# Digit runs with the separators people type between groups (spaces, hyphens, dots, slashes).
_SEPARATORS = " \u3000-‐‑‒–—―−ー－.・/"
_CANDIDATE = re.compile(rf"\d(?:[{re.escape(_SEPARATORS)}]?\d){{11,18}}")


def _mynumber_ok(digits: str) -> bool:
    """Check digit of the 12-digit individual number (番号法施行令 第8条)."""
    if len(digits) != 12:
        return False
    body = [int(c) for c in digits[:11]]
    total = 0
    for n in range(1, 12):  # P_n is the n-th digit from the right of the first eleven
        p = body[11 - n]
        q = n + 1 if n <= 6 else n - 5
        total += p * q
    remainder = total % 11
    check = 0 if remainder <= 1 else 11 - remainder
    return check == int(digits[11])


def _luhn_ok(digits: str) -> bool:
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _classify(digits: str) -> str | None:
    if _mynumber_ok(digits):
        return "mynumber"
    if _luhn_ok(digits):
        return "card"
    return None


def _classify_run(run: str) -> str | None:
    """The whole run, or any stretch of whole digit groups in it (e.g. "1234 5678 9012" after a date)."""
    groups = [g for g in re.split(rf"[{re.escape(_SEPARATORS)}]", run) if g]
    for i in range(len(groups)):
        for j in range(len(groups), i, -1):
            kind = _classify("".join(groups[i:j]))
            if kind:
                return kind
    return None


def redact_sensitive(text: str) -> tuple[str, tuple[str, ...]]:
    """Return the text with sensitive numbers removed, and which kinds were found."""
    # NFKC turns full-width digits into ASCII; offsets are kept by mapping per character.
    normalized = "".join(unicodedata.normalize("NFKC", ch) if len(unicodedata.normalize("NFKC", ch)) == 1 else ch
                         for ch in text)
    found: list[str] = []
    spans: list[tuple[int, int]] = []
    for match in _CANDIDATE.finditer(normalized):
        kind = _classify_run(match.group())
        if kind:
            found.append(kind)
            spans.append(match.span())
    if not spans:
        return text, ()
    out, last = [], 0
    for start, end in spans:
        out.append(text[last:start])
        out.append(REDACTION)
        last = end
    out.append(text[last:])
    return "".join(out), tuple(dict.fromkeys(found))
