"""bot/line_sdk.py: the bot loads only the SDK parts it uses, and the full SDK still imports."""

from __future__ import annotations

import json
import subprocess
import sys

_PROBE = """
import json, sys
import bot.app, bot.events, bot.line_api, bot.webhook, bot.worker
loaded = {m: m in sys.modules for m in (
    "aiohttp", "linebot.api", "linebot.v3.webhooks.api.dummy",
    "linebot.v3.messaging.api.async_messaging_api", "linebot.v3.messaging.api.messaging_api")}
from linebot.v3.webhooks import MessageEvent
from linebot.v3.messaging import AsyncMessagingApi, TextMessage
from linebot.v3 import WebhookParser
import linebot
after = {"LineBotApi": hasattr(linebot, "LineBotApi"), "aiohttp": "aiohttp" in sys.modules,
         "names": [MessageEvent.__name__, TextMessage.__name__, AsyncMessagingApi.__name__, WebhookParser.__name__]}
print(json.dumps({"loaded": loaded, "after": after}))
"""


def _probe() -> dict:
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_bot_loads_only_the_sdk_parts_it_uses_and_the_rest_still_imports_on_demand() -> None:
    result = _probe()
    assert result["loaded"] == {
        "aiohttp": False,
        "linebot.api": False,
        "linebot.v3.webhooks.api.dummy": False,
        "linebot.v3.messaging.api.async_messaging_api": False,
        "linebot.v3.messaging.api.messaging_api": True,
    }
    # Names only the full packages define run their real __init__ on first use.
    assert result["after"] == {"LineBotApi": True, "aiohttp": True,
                               "names": ["MessageEvent", "TextMessage", "AsyncMessagingApi", "WebhookParser"]}
