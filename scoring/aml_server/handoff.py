"""Connections handed over by the local runtime's scoring gateway (standard library only).

The gateway reads the first request of a client's connection, checks its key and its service,
and then passes the connection itself to a replica of that service: from there on the client
talks to the scoring server with no process in between, which is what lets the gateway keep up
with a fast driver on a small machine. The replica serves the requests it can answer as the
gateway would (a POST to its own service's scoring path, with a valid key) and hands the
connection back, with what it has read of the next request, for anything else: another
service's path, Swagger, a missing or wrong key. It also hands connections back after a short
lease (so that new replicas get a share of long-lived connections) and when it is told to drain
(before it stops, so that a keep-alive client is never cut).

The channel is the one Node.js opens for a child started with an 'ipc' stdio: JSON messages, one
a line, on a Unix socket whose number is in NODE_CHANNEL_FD; a socket travels as SCM_RIGHTS
ancillary data with a message {"cmd": "NODE_HANDLE", "type": "net.Socket", "msg": ...}, which the
receiver acknowledges with {"cmd": "NODE_HANDLE_ACK"} before the sender passes the next one.
Written by hand because no standard-library module speaks it, and the server may use nothing else.
"""

import array
import base64
import collections
import hashlib
import hmac
import json
import os
import socket
import threading
import time

from aml_server.driver import log

# A handed connection goes back to the gateway at its first request past this age, so that a
# client's long-lived connections spread over replicas added since.
LEASE_SECONDS = 1.0
# How often the replica tells the runtime how busy its handed connections keep it (its autoscaler
# reads it), as the average number of requests in progress over the period.
LOAD_EVERY_SECONDS = 0.1
MAX_FDS_A_READ = 64


class Channel(object):
    """The runtime's end: JSON lines in both directions, sockets with SCM_RIGHTS."""

    def __init__(self, fd, on_message, on_socket, on_socket_taken):
        self._sock = socket.socket(fileno=fd)
        self._sock.setblocking(False)
        self._on_message = on_message
        self._on_socket = on_socket
        self._on_socket_taken = on_socket_taken
        self._incoming = bytearray()
        self._fds = collections.deque()
        # Sockets going back wait for the acknowledgement of the one before (the protocol's rule).
        self._outgoing_sockets = collections.deque()
        self._awaiting_ack = False
        self._loop = None

    def start(self, loop):
        self._loop = loop
        loop.add_reader(self._sock.fileno(), self._readable)

    def send(self, message):
        self._write(json.dumps(message, separators=(",", ":")).encode("utf-8") + b"\n")

    def send_socket(self, fd, message):
        """Passes `fd` (which this call owns and closes) to the runtime with `message`."""
        self._outgoing_sockets.append((fd, message))
        self._next_socket()

    @property
    def sockets_in_transit(self):
        """Sockets not yet taken by the runtime (queued, or sent and not acknowledged)."""
        return len(self._outgoing_sockets) + (1 if self._awaiting_ack else 0)

    def _next_socket(self):
        if self._awaiting_ack or not self._outgoing_sockets:
            return
        fd, message = self._outgoing_sockets.popleft()
        line = json.dumps({"cmd": "NODE_HANDLE", "type": "net.Socket", "msg": message}, separators=(",", ":")).encode("utf-8") + b"\n"
        try:
            self._write(line, fd)
            self._awaiting_ack = True
        finally:
            os.close(fd)

    def _write(self, data, fd=None):
        # Messages are small and the runtime reads them at once: wait for room rather than buffer.
        ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]).tobytes())] if fd is not None else []
        view = memoryview(data)
        while view:
            try:
                sent = self._sock.sendmsg([view], ancillary)
            except BlockingIOError:
                time.sleep(0.0005)
                continue
            ancillary = []
            view = view[sent:]

    def _readable(self):
        try:
            data, ancillary, _, _ = self._sock.recvmsg(65536, socket.CMSG_SPACE(MAX_FDS_A_READ * array.array("i").itemsize))
        except (BlockingIOError, InterruptedError):
            return
        except OSError as err:
            log("the runtime's channel failed: %s" % err)
            self._loop.remove_reader(self._sock.fileno())
            return
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds = array.array("i")
                fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
                self._fds.extend(fds)
        if not data:
            # The runtime is gone (AML_EXIT_WITH_PARENT ends this process soon after).
            self._loop.remove_reader(self._sock.fileno())
            return
        self._incoming += data
        while True:
            end = self._incoming.find(b"\n")
            if end < 0:
                return
            line = bytes(self._incoming[:end])
            del self._incoming[: end + 1]
            if line.strip():
                self._dispatch(json.loads(line.decode("utf-8")))

    def _dispatch(self, message):
        command = message.get("cmd") if isinstance(message, dict) else None
        if command == "NODE_HANDLE":
            if not self._fds:
                log("the runtime passed a connection that did not arrive")
                self.send({"cmd": "NODE_HANDLE_NACK"})
                return
            fd = self._fds.popleft()
            self.send({"cmd": "NODE_HANDLE_ACK"})
            self._on_socket(fd, message.get("msg") or {})
        elif command == "NODE_HANDLE_ACK":
            self._awaiting_ack = False
            self._next_socket()
            self._on_socket_taken()
        elif command == "NODE_HANDLE_NACK":
            self._awaiting_ack = False
            log("the runtime did not take a connection handed back to it")
            self._next_socket()
        elif command == "NODE_SOCKET_NOTIFY_CLOSE":
            # Node asks this when the gateway's listener closes: the connections it passed are ours to end.
            self.send({"cmd": "NODE_SOCKET_CLOSED", "key": message.get("key")})
        elif command == "NODE_SOCKET_GET_COUNT":
            self.send({"cmd": "NODE_SOCKET_COUNT", "key": message.get("key"), "count": 0})
        elif command is None:
            self._on_message(message)


class Handoff(object):
    """What a replica does with handed connections: which of their requests it serves, when they
    go back, and how busy they keep it. Used from the event loop only."""

    def __init__(self, channel_fd, service_name):
        self._channel = Channel(channel_fd, self.on_message, self.on_socket, self._maybe_drained)
        self._path = ("/api/v1/service/%s/score" % service_name).encode("latin-1")
        self._path_query = self._path + b"?"
        self._key_hashes = []
        self._keys_version = 0
        self._draining = None
        self._drained_said = False
        self.connections = set()
        # Time-weighted requests in progress on handed connections, since the last report.
        self._busy = 0
        self._busy_area = 0.0
        self._busy_since = time.monotonic()
        self._reported = 0.0
        # (connection, when it started) while a handed request's run() holds the event loop.
        self.inline = None

    def start(self, loop, http_server):
        self._http = http_server
        self._loop = loop
        self._channel.start(loop)
        loop.call_later(LOAD_EVERY_SECONDS, self._report_load)
        if http_server.request_deadline:
            threading.Thread(target=self._watch_inline, args=(http_server.request_deadline,), name="handoff-deadline", daemon=True).start()

    def _watch_inline(self, deadline):
        """A run() quick enough to run on the event loop that then hangs holds the loop, so the
        deadline's 504 comes from this thread (a run() in a worker thread gets it from the loop)."""
        answered = None
        while True:
            time.sleep(0.1)
            current = self.inline
            if current is None or current is answered or time.monotonic() - current[1] <= deadline:
                continue
            answered = current
            current[0].answer_blocked_deadline()

    @property
    def draining(self):
        return self._draining is not None

    # From the runtime

    def on_message(self, message):
        kind = message.get("t")
        if kind == "keys":
            hashes = message.get("hashes") or []
            self._key_hashes = [bytes.fromhex(h) for h in hashes if isinstance(h, str)]
            self._keys_version += 1
            self._channel.send({"t": "ack", "seq": message.get("seq")})
        elif kind == "drain":
            self._draining = message.get("seq")
            for connection in list(self.connections):
                connection.hand_back_when_idle()
            self._maybe_drained()

    def on_socket(self, fd, message):
        buffered = base64.b64decode(message.get("buffered") or "")
        sock = socket.socket(fileno=fd)
        if self._draining is not None:
            # Too late for this replica: straight back to the gateway, which picks another.
            self._channel.send_socket(sock.detach(), {"t": "returned", "reason": "drain", "buffered": message.get("buffered") or ""})
            return
        self._http.adopt(sock, buffered, self)

    # From the connections

    def refuses(self, connection, method, target, headers):
        """None when a request on a handed connection is served here; else why the connection goes
        back: "drain", "lease" (the gateway hands it on again), or "elsewhere" (the gateway answers)."""
        if self._draining is not None:
            return "drain"
        if method != b"POST" or (target != self._path and not target.startswith(self._path_query)):
            return "elsewhere"
        authorization = headers.get("authorization", "")
        # A connection's requests carry the same header: it is checked again only when it or the keys change.
        if connection.accepted_authorization != (authorization, self._keys_version):
            if not self._key_matches(authorization):
                return "elsewhere"
            connection.accepted_authorization = (authorization, self._keys_version)
        if time.monotonic() - connection.handed_at > LEASE_SECONDS:
            return "lease"
        return None

    def _key_matches(self, authorization):
        if authorization[:7].lower() != "bearer " or not self._key_hashes:
            return False
        presented = hashlib.sha256(authorization[7:].strip().encode("utf-8")).digest()
        matched = False
        for stored in self._key_hashes:
            matched |= hmac.compare_digest(stored, presented)
        return matched

    def hand_back(self, connection, fd, buffered, reason):
        self.connections.discard(connection)
        self._channel.send_socket(fd, {"t": "returned", "reason": reason, "buffered": base64.b64encode(buffered).decode("ascii")})
        self._maybe_drained()

    def closed(self, connection):
        self.connections.discard(connection)
        self._maybe_drained()

    def busy(self, delta):
        now = time.monotonic()
        self._busy_area += self._busy * (now - self._busy_since)
        self._busy_since = now
        self._busy += delta

    def ran_inline(self, seconds):
        self._busy_area += seconds

    def _maybe_drained(self):
        # Drained once every connection is back in the runtime's hands, not merely on its way.
        if self._draining is not None and not self.connections and not self._channel.sockets_in_transit and not self._drained_said:
            self._drained_said = True
            self._channel.send({"t": "ack", "seq": self._draining})

    def _report_load(self):
        self.busy(0)
        load = self._busy_area / LOAD_EVERY_SECONDS
        self._busy_area = 0.0
        if load or self._reported:
            self._channel.send({"t": "load", "inFlight": round(load, 3)})
        self._reported = load
        self._loop.call_later(LOAD_EVERY_SECONDS, self._report_load)
