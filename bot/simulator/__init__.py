"""The LINE-like simulator page (/simulator): chats with the bot through the real webhook path."""
