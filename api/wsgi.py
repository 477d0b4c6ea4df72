"""The WSGI entry point for gunicorn: `gunicorn api.wsgi:app`."""

from api import create_app
from models.logs import configure_logging
from models.settings import load_settings

settings = load_settings()
configure_logging(settings.log_level)
app = create_app(settings)
