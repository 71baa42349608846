"""Settings, all read from the environment (see `.env.example`), one module per concern.

The default runs on nothing: SQLite under `var/` and Celery's filesystem broker, so
`make run` works on a fresh machine. `DATABASE_URL` and `REDIS_URL` switch to
PostgreSQL and Redis, which is how the product runs in production and in the tests.

- `env`: the one `environ.Env`, the project's folders;
- `core`: Django itself (debug and key, languages, database, apps, middleware,
  templates, the admin's theme, static and media files, logging);
- `security`: HTTPS and headers, the content security policy, rate limits and the
  login lockout, CORS;
- `backends`: the cache and Redis, Celery's broker;
- `api`: Django REST framework and the OpenAPI schema;
- `operations`: metrics and retention;
- `apps`: each app's own knobs, one section per app;
- `periodic`: the one table of the system's beat jobs.
"""

from config.settings.api import *  # noqa: F403
from config.settings.apps import *  # noqa: F403
from config.settings.backends import *  # noqa: F403
from config.settings.core import *  # noqa: F403
from config.settings.operations import *  # noqa: F403
from config.settings.periodic import *  # noqa: F403
from config.settings.security import *  # noqa: F403
