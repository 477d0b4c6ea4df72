"""The WSGI entry point: `granian --interface wsgi api.wsgi:app` (what `bookings api` runs)."""

from api import create_app
from models.logs import configure_logging
from models.runtime import freeze_startup_objects
from models.settings import load_settings

settings = load_settings()
configure_logging(settings.log_level)
app = create_app(settings)
freeze_startup_objects()
