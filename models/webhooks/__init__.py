"""Webhooks, in one place: who is told what, how it is sent, and how often.

- `service.py`: webhooks of a user, the fan-out of events to deliveries, fair claims
  of what is due (per owner, a circuit breaker per webhook), retries, and the periodic
  dispatch job declared beside them (`@periodic`).
- `urls.py`: which addresses may be called (public, resolved at send time, no
  redirects): pure, without a database.
- `sender.py`: one signed request (Standard Webhooks) and what is kept of its answer.

Around it, where the layers put them: the table in `models/tables/webhooks.py` (with
every table, for the migrations), the thin Celery tasks in `worker/webhooks.py`, the
routes in `api/routes/webhooks.py`, the events they send from in
`models/services/outbox.py`. docs/webhooks.md is the operator's page.
"""
