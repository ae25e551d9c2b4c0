"""The Socket.IO message queue on Redis, made to ride out a Redis outage.

python-socketio's RedisManager (which Flask-SocketIO uses for `message_queue`) drops what is
published while Redis is away (pub/sub keeps nothing) and resubscribes with a doubling delay
capped at 60 s, while redis-py's default retry ladder (10 tries, up to 1 s apart) runs inside
every emit, so a vote's answer waits seconds. For a live meeting this manager:

- tries a publish once, reconnecting once, with no backoff; when Redis is away, delivers the
  broadcast to this process's own clients and logs the outage once, not per message;
- resubscribes at most RETRY_MAX seconds apart, so cross-process broadcasts resume within
  seconds of Redis's return;
- once subscribed again, sends `resync` to every client of this process: whatever was published
  meanwhile is lost, and the snapshot the client then asks for brings it back.
"""

import logging
import time

import socketio
from redis.backoff import NoBackoff
from redis.retry import Retry

RETRY_MIN = 0.25
RETRY_MAX = 2.0
CHANNEL = "flask-socketio"  # Flask-SocketIO's default, shared by every process of a deployment


def queue_channel(config) -> str:
    """The pub/sub channel: Redis's channels ignore the database number, so a namespace names it."""
    namespace = config.get("REDIS_NAMESPACE")
    return f"{namespace}:{CHANNEL}" if namespace else CHANNEL


log = logging.getLogger("meeting.queue")  # the app's log (python-socketio's own shows errors only)


class ResilientRedisManager(socketio.RedisManager):
    name = "redis"

    def __init__(self, url: str, channel: str = CHANNEL, write_only: bool = False):
        super().__init__(url, channel=channel, write_only=write_only,
                         redis_options={"retry": Retry(NoBackoff(), 0), "socket_connect_timeout": 2})
        self.down = False  # Redis refused the last publish or dropped the subscription

    def _went_down(self, exc: Exception) -> None:
        if not self.down:
            self.down = True
            log.warning("message queue unavailable (%s): broadcasts reach this process only", exc)

    def _publish(self, data):
        for _ in range(2):  # a dead connection, then a fresh one
            try:
                if not self.connected:
                    self._redis_connect()
                return self.redis.publish(self.channel, self.json.dumps(data))
            except Exception as exc:  # noqa: BLE001 - any Redis or socket error means "not published"
                self.connected = False
                error = exc
        self._went_down(error)
        if isinstance(data, dict) and data.get("method") == "emit":
            self._handle_emit(data)
        return None

    def _redis_listen_with_retries(self):
        delay = RETRY_MIN
        lost = False
        while True:
            try:
                client = self._get_redis_module().Redis.from_url(self.redis_url, **self.redis_options)
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

    def _resync_local_clients(self) -> None:
        # Manager.emit, below the pub/sub layer: this process's connections only.
        socketio.Manager.emit(self, "resync", {}, namespace="/")
