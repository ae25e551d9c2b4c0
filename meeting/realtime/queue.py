"""The Socket.IO message queue on Redis, made to ride out a Redis outage.

python-socketio's RedisManager (which Flask-SocketIO uses for `message_queue`) drops what is
published while Redis is away (pub/sub keeps nothing) and resubscribes with a doubling delay
capped at 60 s, while redis-py's default retry ladder (10 tries, up to 1 s apart) runs inside
every emit, so a vote's answer waits seconds. For a live meeting this manager:

- tries a publish once, reconnecting once, with no backoff, and waits at most PUBLISH_TIMEOUT
  for Redis's answer (a frozen Redis would otherwise hold the emitting handler, and its ack,
  forever); when Redis is away, the broadcast reaches this process's own clients only (upstream
  delivers to them before publishing), the outage is logged once, not per message, and for
  RETRY_MIN seconds after a failure no publish is tried (a frozen Redis then costs one timeout
  per RETRY_MIN, not one per broadcast);
- resubscribes at most RETRY_MAX seconds apart, so cross-process broadcasts resume within
  seconds of Redis's return;
- once subscribed again, sends `resync` to every client of this process: whatever was published
  meanwhile is lost, and the snapshot the client then asks for brings it back; and once a
  publish goes through after some failed, sends `resync` to the other processes' clients (which
  missed those broadcasts even when the subscription never dropped).
"""

import logging
import time

import socketio
from redis.backoff import NoBackoff
from redis.retry import Retry

from meeting import lease

RETRY_MIN = 0.25
RETRY_MAX = 2.0
PUBLISH_TIMEOUT = 1.0
CHANNEL = "flask-socketio"  # Flask-SocketIO's default, shared by every process of a deployment


def queue_channel(config) -> str:
    """The pub/sub channel: Redis's channels ignore the database number, so a namespace names it."""
    namespace = config.get("REDIS_NAMESPACE")
    return f"{namespace}:{CHANNEL}" if namespace else CHANNEL


log = logging.getLogger("meeting.queue")  # the app's log (python-socketio's own shows errors only)


class ResilientRedisManager(socketio.RedisManager):
    name = "redis"

    def __init__(self, url: str, channel: str = CHANNEL, write_only: bool = False):
        options = {"retry": Retry(NoBackoff(), 0), "socket_connect_timeout": 2}
        super().__init__(url, channel=channel, write_only=write_only,
                         redis_options={**options, "socket_timeout": PUBLISH_TIMEOUT})
        # The subscription waits for messages as long as none come: no read timeout.
        self.listen_options = options
        self.down = False  # Redis refused the last publish or dropped the subscription
        self.retry_at = 0.0  # no publish is tried before this (time.monotonic())
        self.unpublished = False  # a broadcast failed to reach the other processes since the last resync

    def _went_down(self, exc: Exception) -> None:
        if not self.down:
            self.down = True
            log.warning("message queue unavailable (%s): broadcasts reach this process only", exc)

    def _publish(self, data):
        error = None
        for _ in range(0 if time.monotonic() < self.retry_at else 2):  # a dead connection, then a fresh one
            try:
                if not self.connected:
                    self._redis_connect()
                result = self.redis.publish(self.channel, self.json.dumps(data))
                if self.unpublished:
                    try:
                        self._resync_other_processes()
                    except Exception:  # noqa: BLE001 - asked again after the next publish
                        self.unpublished = True
                return result
            except Exception as exc:  # noqa: BLE001 - any Redis or socket error means "not published"
                self.connected = False
                error = exc
                if isinstance(exc, TimeoutError) or "Timeout" in type(exc).__name__:
                    break  # a frozen Redis: a second try would only wait as long again
        if error is not None:
            self.retry_at = time.monotonic() + RETRY_MIN
            self._went_down(error)
        self.unpublished = True
        # Nothing more to do for this process's own clients: PubSubManager.emit delivered to them
        # before publishing (python-socketio 5.x), and the listener skips what this host sent.
        return None

    def _redis_listen_with_retries(self):
        delay = RETRY_MIN
        lost = False
        while True:
            try:
                client = self._get_redis_module().Redis.from_url(self.redis_url, **self.listen_options)
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                if lost:
                    self.down = False
                    log.warning("message queue back: asking this process's clients to resync")
                    self._resync_local_clients()
                lost, delay = False, RETRY_MIN
                yield from pubsub.listen()
            except Exception as exc:  # noqa: BLE001 - reconnect on any failure, as upstream does
                if not lost:
                    self._went_down(exc)
                lost = True
                time.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)

    def _resync_other_processes(self) -> None:
        """Publishing works again after broadcasts failed to go out (a frozen Redis can fail
        publishes without ever dropping the subscription, so the listener sees no outage): the
        other processes' clients missed them, and are asked to resync. Ours got every one."""
        self.unpublished = False
        self.down = False
        log.warning("message queue back: asking the other processes' clients to resync")
        self.redis.publish(self.channel, self.json.dumps(
            {"method": "emit", "event": "resync", "data": [{}], "binary": False, "namespace": "/", "room": None,
             "skip_sid": None, "callback": None, "host_id": self.host_id}))

    def heal(self) -> None:
        """Send the resync owed to the other processes even if this one has nothing to publish."""
        if not self.unpublished or time.monotonic() < self.retry_at:
            return
        try:
            if not self.connected:
                self._redis_connect()
            self._resync_other_processes()
        except Exception:  # noqa: BLE001 - still away: try again at the next watch
            self.connected = False
            self.unpublished = True
            self.retry_at = time.monotonic() + RETRY_MIN

    def _resync_local_clients(self) -> None:
        # Manager.emit, below the pub/sub layer: this process's connections only.
        socketio.Manager.emit(self, "resync", {}, namespace="/")


def heal_queue(app) -> None:
    """Run by every worker's watch (meeting/lease.py), once a second."""
    manager = app.extensions.get("meeting_queue")
    if manager is not None:
        manager.heal()


lease.watchers.append(heal_queue)
