"""Reading a request's body: framed by Content-Length or chunked, never more than the limit."""


class BodyTooLarge(Exception):
    pass


class BadBody(Exception):
    """The body's framing is broken (a chunked body cut short, a bad chunk size)."""


LINE = 65537
DISCARD_AT_MOST = 1024 * 1024 * 1024


def read_body(rfile, headers, max_bytes):
    """The body of a request; BodyTooLarge past `max_bytes` (the rest is left unread)."""
    if "chunked" in (headers.get("Transfer-Encoding") or "").lower():
        return _read_chunked(rfile, max_bytes)
    try:
        length = int(headers.get("Content-Length") or 0)
    except ValueError:
        raise BadBody("Content-Length is not a number")
    if length > max_bytes:
        raise BodyTooLarge(length)
    body = rfile.read(length) if length > 0 else b""
    if len(body) < length:
        raise BadBody("the body ended after %d of its %d bytes" % (len(body), length))
    return body


def discard_body(rfile, headers):
    """Reads and drops what is left of a refused body (within reason), so that the client can
    finish sending and read the answer rather than meet a closed socket."""
    try:
        left = min(int(headers.get("Content-Length") or 0), DISCARD_AT_MOST)
    except ValueError:
        return
    while left > 0:
        chunk = rfile.read(min(left, 1 << 20))
        if not chunk:
            return
        left -= len(chunk)


def _read_chunked(rfile, max_bytes):
    parts = []
    total = 0
    while True:
        line = rfile.readline(LINE)
        if not line:
            raise BadBody("the chunked body ended early")
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise BadBody("a chunk size is not a hexadecimal number")
        if size == 0:
            while rfile.readline(LINE) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(parts)
        total += size
        if total > max_bytes:
            raise BodyTooLarge(total)
        data = rfile.read(size)
        if len(data) < size:
            raise BadBody("a chunk ended early")
        parts.append(data)
        rfile.readline(LINE)
