import gc
import os

from django.core.wsgi import get_wsgi_application
from django.db.backends.signals import connection_created

from core.db import spread_reconnects

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
connection_created.connect(spread_reconnects)

# Everything loaded so far lives as long as the process. Left to the collector, a full
# collection walks those ~100k objects, holding the GIL for ~40 ms and stalling every
# thread of the worker (it was most of the webhook endpoint's p99); frozen, it skips them.
gc.collect()
gc.freeze()
