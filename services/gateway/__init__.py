"""The gateway: the one door for callers (API keys, scopes, rate limits, cache, error hygiene)."""
