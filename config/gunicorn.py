"""Gunicorn settings of the `web` process: `gunicorn -c config/gunicorn.py config.wsgi` (Procfile).

https://docs.gunicorn.org/en/stable/settings.html
"""

import os

bind = os.environ.get("WEB_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threads wait on PostgreSQL side by side, and the webhook intake stores what they hold in one
# statement; enough of them serve every keep-alive connection a worker is handed at once. Each
# holds a database connection (CONN_MAX_AGE): 2 x 16 = 32 per web machine.
threads = int(os.environ.get("WEB_THREADS", "16"))
# Each worker listens on its own SO_REUSEPORT socket and the kernel spreads new connections
# over them. On one shared socket whichever worker is in accept() first takes them all, and
# a few keep-alive clients (Evolution keeps its connections open) could load one worker while
# the other idles.
reuse_port = True
accesslog = os.environ.get("WEB_ACCESS_LOG", "-") or None
