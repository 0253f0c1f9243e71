"""The Python client of the games platform, for internal callers.

    from gamesclient import from_suite
    with from_suite(key="reader") as games:
        for game in games.iter_games("pokemon"):
            print(game.display_name, game.platform)

`connect(target, api_key=..., ca_file=...)` reaches any gateway; `from_suite()` the one `make up` runs.
`.catalog` and `.ingestion` are the generated stubs, already carrying the key and a default deadline;
idempotent reads are retried on UNAVAILABLE. A failed call raises `grpc.RpcError`; `error_details`
decodes its status, reason, field violations and retry delay.
"""

from gamekit.status import ErrorDetails, error_details
from gamesclient.channel import open_channel
from gamesclient.client import GamesClient, connect, from_suite, paginate, platform_value
from gamesclient.suite import SuiteError, SuiteInfo, load_suite

__all__ = [
    "ErrorDetails",
    "GamesClient",
    "SuiteError",
    "SuiteInfo",
    "connect",
    "error_details",
    "from_suite",
    "load_suite",
    "open_channel",
    "paginate",
    "platform_value",
]
