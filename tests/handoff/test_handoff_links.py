"""Signed hand-off tokens: round trip, and everything that must NOT verify."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.handoff.links import LINK_TTL_S, LinkIssuer, LinkPayload, is_safe_target

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
TARGET = "https://lgpos.task-asp.net/cu/141305/ea/residents/portal/home"


def _issue(issuer: LinkIssuer, now: datetime = NOW, **kw) -> tuple[str, LinkPayload]:
    args = {"procedure_id": "juminhyo_copy", "channel": "ekawasaki", "target": TARGET, "user_hash": "ab" * 8,
            "now": now, "event_id": "ev1", "source": "chat", "facility": None, **kw}
    return issuer.issue(**args)


def test_round_trip_carries_everything() -> None:
    issuer = LinkIssuer("secret-1", "https://bot.example.jp/")
    url, payload = _issue(issuer, source="qr", facility="ward-asao")
    assert url.startswith("https://bot.example.jp/go/") and len(url) < 1000  # LINE URI action limit
    got = issuer.verify(url.rsplit("/", 1)[1], NOW + timedelta(days=6))
    assert got.status == "ok" and got.payload == payload
    assert (got.payload.target, got.payload.source, got.payload.facility) == (TARGET, "qr", "ward-asao")


def test_same_event_issues_the_same_link_and_another_event_a_new_one() -> None:
    issuer = LinkIssuer("secret-1", "http://localhost:8000")
    assert _issue(issuer)[0] == _issue(issuer)[0]
    assert _issue(issuer)[1].token_id != _issue(issuer, event_id="ev2")[1].token_id


def test_expired_and_future_tokens_are_refused() -> None:
    issuer = LinkIssuer("secret-1", "http://localhost:8000")
    url, _ = _issue(issuer)
    token = url.rsplit("/", 1)[1]
    assert issuer.verify(token, NOW + timedelta(seconds=LINK_TTL_S + 1)).status == "expired"
    assert issuer.verify(token, NOW - timedelta(hours=1)).status == "expired"


@pytest.mark.parametrize("position", [5, 40, -3])
def test_an_altered_token_is_invalid(position: int) -> None:
    issuer = LinkIssuer("secret-1", "http://localhost:8000")
    token = _issue(issuer)[0].rsplit("/", 1)[1]
    i = position % len(token)
    altered = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
    assert altered != token
    assert issuer.verify(altered, NOW).status == "invalid"


def test_a_token_signed_with_another_key_is_invalid() -> None:
    forged = _issue(LinkIssuer("not-our-secret", "http://x"), target="https://evil.example/phish")[0]
    got = LinkIssuer("secret-1", "http://x").verify(forged.rsplit("/", 1)[1], NOW)
    assert got.status == "invalid" and got.payload is None


def test_garbage_is_invalid() -> None:
    issuer = LinkIssuer("secret-1", "http://x")
    for token in ["", "abc", "a.b", "x" * 5000, "eyJpIjoiMSJ9.AAAA"]:
        assert issuer.verify(token, NOW).status == "invalid"


def test_only_https_targets_are_issued() -> None:
    issuer = LinkIssuer("secret-1", "http://x")
    for bad in ["http://example.com", "javascript:alert(1)", "//evil.example", "https://", "https://a b.jp"]:
        assert not is_safe_target(bad)
        with pytest.raises(ValueError):
            _issue(issuer, target=bad)
    with pytest.raises(ValueError):
        _issue(issuer, source="email")
