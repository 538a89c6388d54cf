"""Every tappable action in Messaging API messages (quick replies, template and Flex buttons).

Used by the test residents, the load benchmark and anything else that "presses a button" by label.
"""

from __future__ import annotations

from typing import Any


def tappable_actions(messages: Any) -> list[dict[str, Any]]:
    """Actions with a label, in document order, from a message, a list of them, or any part."""
    found: list[dict[str, Any]] = []
    stack = [messages]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            action = node.get("action")
            if isinstance(action, dict) and "label" in action:
                found.append(action)
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, list):
            stack.extend(reversed(node))
    return found
