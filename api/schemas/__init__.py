"""Marshmallow schemas: what each endpoint accepts and answers."""
