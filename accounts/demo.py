"""The demo data `manage.py seed_demo` creates: each app registers its seeder.

A seeder is `seed(organization)`, registered in its app's `AppConfig.ready()`; they run
in the order of INSTALLED_APPS (contacts, instances, flows, campaigns), each app's after
the apps it builds on. Accounts, at the bottom of the tower, imports none of them.
"""

SEEDERS = []


def register_seeder(seed) -> None:
    if seed not in SEEDERS:
        SEEDERS.append(seed)
