"""Protocol junk over a raw socket to the real werkzeug server: never a 5xx, nothing processed, still serving."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time

import pytest
from hostile_schema_gen import encode
from hostile_stack import SECRET
from hostile_tally import tried

from integrations.line.webhook_sender import sign


def _exchange(hstack, data: bytes, *, shutdown_write: bool = False, timeout: float = 10.0) -> bytes:
    """Send raw bytes (from a thread, so an early answer is read while we still send), optionally
    half-close, and read until the server closes the connection or `timeout` passes."""
    with socket.create_connection((hstack.host, hstack.port), timeout=timeout) as sock:

        def send() -> None:
            try:
                sock.sendall(data)
                if shutdown_write:
                    sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # the server answered early and closed; the reader has what it sent

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        out = b""
        try:
            while not _complete(out) and (chunk := sock.recv(65536)):
                out += chunk
        except OSError:
            pass
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)  # stop a sender still pushing a body nobody reads
        sender.join(timeout)
    return out


def _complete(response: bytes) -> bool:
    """A full response (headers and Content-Length bytes of body) has arrived."""
    head, sep, body = response.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            return len(body) >= int(value)
    return False


def _status(response: bytes) -> int | None:
    if not response.startswith(b"HTTP/"):
        return None
    return int(response.split(b" ", 2)[1])


def _request(method: str, body: bytes = b"", headers: list[bytes] | None = None, length: int | None = None,
             target: bytes = b"/callback") -> bytes:
    lines = [method.encode() + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close"]
    lines += headers if headers is not None else [b"Content-Type: application/json"]
    if length is not None or body:
        lines.append(b"Content-Length: " + str(len(body) if length is None else length).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def _signed_text(hstack, user: str, text: str = "ヘルプ") -> tuple[dict, bytes, bytes]:
    event = hstack.sender.events.text(user, text)
    body = encode({"destination": hstack.sender.destination, "events": [event]})
    return event, body, b"X-Line-Signature: " + sign(body, SECRET).encode()


@pytest.fixture
def untouched(hstack):
    """Asserts the test processed nothing: no new seen key, no queue entry, no Messaging API call."""
    hstack.wait_drained()
    seen, api = hstack.seen_keys(), hstack.api_requests()
    yield
    time.sleep(0.5)
    assert hstack.services.queue.backlog() == 0
    assert hstack.seen_keys() == seen, "protocol junk got an event accepted"
    assert hstack.api_requests() == api, "protocol junk caused a Messaging API call"
    hstack.assert_still_answers()


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "BREW"])
def test_wrong_methods(hstack, untouched, method: str) -> None:
    _, body, signature = _signed_text(hstack, "U" + "9a" * 16)
    tried(f"protocol: method {method}")
    response = _exchange(hstack, _request(method, body, [b"Content-Type: application/json", signature]))
    status = _status(response)
    if method == "OPTIONS":  # OPTIONS lists what the URL allows
        assert status == 200 and b"POST" in response.split(b"\r\n\r\n")[0], response[:300]
    else:
        assert status in (405, 501) if method in ("TRACE", "BREW") else status == 405, response[:300]


@pytest.mark.parametrize("content_type", [b"text/plain", b"application/x-www-form-urlencoded",
                                          b"multipart/form-data; boundary=xyz", b"application/json; charset=latin-1",
                                          None])
def test_a_signed_body_is_accepted_whatever_the_content_type(hstack, content_type: bytes | None) -> None:
    """The signature authenticates the bytes; the declared content type changes nothing (LINE sends JSON)."""
    user = "U" + "6b" * 16
    event, body, signature = _signed_text(hstack, user)
    headers = [signature] + ([b"Content-Type: " + content_type] if content_type else [])
    tried("protocol: content type")
    assert _status(_exchange(hstack, _request("POST", body, headers))) == 200
    hstack.wait_drained()
    assert hstack.reply_requests_for(event["webhookEventId"]) == 1


@pytest.mark.parametrize("content_type", [b"text/plain", b"application/x-www-form-urlencoded", b"multipart/form-data"])
def test_wrong_content_type_with_a_bad_signature_is_rejected(hstack, untouched, content_type: bytes) -> None:
    _, body, _ = _signed_text(hstack, "U" + "6c" * 16)
    tried("protocol: content type, bad signature")
    headers = [b"Content-Type: " + content_type, b"X-Line-Signature: " + sign(body, "not-the-secret").encode()]
    assert _status(_exchange(hstack, _request("POST", body, headers))) == 400


@pytest.mark.parametrize("missing", [1, 100, 10_000])
def test_truncated_body_content_length_larger_than_sent(hstack, untouched, missing: int) -> None:
    """The client half-closes before sending Content-Length bytes: a 4xx (or a plain close), nothing processed."""
    _, body, signature = _signed_text(hstack, "U" + "5e" * 16)
    tried("protocol: truncated body")
    request = _request("POST", body, [b"Content-Type: application/json", signature], length=len(body) + missing)
    response = _exchange(hstack, request, shutdown_write=True)
    status = _status(response)
    assert status is None or 400 <= status < 500, response[:300]


def test_client_that_stops_mid_body_and_disconnects(hstack, untouched) -> None:
    _, body, signature = _signed_text(hstack, "U" + "4f" * 16)
    for cut in (0, 1, len(body) // 2, len(body) - 1):
        tried("protocol: disconnect mid-body")
        request = _request("POST", body, [b"Content-Type: application/json", signature])
        head_len = request.index(b"\r\n\r\n") + 4
        with socket.create_connection((hstack.host, hstack.port), timeout=5) as sock:
            sock.sendall(request[: head_len + cut])
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST
        time.sleep(0.05)


def test_stalled_clients_do_not_block_the_service(hstack) -> None:
    """Twenty clients send half a body and wait; a normal message is still answered meanwhile."""
    event, body, signature = _signed_text(hstack, "U" + "3d" * 16)
    request = _request("POST", body, [b"Content-Type: application/json", signature])
    stalled = []
    try:
        for _ in range(20):
            sock = socket.create_connection((hstack.host, hstack.port), timeout=5)
            sock.sendall(request[: len(request) - len(body) // 2])
            stalled.append(sock)
            tried("protocol: stalled client")
        hstack.assert_still_answers()
    finally:
        for sock in stalled:
            sock.close()
    time.sleep(0.5)
    assert not hstack.redis.exists(hstack.services.queue.seen_key(event["webhookEventId"]))
    assert hstack.replies_for(event["webhookEventId"]) == []


@pytest.mark.parametrize("flood", ["10k_headers", "1mb_header", "1000_signatures", "long_url", "long_method"])
def test_header_floods(hstack, untouched, flood: str) -> None:
    _, body, signature = _signed_text(hstack, "U" + "2c" * 16)
    target = b"/callback"
    headers = [b"Content-Type: application/json", signature]
    method = "POST"
    if flood == "10k_headers":
        headers += [b"X-Junk-%d: %d" % (i, i) for i in range(10_000)]
    elif flood == "1mb_header":
        headers.append(b"X-Junk: " + b"a" * (1024 * 1024))
    elif flood == "1000_signatures":
        headers = [b"Content-Type: application/json"] + [b"X-Line-Signature: " + b"A" * 44] * 1000 + [signature]
    elif flood == "long_url":
        target = b"/callback?" + b"a" * 200_000
    else:
        method = "P" * 100_000
    tried(f"protocol: header flood {flood}")
    status = _status(_exchange(hstack, _request(method, body, headers, target=target)))
    assert status is None or 400 <= status < 500, status


@pytest.mark.parametrize("junk", [
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(64)),  # a TLS ClientHello
    b"GARBAGE\r\n\r\n",
    b"POST /callback\r\n\r\n",  # HTTP/0.9 style
    b"POST /callback HTTP/9.9\r\nHost: x\r\n\r\n",
    b"POST /callback HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}",
    b"POST /callback HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n{}",
    b"POST /callback HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 4\r\n\r\n{}{}",
    b"POST /callback HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    b"POST /callback HTTP/1.1\r\nHost: x\r\nX-Line-Signature: \x00\xff\r\nContent-Length: 2\r\n\r\n{}",
    b"POST /callback HTTP/1.1\r\nHost: x\r\n\tfolded: header\r\n\r\n",
    b"\r\n" * 1000,
    b"\x00" * 4096,
])
def test_request_line_and_framing_junk(hstack, untouched, junk: bytes) -> None:
    tried("protocol: framing junk")
    status = _status(_exchange(hstack, junk, shutdown_write=True, timeout=5))
    assert status is None or 400 <= status < 500, (junk[:80], status)


def test_chunked_bodies(hstack) -> None:
    """Chunked transfer encoding: a signed body is processed; a 5 MB chunked body gets 413."""
    user = "U" + "1b" * 16
    event, body, signature = _signed_text(hstack, user)
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 50]), body[i:i + 50]) for i in range(0, len(body), 50))
    head = [b"Content-Type: application/json", signature, b"Transfer-Encoding: chunked"]
    tried("protocol: chunked")
    assert _status(_exchange(hstack, _request("POST", b"", head) + chunked + b"0\r\n\r\n")) == 200
    hstack.wait_drained()
    assert hstack.reply_requests_for(event["webhookEventId"]) == 1
    # 5 MB, correctly signed: the size limit, not the signature, must stop it.
    big_body = json.dumps({"events": [], "pad": "x" * (5 * 1024 * 1024)}).encode()
    big = b"".join(b"%x\r\n%s\r\n" % (len(big_body[i:i + 65536]), big_body[i:i + 65536])
                   for i in range(0, len(big_body), 65536)) + b"0\r\n\r\n"
    head[1] = b"X-Line-Signature: " + sign(big_body, SECRET).encode()
    tried("protocol: chunked 5 MB")
    assert _status(_exchange(hstack, _request("POST", b"", head) + big)) == 413
    hstack.assert_still_answers()


def test_five_megabyte_body_over_http_gets_413_before_it_is_read(hstack, untouched) -> None:
    body = json.dumps({"events": [], "pad": "x" * (5 * 1024 * 1024)}).encode()
    request = _request("POST", body, [b"Content-Type: application/json", b"X-Line-Signature: " + sign(body, SECRET).encode()])
    tried("protocol: 5 MB with Content-Length")
    started = time.monotonic()
    assert _status(_exchange(hstack, request)) == 413
    assert time.monotonic() - started < 10


def test_pipelined_requests_on_one_connection(hstack) -> None:
    user = "U" + "0e" * 16
    events, data = [], b""
    for i in range(3):
        event, body, signature = _signed_text(hstack, user, f"ヘルプ{i}")
        events.append(event)
        data += _request("POST", body, [b"Content-Type: application/json", signature]).replace(
            b"Connection: close", b"Connection: keep-alive" if i < 2 else b"Connection: close")
    tried("protocol: pipelined", 3)
    response = _exchange(hstack, data)
    assert response.count(b"HTTP/1.1 200") + response.count(b"HTTP/1.0 200") >= 1
    hstack.wait_drained()
    answered = [e for e in events if hstack.reply_requests_for(e["webhookEventId"]) == 1]
    assert answered, "no pipelined request was processed"
    assert all(hstack.reply_requests_for(e["webhookEventId"]) <= 1 for e in events)
