from tests.campaigns.api.test_campaigns import setup  # noqa: F401  (the API tests' flow, instance and contacts, shared)
