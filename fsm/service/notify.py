"""Webhook notifications from the runner: a JSON POST per event, sent from a thread of its own.

Fills, anomalies (strays, a position closed by hand, a stop cancelled by hand), rejections, a
protective stop that OKX fired, parked machines and the runner stopping are posted to `--notify URL`.
A failure to notify is logged, never fatal, and never blocks a tick: events queue (bounded; the
oldest are dropped when full) and one worker sends them.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from typing import Any

import requests

log = logging.getLogger("okx_fsm.notify")
QUEUE_MAX = 1000
TIMEOUT_S = 5.0


class Notifier:
    def __init__(self, url: str, *, session: requests.Session | None = None) -> None:
        self.url = url
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue(maxsize=QUEUE_MAX)
        self._session = session or requests.Session()
        self._thread = threading.Thread(target=self._work, name="okx-fsm-notify", daemon=True)
        self._thread.start()

    def send(self, machine: str, event: str, detail: str, **extra: Any) -> None:
        """Queue one event; drops the oldest when the queue is full (the tick never waits)."""
        payload = {"machine": machine, "event": event, "detail": detail, "ts": time.time(), **extra}
        while True:
            try:
                self._queue.put_nowait(payload)
                return
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self._queue.get_nowait()

    def close(self, timeout_s: float = 10.0) -> None:
        """Send what is queued (waiting at most `timeout_s`), then stop the worker."""
        self._queue.put(None)
        self._thread.join(timeout_s)

    def _work(self) -> None:
        while (payload := self._queue.get()) is not None:
            try:
                response = self._session.post(self.url, json=payload, timeout=TIMEOUT_S)
                if response.status_code >= 400:
                    log.warning("notify %s answered HTTP %d", self.url, response.status_code)
            except requests.RequestException as exc:
                log.warning("notify %s failed: %s", self.url, type(exc).__name__)
