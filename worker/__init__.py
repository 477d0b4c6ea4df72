"""Celery app, thin tasks, and the room processor that decides requests."""
