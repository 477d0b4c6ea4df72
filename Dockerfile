FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system bookings \
    && useradd --system --gid bookings --home-dir /app --shell /usr/sbin/nologin bookings

WORKDIR /app

# The pinned dependencies first (make lock keeps requirements.lock current), so a code
# change rebuilds only the last layers. No embedded servers: a deployment names its own.
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock

COPY pyproject.toml alembic.ini celeryconfig.py ./
COPY api/ api/
COPY worker/ worker/
COPY models/ models/
COPY cli/ cli/
COPY migrations/ migrations/

RUN pip install --no-cache-dir --no-deps . \
    && rm -rf build *.egg-info \
    && chown -R bookings:bookings /app

USER bookings

EXPOSE 8000

# The API's own liveness; docker-compose.yml gives the worker and beat checks of theirs.
HEALTHCHECK --interval=10s --timeout=5s --start-period=15s --retries=5 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3)"]

CMD ["bookings", "api", "--port", "8000"]
