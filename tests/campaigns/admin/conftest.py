from tests.campaigns.admin.test_campaigns import client_, operator, root  # noqa: F401  (the admin tests' fixtures)
