def seed(organization) -> None:
    """Demo contacts for `make run` (filled in with the contacts capability)."""
