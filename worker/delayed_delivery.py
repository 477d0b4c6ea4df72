"""Set Celery's native delayed delivery up through one node of a RabbitMQ cluster, not all.

With quorum queues (RabbitMQ), a retry's countdown is delivered late by RabbitMQ itself:
Celery's `DelayedDelivery` consumer step declares the `celery_delayed_*` exchanges and
queues and binds the task queues to them. It does so once per URL of
`CELERY_BROKER_URL`, each with three retries 1, 3 and 5 s apart, and the consumer
consumes nothing until it is done, on every reconnect. Our URLs are the nodes of one
cluster, where what is declared through one node exists on all: with one node dead,
the step held a reconnecting worker for 17 s (issue 20), past the 5 s a broker node's
loss may stop decisions. So the setup goes through the nodes in turn, once each, and
stops at the first that answers; only if none does is it tried again, as Celery would,
on the next reconnect.
"""

from __future__ import annotations

import logging
from typing import Any

from celery.worker.consumer.delayed_delivery import DelayedDelivery
from kombu.utils.url import maybe_sanitize_url

log = logging.getLogger(__name__)


def _start_on_one_node(self: DelayedDelivery, c: Any) -> None:
    self._validate_configuration(c.app)
    for url in self._validate_broker_urls(c.app.conf.broker_url):
        try:
            self._setup_delayed_delivery(c, url)
        except Exception as exc:  # the node is down or unreachable: the next one
            log.warning("delayed delivery not set up through %s: %s", maybe_sanitize_url(url), exc)
            continue
        return
    log.critical("delayed delivery could not be set up through any broker node")


def install() -> None:
    """Replace DelayedDelivery.start (idempotent)."""
    DelayedDelivery.start = _start_on_one_node
