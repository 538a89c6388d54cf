"""kawasaki-line-intake: the LINE official-account bot for Kawasaki City's procedures."""

from bot import line_sdk as _line_sdk

# Before any module imports line-bot-sdk: load only the SDK parts the bot uses (see line_sdk.py).
_line_sdk.install()
