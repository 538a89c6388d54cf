"""Staff accounts, roles, login lockout and the audit log of the console."""
