FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system bookings \
    && useradd --system --gid bookings --home-dir /app --shell /usr/sbin/nologin bookings

WORKDIR /app

COPY pyproject.toml alembic.ini celeryconfig.py ./
COPY api/ api/
COPY worker/ worker/
COPY models/ models/
COPY cli/ cli/
COPY migrations/ migrations/

RUN pip install --no-cache-dir . \
    && rm -rf build *.egg-info \
    && chown -R bookings:bookings /app

USER bookings

EXPOSE 8000

CMD ["bookings", "api", "--port", "8000"]
