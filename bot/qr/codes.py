"""Start codes: the short text (e.g. `#QR-7K2M`) a poster's QR pre-fills in LINE.

`https://line.me/R/oaMessage/{basic id}/?{text}` opens the chat with the account and puts the text
in the input box; when the resident sends it, the bot looks the code up (procedure + facility) and
opens that procedure at once. Codes are random, short, and unambiguous to read aloud (no 0/O, 1/I).
"""

from __future__ import annotations

import re
import secrets
import threading
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.qr.models import Facility, StartCode
from bot.storage.db import Database

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LEN = 4
PREFIX = "QR-"
# Anywhere in the message, tolerant of full-width characters and of lower case (NFKC + upper first).
_CODE_RE = re.compile(r"[#]\s*QR\s*[-ー−‐]?\s*([" + ALPHABET + r"]{" + str(CODE_LEN) + r"})(?![0-9A-Z])")


@dataclass(frozen=True)
class StartTarget:
    code: str  # "QR-7K2M"
    procedure_id: str
    facility_code: str
    facility_name: str


def find_code(text: str | None) -> str | None:
    """The start code in a message (`QR-7K2M`), or None. Pure."""
    if not text or len(text) > 200:
        return None
    folded = unicodedata.normalize("NFKC", text).upper()
    m = _CODE_RE.search(folded)
    return f"{PREFIX}{m.group(1)}" if m else None


def start_text(code: str, procedure_name: str = "") -> str:
    """What the QR pre-fills: the code first (what the bot reads), then the name (what people read)."""
    return f"#{code} {procedure_name}".strip() if procedure_name else f"#{code}"


def oa_message_url(basic_id: str, message: str) -> str:
    """LINE URL scheme that opens the account's chat with `message` typed in.

    The basic ID keeps its "@" (LINE documents it URL-encoded as %40); the text is percent-encoded.
    """
    return f"https://line.me/R/oaMessage/{quote(basic_id, safe='')}/?{quote(message, safe='')}"


def friend_add_url(basic_id: str) -> str:
    return f"https://line.me/R/ti/p/{quote(basic_id, safe='')}"


def new_code() -> str:
    return PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(CODE_LEN))


class StartCodes:
    """SQL-backed start codes. `lookup` is what the conversation calls; hits are cached forever
    (a code never changes meaning), misses are not (a poster may be printed a minute later)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: dict[str, StartTarget] = {}
        self._lock = threading.Lock()

    def lookup(self, code: str) -> StartTarget | None:
        with self._lock:
            hit = self._cache.get(code)
        if hit is not None:
            return hit
        with self.db.session() as s:
            row = s.execute(
                select(StartCode.code, StartCode.procedure_id, StartCode.facility_code, Facility.name)
                .join(Facility, Facility.code == StartCode.facility_code)
                .where(StartCode.code == code)
            ).first()
        if row is None:
            return None
        target = StartTarget(*row)
        with self._lock:
            self._cache[code] = target
        return target

    def ensure(self, procedure_id: str, facility_code: str) -> str:
        """The code for (procedure, facility): the existing one, or a new unique one."""
        for _ in range(20):
            with self.db.session() as s:
                existing = s.scalar(select(StartCode.code).where(StartCode.procedure_id == procedure_id,
                                                                 StartCode.facility_code == facility_code))
                if existing:
                    return existing
            code = new_code()
            try:
                with self.db.session() as s:
                    s.add(StartCode(code=code, procedure_id=procedure_id, facility_code=facility_code))
                return code
            except IntegrityError:
                continue  # the code was taken, or another process just made this pair: look again
        raise RuntimeError("could not allocate a start code")
