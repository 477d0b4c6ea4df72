"""The framework-free core. It imports neither Flask nor Celery.

    tables/    SQLAlchemy models: what Postgres stores and enforces
    domain/    pure rules, no session and no I/O: the decision engine, payloads,
               recurrence, calendars, the booking lifecycle, input validation
    services/  units of work over the tables: accept, decide, housekeeping, reads

The session rule: a service that commits takes a `sessionmaker` and opens its own
transaction (`with sessions.begin() as session:`), e.g. `accept.submit`,
`decide.decide_turn` (through its store), the housekeeping jobs. Every other service takes a
`Session` and joins the caller's transaction, committing nothing.

Besides: db (engine and sessions), settings (the one place that reads the environment),
errors (domain errors), locks (every lock's name), queues (task names and routing),
logs and metrics.
"""
