"""Coalitions, members, seats, profiles and API keys: the lowest domain app. Its permissions module is
the one visibility layer every surface reads through."""
