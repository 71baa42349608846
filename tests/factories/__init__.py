"""factory_boy factories, one module per app.

Each module also lists, in `TENANT_FACTORIES`, how to make one row of each
tenant-owned model for a given organization; the tenant isolation test uses that to
prove every API endpoint hides other organizations' rows.
"""

import importlib
import pkgutil


def tenant_factories() -> dict:
    """{model class: callable(organization) -> instance}, over all factory modules."""
    registry = {}
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        registry.update(getattr(module, "TENANT_FACTORIES", {}))
    return registry
