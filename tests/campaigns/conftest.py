from tests.campaigns.test_api import setup  # noqa: F401  (the API tests' flow, instance and contacts, shared)
