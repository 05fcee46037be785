"""Oversized input against a real daphne process: refused early, with memory and disk flat.

The client side streams from one small buffer (nothing large is allocated here) over a
raw socket, so the test sees exactly how much the server let in before refusing.
"""

from __future__ import annotations

import base64
import json
import os
import select
import socket
import struct
import time

import psutil
import pytest

from tests.live import LiveStack

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MB = 1024 * 1024
CHUNK = b"0" * (64 * 1024)


def web_process(live: LiveStack) -> psutil.Process:
    child = next(child for child in live.stack.children if child.name.startswith("web"))
    return psutil.Process(child.process.pid)


def memory_and_writes(process: psutil.Process) -> tuple[int, int]:
    """Resident memory and bytes handed to write() so far (files and sockets alike)."""
    return process.memory_info().rss, process.io_counters().write_chars


def _readable(sock: socket.socket, timeout: float) -> bool:
    return bool(select.select([sock], [], [], timeout)[0])


def _read_reply(sock: socket.socket) -> bytes:
    reply = b""
    sock.settimeout(5)
    try:
        while chunk := sock.recv(65536):
            reply += chunk
    except OSError:
        pass
    return reply


def stream_body(
    live: LiveStack, path: str, total: int | None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    """POST ``total`` bytes (chunked when None: without end) until the server answers or hangs up.

    Returns the body bytes the server took and its reply.
    """
    host, port = live.stack.host, live.stack.web_ports[0]
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Content-Type: application/json"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    lines.append(f"Content-Length: {total}" if total is not None else "Transfer-Encoding: chunked")
    limit = total if total is not None else 2000 * MB
    sent = 0
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        try:
            while sent < limit and not _readable(sock, 0.05 if sent == 0 else 0):
                piece = CHUNK if total is not None else b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK)
                sock.sendall(piece)
                sent += len(CHUNK)
        except OSError:
            pass
        return sent, _read_reply(sock)


def assert_413_json(reply: bytes) -> None:
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), reply[:300]
    assert b"application/json" in head.lower()
    error = json.loads(body)["error"]
    assert set(error) == {"code", "message", "details"} and error["code"] == "request_too_large", error


def test_oversized_http_bodies_are_refused_before_they_are_read(live_stack_factory):
    live = live_stack_factory(web_processes=1, workers=0, beat=False)
    live.setup_owner()  # small bodies still work
    daphne = web_process(live)
    rss_before, written_before = memory_and_writes(daphne)

    # An anonymous 500 MB upload: refused on its headers, nothing spooled to disk.
    sent, reply = stream_body(live, "/api/queue/add", 500 * MB)
    assert sent < 20 * MB, f"the server read {sent / MB:.0f} MB before refusing"
    assert_413_json(reply)

    # A 100 MB JSON login body is never handed to the JSON parser.
    sent, reply = stream_body(live, "/api/auth/login", 100 * MB)
    assert sent < 20 * MB
    assert_413_json(reply)

    # Without Content-Length (chunked), the server counts and stops at the limit.
    sent, reply = stream_body(live, "/api/auth/login", None)
    assert sent < 40 * MB, f"the server read {sent / MB:.0f} MB of a chunked body before refusing"
    assert_413_json(reply)

    rss_after, written_after = memory_and_writes(daphne)
    assert rss_after - rss_before < 40 * MB, f"daphne grew by {(rss_after - rss_before) / MB:.0f} MB"
    assert written_after - written_before < 5 * MB, "the body was written somewhere (a spool file?)"


def _ws_handshake(live: LiveStack) -> socket.socket:
    host, port = live.stack.host, live.stack.web_ports[0]
    sock = socket.create_connection((host, port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws/connect HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(4096)
    assert response.startswith(b"HTTP/1.1 101"), response
    return sock


def send_huge_frame(live: LiveStack, size: int) -> tuple[int, float]:
    """One masked text frame announcing ``size`` bytes, streamed; (bytes taken, seconds until hang-up)."""
    sock = _ws_handshake(live)
    started = time.monotonic()
    sock.sendall(b"\x81\xff" + struct.pack("!Q", size) + b"\x00\x00\x00\x00")  # zero mask: payload as is
    sent = 0
    try:
        while sent < size:
            if _readable(sock, 0) and not sock.recv(65536):
                break  # the server closed the connection
            sock.sendall(CHUNK)
            sent += len(CHUNK)
    except OSError:
        pass
    sock.close()
    return sent, time.monotonic() - started


def test_huge_websocket_frames_are_refused_before_authentication_with_memory_flat(live_stack_factory):
    live = live_stack_factory(web_processes=1, workers=0, beat=False)
    daphne = web_process(live)
    rss_before, _ = memory_and_writes(daphne)

    for _ in range(3):
        sent, _seconds = send_huge_frame(live, 50 * MB)
        assert sent < 10 * MB, f"the server took {sent / MB:.0f} MB of an oversized frame"

    time.sleep(1)
    rss_after, _ = memory_and_writes(daphne)
    assert rss_after - rss_before < 30 * MB, f"daphne grew by {(rss_after - rss_before) / MB:.0f} MB"
