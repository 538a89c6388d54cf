"""Import only the parts of line-bot-sdk v3 the bot uses.

The SDK's package initializers import far more than their own package needs:
- `linebot/__init__.py` loads the deprecated v2 API (`LineBotApi`, its models, `requests`);
- `linebot/v3/webhooks/__init__.py` loads a generated `dummy` API client and its asyncio twin,
  which pull in aiohttp;
- `linebot/v3/messaging/__init__.py` and `.../api/__init__.py` load the asyncio API classes and
  every API of the channel (each method wrapped by pydantic's `validate_arguments`).
That is 62 MiB per process for what the bot needs in 37 MiB, in every web, worker and `serve`
process.

`install()` registers these packages (and `linebot.v3`) as *deferred* modules: the package object
exists with its real `__path__`, so submodules (`linebot.v3.messaging.api.messaging_api`, `...models`) import as
usual, and `from linebot.v3.webhooks import MessageEvent` finds the name in the package's `models`.
Any other name runs the package's real `__init__` first, so code that expects the whole package
(`from linebot.v3.messaging import AsyncMessagingApi`) still works, only without the saving.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from types import ModuleType
from typing import Any

# package -> its submodules that re-export the names other code asks the package for
_DEFERRED: dict[str, tuple[str, ...]] = {
    "linebot": (),
    "linebot.v3": (),
    "linebot.v3.webhooks": ("models",),
    "linebot.v3.messaging": ("models",),
    "linebot.v3.messaging.api": (),
}
_lock = threading.RLock()


def _deferred_package(name: str, exporters: tuple[str, ...]) -> ModuleType | None:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return None
    module = importlib.util.module_from_spec(spec)
    initialized = False

    def __getattr__(attr: str) -> Any:
        nonlocal initialized
        if attr.startswith("__"):
            raise AttributeError(attr)
        if not initialized:
            # Submodules and re-exported names import under the import system's own locks.
            if importlib.util.find_spec(f"{name}.{attr}") is not None:
                return importlib.import_module(f"{name}.{attr}")  # sets the attribute too
            for sub in exporters:
                exporter = importlib.import_module(f"{name}.{sub}")
                if hasattr(exporter, attr):
                    value = getattr(exporter, attr)
                    setattr(module, attr, value)
                    return value
            # A name only the full package defines: run its real __init__ now, once.
            with _lock:
                if not initialized:
                    initialized = True
                    spec.loader.exec_module(module)  # type: ignore[union-attr]
        try:
            return module.__dict__[attr]
        except KeyError:
            raise AttributeError(f"module {name!r} has no attribute {attr!r}") from None

    module.__getattr__ = __getattr__  # type: ignore[attr-defined]  # PEP 562
    return module


def install() -> None:
    """Defer the SDK's package initializers; a no-op once any part of the SDK is imported."""
    with _lock:
        if any(name in sys.modules for name in _DEFERRED):
            return
        for name, exporters in _DEFERRED.items():
            module = _deferred_package(name, exporters)
            if module is None:  # SDK not installed or laid out differently: import it normally
                return
            sys.modules[name] = module
            parent, _, child = name.rpartition(".")
            if parent:
                setattr(sys.modules[parent], child, module)
