"""What comes off the wire before any handler: a JSON module with limits and a guarded packet.

python-socketio decodes each frame with its `json` module and would raise on a frame it cannot
decode (nesting 1,000 deep, a 5,000-digit integer, a bare value where an event list belongs),
logging one traceback per frame: anyone connected could flood the log. Here every frame that
cannot be handled turns into the event MALFORMED, which answers `bad_request` when the sender
asked for an ack, and logs nothing. Frame size is capped by Engine.IO's max_http_buffer_size.
"""

import json as _json

from socketio import packet as _packet

MAX_DEPTH = 32
MAX_INT_DIGITS = 30  # more than any 64-bit id; far below Python's 4,300-digit guard
MALFORMED = "malformed_frame"


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError("integer too long")
    return int(text)


def _parse_float(text: str) -> float:
    if len(text) > 64:
        raise ValueError("number too long")
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("number out of range")
    return value


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _depth_ok(value) -> bool:
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return False
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return True


def loads(s, *args, **kwargs):
    """json.loads with limits: ValueError for deep nesting, huge numbers, NaN or Infinity."""
    try:
        value = _json.loads(s, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_refuse_constant)
    except RecursionError:
        raise ValueError("nesting too deep") from None
    if not _depth_ok(value):
        raise ValueError("nesting too deep")
    return value


def dumps(obj, *args, **kwargs):
    return _json.dumps(obj, *args, **kwargs)


class GuardedPacket(_packet.Packet):
    """A Socket.IO packet that never fails to decode: what cannot be handled becomes MALFORMED."""

    def decode(self, encoded_packet):
        try:
            count = super().decode(encoded_packet)
        except Exception:  # noqa: BLE001 - any undecodable frame is the sender's fault
            return self._malformed()
        if self.packet_type not in (_packet.CONNECT, _packet.DISCONNECT, _packet.EVENT, _packet.ACK) or count:
            return self._malformed()  # binary attachments, CONNECT_ERROR from a client, unknown types
        if self.packet_type == _packet.EVENT and not (
                isinstance(self.data, list) and self.data and isinstance(self.data[0], str)):
            return self._malformed()
        if self.packet_type == _packet.CONNECT and self.data is not None and not isinstance(self.data, dict):
            self.data = None
        return count

    def _malformed(self) -> int:
        self.packet_type = _packet.EVENT
        self.data = [MALFORMED]
        if not isinstance(self.namespace, str):
            self.namespace = None
        if not isinstance(self.id, int) or isinstance(self.id, bool):
            self.id = None
        return 0


class _JSONModule:
    """The object python-socketio and python-engineio call as their `json` module."""

    loads = staticmethod(loads)
    dumps = staticmethod(dumps)
    JSONDecodeError = _json.JSONDecodeError


json_module = _JSONModule()
