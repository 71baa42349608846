from tests.campaigns.test_admin import client_, operator, root  # noqa: F401  (the admin tests' fixtures)
