"""HTTP/1.1 on asyncio for the scoring server, Python standard library only.

Why by hand: the server goes into every image and runs on whatever Python the user has, so it may
not depend on uvicorn, httptools or uvloop; http.server's one-thread-per-connection design costs
twice what an event loop does per request. This is the small part of HTTP/1.1 a scoring server
needs, strictly: keep-alive and pipelining (one request at a time per connection), bodies framed
by Content-Length or chunked (never both: a request that could be read two ways is refused),
`Expect: 100-continue`, a bound on the head and the body, and timeouts for clients that stall.

A connection may also come from the local runtime's gateway, already open and with the first
request read (see handoff.py): `adopt` serves it like an accepted one, asks the Handoff whether
each request is served here, and hands the connection back, unread bytes and all, when it is not.

The application is a callable `handle(request)` returning a Response, or an awaitable of one (the
scoring path, which runs the driver in a worker thread): the event loop never runs driver code.
"""

import asyncio
import os
import socket
import time
from email.utils import formatdate

MAX_HEAD_BYTES = 64 * 1024
MAX_HEADERS = 100
# What is left of a refused body is read and dropped (within reason), so that the client can finish
# sending and read the answer rather than meet a closed socket.
DISCARD_AT_MOST = 1024 * 1024 * 1024
# Past this much unanswered input (pipelined requests while one runs), the connection stops reading.
PAUSE_READING_AT = 1024 * 1024
REASONS = {
    100: "Continue",
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    413: "Payload Too Large",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    505: "HTTP Version Not Supported",
}


class Request(object):
    __slots__ = ("method", "path", "headers", "body", "keep_alive")

    def __init__(self, method, path, headers, body, keep_alive):
        self.method = method
        self.path = path
        # Lower-case names; a repeated header keeps its last value (none the server reads may repeat).
        self.headers = headers
        self.body = body
        self.keep_alive = keep_alive


class Response(object):
    __slots__ = ("status", "body", "content_type", "headers", "close")

    def __init__(self, status, body, content_type="application/json", headers=(), close=False):
        self.status = status
        self.body = body if isinstance(body, bytes) else body.encode("utf-8")
        self.content_type = content_type
        self.headers = headers
        self.close = close


class _Refused(Exception):
    """A request that cannot be read: answered with `status` and the connection closed (its framing
    is lost), after dropping up to `discard` bytes of a body still on its way."""

    def __init__(self, status, message, discard=0):
        Exception.__init__(self, message)
        self.status = status
        self.discard = discard


class _HandBack(Exception):
    """A request on a handed connection that this replica does not serve: the connection goes back."""

    def __init__(self, reason):
        Exception.__init__(self, reason)
        self.reason = reason


class _Clock(object):
    """The Date header, formatted once a second rather than per response."""

    def __init__(self):
        self.now = time.monotonic()
        self.date = formatdate(usegmt=True).encode("ascii")

    def tick(self):
        self.now = time.monotonic()
        self.date = formatdate(usegmt=True).encode("ascii")


class HttpServer(object):
    """Serves `handle` on (host, port) in the running loop; `error_response(status, message)` makes
    the body of the answers to requests that cannot be read."""

    def __init__(self, handle, error_response, max_body_bytes, idle_timeout, request_deadline=None):
        self._handle = handle
        # The deadline of a request on a handed connection (the gateway keeps it for its own).
        self.request_deadline = request_deadline
        self._error_response = error_response
        self._max_body_bytes = max_body_bytes
        self._idle_timeout = idle_timeout
        self._connections = set()
        self._clock = _Clock()
        self._server = None

    async def start(self, host, port, backlog=512):
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Connection(self), host, port, backlog=backlog, reuse_address=True)
        loop.call_later(1.0, self._sweep)
        return self._server.sockets[0].getsockname()[1]

    def _sweep(self):
        # One timer for every connection: cheaper than a timer per request. A connection idle (or
        # stalled mid-request, or not reading its answers) past the timeout is closed; one whose
        # request is in run() is not (the driver's own watch reports a run() that never returns).
        self._clock.tick()
        deadline = self._clock.now - self._idle_timeout
        for connection in list(self._connections):
            if connection.last_active < deadline and (not connection.busy or connection.write_paused):
                connection.abort()
        asyncio.get_running_loop().call_later(1.0, self._sweep)

    def adopt(self, sock, buffered, handoff):
        """Serves a connection the gateway handed over, `buffered` being what it read of it."""
        loop = asyncio.get_running_loop()
        connection = _Connection(self, handoff, buffered)
        handoff.connections.add(connection)

        def adopted(task):
            if task.cancelled() or task.exception() is not None:
                handoff.closed(connection)
                sock.close()

        loop.create_task(loop.connect_accepted_socket(lambda: connection, sock)).add_done_callback(adopted)

    def close(self):
        if self._server is not None:
            self._server.close()


class _Connection(asyncio.Protocol):
    def __init__(self, server, handoff=None, buffered=b""):
        self._server = server
        # Set on a connection the gateway handed over: what decides which requests stay.
        self._handoff = handoff
        self.handed_at = time.monotonic()
        # The Authorization header (and the keys' version) a handed request was last admitted with.
        self.accepted_authorization = None
        self._deadline = None
        self._buffer = bytearray(buffered)
        self._transport = None
        self._continue_sent = False
        self._discard_left = 0
        self._head = None
        self._chunks = None
        self._eof = False
        self._reading_paused = False
        self.busy = False
        self.closed = False
        self.write_paused = False
        self.last_active = server._clock.now

    # asyncio.Protocol

    def connection_made(self, transport):
        self._transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                # Each answer leaves in one write: with Nagle on, a keep-alive client would wait
                # for its own delayed ACK (~40 ms) before seeing it.
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        transport.set_write_buffer_limits(high=256 * 1024)
        self._server._connections.add(self)
        if self._handoff is not None:
            # What the gateway read of it, or a drain that came before the connection was set up.
            self._advance()

    def connection_lost(self, exc):
        self.closed = True
        self._server._connections.discard(self)
        if self._handoff is not None:
            self._handoff.closed(self)

    def pause_writing(self):
        self.write_paused = True

    def resume_writing(self):
        self.write_paused = False
        self.last_active = self._server._clock.now
        if not self.busy:
            self._advance()

    def data_received(self, data):
        self.last_active = self._server._clock.now
        if self._discard_left:
            self._discard_left -= min(self._discard_left, len(data))
            if not self._discard_left:
                self._transport.close()
            return
        self._buffer += data
        if self.busy or self.write_paused:
            if len(self._buffer) > PAUSE_READING_AT and not self._reading_paused:
                self._reading_paused = True
                self._transport.pause_reading()
            return
        self._advance()

    def eof_received(self):
        # A client that half-closes after its request still gets its answer; then the connection
        # ends, as there can be no next request.
        self._eof = True
        if not self.busy and not self.write_paused:
            self._advance()
        return True

    def abort(self):
        if not self.closed:
            self._transport.abort()

    # Requests, one at a time

    def _advance(self):
        handoff = self._handoff
        while not (self.busy or self.closed or self.write_paused):
            try:
                request = self._parse()
            except _Refused as refused:
                self._refuse(refused)
                return
            except _HandBack as back:
                self.hand_back(back.reason)
                return
            if request is None:
                if handoff is not None and handoff.draining:
                    self.hand_back("drain")
                    return
                if self._eof:
                    self._transport.close()
                    self.closed = True
                    return
                if self._reading_paused:
                    self._reading_paused = False
                    self._transport.resume_reading()
                return
            if handoff is None:
                result = self._server._handle(request)
            else:
                started = time.monotonic()
                handoff.inline = (self, started)
                result = self._server._handle(request)
                handoff.inline = None
                handoff.ran_inline(time.monotonic() - started)
            if isinstance(result, Response):
                self._respond(request, result)
                continue
            self.busy = True
            if handoff is not None:
                handoff.busy(1)
                deadline = self._server.request_deadline
                if deadline:
                    self._deadline = asyncio.get_running_loop().call_later(deadline, self._deadline_passed)
            future = asyncio.ensure_future(result)
            future.add_done_callback(lambda done, request=request: self._finish(request, done))
            return

    def _finish(self, request, done):
        self.busy = False
        if self._handoff is not None:
            self._handoff.busy(-1)
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None
        if self.closed:
            return
        if done.cancelled():
            self._transport.close()
            return
        error = done.exception()
        response = done.result() if error is None else self._server._error_response(500, "The server failed: %s" % error)
        self._respond(request, response)
        self._advance()

    def _deadline_response(self):
        """The gateway's own answer to a request past its deadline."""
        seconds = ("%f" % self._server.request_deadline).rstrip("0").rstrip(".")
        return self._server._error_response(504, "The service did not answer within %s s." % seconds)

    def _deadline_passed(self):
        """A handed request still in run() at its deadline: 504, as the gateway would answer, and the
        connection closes (its replica reports itself stuck, and the runtime recycles it)."""
        self._deadline = None
        if self.closed:
            return
        self._write(self._deadline_response(), True)
        self._transport.close()
        self.closed = True

    def answer_blocked_deadline(self):
        """From the handoff's watchdog thread, while run() holds the event loop past the deadline:
        the client gets its 504 and the connection ends (the loop is not touching it meanwhile;
        the runtime recycles the replica, whose health check goes unanswered)."""
        sock = self._transport.get_extra_info("socket")
        try:
            os.write(sock.fileno(), self._render(self._deadline_response(), True))
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def hand_back_when_idle(self):
        """Between requests, the connection goes back now; with one in progress, after its answer."""
        # Not yet set up (connection_made hands it back then), or busy (its answer's end does).
        if self._transport is not None and not self.busy and not self.closed:
            self.hand_back("drain")

    def hand_back(self, reason):
        """Back to the gateway, with what was read and not served, once every answer has left."""
        if self.closed:
            return
        self.busy = True
        self._transport.pause_reading()
        if self._transport.get_write_buffer_size():
            asyncio.get_running_loop().call_later(0.001, self.hand_back, reason)
            return
        fd = os.dup(self._transport.get_extra_info("socket").fileno())
        self.closed = True
        self._transport.abort()
        self._handoff.hand_back(self, fd, bytes(self._buffer), reason)

    def _respond(self, request, response):
        close = response.close or not request.keep_alive
        self._write(response, close)
        self.last_active = self._server._clock.now
        if close:
            self._transport.close()
            self.closed = True

    def _refuse(self, refused):
        response = self._server._error_response(refused.status, str(refused))
        self._write(response, True)
        self._buffer = bytearray()
        self._head = None
        if refused.discard > 0:
            self._discard_left = refused.discard
        else:
            self._transport.close()
            self.closed = True

    def _write(self, response, close):
        self._transport.write(self._render(response, close))

    def _render(self, response, close):
        head = [
            b"HTTP/1.1 %d %s\r\n" % (response.status, REASONS.get(response.status, "Unknown").encode("ascii")),
            b"Server: azureml-scoring\r\nDate: ",
            self._server._clock.date,
            b"\r\nContent-Type: ",
            response.content_type.encode("ascii"),
            b"\r\nContent-Length: %d\r\n" % len(response.body),
        ]
        for name, value in response.headers:
            head.append(("%s: %s\r\n" % (name, value)).encode("latin-1"))
        if close:
            head.append(b"Connection: close\r\n")
        head.append(b"\r\n")
        head.append(response.body)
        return b"".join(head)

    # Parsing

    def _parse(self):
        """The next whole request in the buffer (removed from it), None until one has arrived. Its
        head is parsed once and kept in `_head` while the body arrives, piece by piece."""
        if self._head is None:
            self._head = self._parse_head()
            if self._head is None:
                return None
            if self._handoff is not None:
                refused = self._handoff.refuses(self, self._head[0], self._head[1], self._head[3])
                if refused:
                    raise _HandBack(refused)
        method, target, version, headers, body_start = self._head
        buffer = self._buffer
        if "transfer-encoding" in headers:
            framed = self._chunked_body(body_start)
            if framed is None:
                self._maybe_continue(headers)
                return None
            body, body_end = framed
        else:
            length = int(headers.get("content-length", "0"))
            if length > self._server._max_body_bytes:
                have = len(buffer) - body_start
                raise _Refused(413, "The request body is larger than %d bytes." % self._server._max_body_bytes, min(length, DISCARD_AT_MOST) - have)
            body_end = body_start + length
            if len(buffer) < body_end:
                self._maybe_continue(headers)
                return None
            body = bytes(buffer[body_start:body_end])
        del buffer[:body_end]
        self._head = None
        self._continue_sent = False
        self._chunks = None
        connection = headers.get("connection", "").lower()
        keep_alive = "close" not in connection if version == b"HTTP/1.1" else "keep-alive" in connection
        # A handed request was checked to be its service's scoring request (Handoff.refuses), under
        # the gateway's path for it: the application knows it as /score.
        path = "/score" if self._handoff is not None else target.split(b"?", 1)[0].decode("latin-1")
        return Request(method.decode("latin-1"), path, headers, body, keep_alive)

    def _parse_head(self):
        """(method, target, version, headers, where the body starts) of the request at the start
        of the buffer, None until its head is whole; a head that cannot be read is refused."""
        buffer = self._buffer
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(buffer) > MAX_HEAD_BYTES:
                raise _Refused(431, "The request's head is larger than %d bytes." % MAX_HEAD_BYTES)
            return None
        if end > MAX_HEAD_BYTES:
            raise _Refused(431, "The request's head is larger than %d bytes." % MAX_HEAD_BYTES)
        lines = bytes(buffer[:end]).split(b"\r\n")
        parts = lines[0].split(b" ")
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
            raise _Refused(505 if len(parts) == 3 and parts[2].startswith(b"HTTP/") else 400, "The request line is not HTTP/1.x.")
        method, target, version = parts
        if len(lines) - 1 > MAX_HEADERS:
            raise _Refused(431, "The request has more than %d headers." % MAX_HEADERS)
        headers = {}
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            if not colon or not name or name != name.strip() or line[:1] in (b" ", b"\t"):
                raise _Refused(400, "A header line is malformed.")
            key = name.decode("latin-1").lower()
            value = value.strip().decode("latin-1")
            if key == "content-length" and key in headers and headers[key] != value:
                raise _Refused(400, "The request has two different Content-Length headers.")
            headers[key] = value
        if "transfer-encoding" in headers:
            if "content-length" in headers:
                raise _Refused(400, "The request has both Content-Length and Transfer-Encoding: one way to read its body, please.")
            if headers["transfer-encoding"].lower() != "chunked":
                raise _Refused(501, "Transfer-Encoding %s is not supported; send chunked, or a Content-Length." % headers["transfer-encoding"])
        elif not headers.get("content-length", "0").isdigit():
            raise _Refused(400, "Content-Length is not a number.")
        return method, target, version, headers, end + 4

    def _maybe_continue(self, headers):
        if not self._continue_sent and headers.get("expect", "").lower() == "100-continue":
            self._continue_sent = True
            self._transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _chunked_body(self, start):
        """(body, end) of a chunked body starting at `start`, None while it is incomplete. What was
        read of it stays in `_chunks` (where the next chunk starts, the chunks, their total), so
        each byte is looked at once however many pieces the body arrives in."""
        buffer = self._buffer
        if self._chunks is None:
            self._chunks = (start, [], 0)
        at, parts, total = self._chunks
        while True:
            self._chunks = (at, parts, total)
            line_end = buffer.find(b"\r\n", at)
            if line_end < 0:
                if len(buffer) - at > 1024:
                    raise _Refused(400, "The request body is not well framed: a chunk size line is too long.")
                return None
            size_text = bytes(buffer[at:line_end]).split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise _Refused(400, "The request body is not well framed: a chunk size is not a hexadecimal number.")
            if size < 0:
                raise _Refused(400, "The request body is not well framed: a negative chunk size.")
            at = line_end + 2
            if size == 0:
                # Trailers, then the empty line.
                while True:
                    trailer_end = buffer.find(b"\r\n", at)
                    if trailer_end < 0:
                        return None
                    if trailer_end == at:
                        return b"".join(parts), at + 2
                    at = trailer_end + 2
            total += size
            if total > self._server._max_body_bytes:
                raise _Refused(413, "The request body is larger than %d bytes." % self._server._max_body_bytes)
            if len(buffer) < at + size + 2:
                return None
            if buffer[at + size : at + size + 2] != b"\r\n":
                raise _Refused(400, "The request body is not well framed: a chunk is longer than its size says.")
            parts.append(bytes(buffer[at : at + size]))
            at += size + 2
