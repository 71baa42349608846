def seed(organization) -> None:
    """Demo sandbox instance for `make run` (filled in with the instances capability)."""
