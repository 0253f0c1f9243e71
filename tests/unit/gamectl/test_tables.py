"""Tables and records as people read them, and the JSON scripts read."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

from google.protobuf.timestamp_pb2 import Timestamp

from gamectl.commands.output import take, write_list, write_one
from gamectl.commands.tables import Column, display_width, render_record, render_table, truncate
from gamectl.commands.views import GAMES, QUARANTINE, RUNS, enum_name, number, when
from games.catalog.v1 import catalog_pb2 as cpb
from games.ingestion.v1 import ingestion_pb2 as ipb


def game(n: int, **overrides: object) -> cpb.Game:
    values: dict[str, object] = {
        "name": f"games/{n}",
        "display_name": f"Game {n}",
        "platform": cpb.PLATFORM_IOS,
        "store_id": f"store-{n}",
        "publisher_name": "Example",
        **overrides,
    }
    return cpb.Game(**values)  # type: ignore[arg-type]


def test_columns_align_and_numbers_align_right() -> None:
    columns = (Column("NAME"), Column("COUNT", right=True), Column("NOTE"))
    table = render_table(columns, [["a", "1", "x"], ["longer", "1234", ""]])
    assert table.splitlines() == [
        "NAME    COUNT  NOTE",
        "a           1  x",
        "longer   1234",
    ]


def test_wide_characters_count_twice_and_accents_once() -> None:
    assert display_width("ポケモン") == 8
    assert display_width("Pokémon") == 7
    assert display_width("Poke\u0301mon") == 7, "a combining accent takes no column"
    table = render_table((Column("TITLE"), Column("X")), [["ポケモン", "1"], ["Pokémon GO", "2"]])
    first, second, third = table.splitlines()
    assert first.index("X") == display_width(second[: second.index("1")])
    assert display_width(third[: third.index("2")]) == display_width(second[: second.index("1")])


def test_long_cells_are_cut_with_an_ellipsis_and_control_characters_blanked() -> None:
    assert truncate("abcdefghij", 5) == "abcd…"
    assert truncate("abc", 5) == "abc"
    assert truncate("ポケモンGO", 5) == "ポケ…"
    table = render_table((Column("TITLE", max_width=8),), [["line one\nline two"]])
    assert table.splitlines() == ["TITLE", "line on…"]


def test_a_record_aligns_its_labels_and_indents_continuation_lines() -> None:
    assert render_record([("name", "games/1"), ("publisher id", "a\nb")]).splitlines() == [
        "name          games/1",
        "publisher id  a",
        "              b",
    ]
    assert render_record([]) == ""


def test_field_formats() -> None:
    stamp = Timestamp(seconds=1714564800)
    run = ipb.Run(state=ipb.RUN_STATE_SUCCEEDED, start_time=stamp)
    assert when(run, "start_time") == "2024-05-01 12:00:00Z"
    assert when(run, "end_time") == "-"
    assert enum_name(run, "state") == "succeeded"
    assert enum_name(run, "trigger") == "-"
    assert enum_name(game(1, platform=cpb.PLATFORM_ANDROID), "platform") == "android"
    assert [number(v) for v in (4.5, 0.99, 12.0, 0.0, 4.666)] == ["4.5", "0.99", "12", "0", "4.67"]


def test_game_rows_show_absent_optional_fields_as_a_dash() -> None:
    assert GAMES.row(game(1)) == ["games/1", "Game 1", "ios", "store-1", "Example", "-", "-"]
    assert GAMES.row(game(2, rating=0.0, best_rank=3))[-2:] == ["0", "3"]
    record = dict(GAMES.record(game(3, categories=["Games", "Puzzle"], in_app_purchases=False)))
    assert record["categories"] == "Games, Puzzle"
    assert record["in-app purchases"] == "no"
    assert record["price"] == "-"


def test_run_and_quarantine_rows() -> None:
    run = ipb.Run(name="runs/7", files_imported=2, files_skipped=1, records_imported=180)
    assert RUNS.row(run)[:1] + RUNS.row(run)[5:7] == ["runs/7", "2/1/0/0", "180"]
    record = ipb.QuarantinedRecord(file="files/1", key="ios.json", position=4, reason="missing name")
    assert QUARANTINE.row(record) == ["files/1", "ios.json", "4", "missing name", ""]


def test_write_list_as_table_with_a_note_when_cut_short() -> None:
    out, err = io.StringIO(), io.StringIO()
    write_list(GAMES, iter([game(1), game(2), game(3)]), as_json=False, limit=2, out=out, err=err)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["NAME", "TITLE", "PLATFORM", "STORE", "ID", "PUBLISHER", "RATING", "RANK"]
    assert [line.split()[0] for line in lines[1:]] == ["games/1", "games/2"]
    assert err.getvalue() == "(first 2 games shown; --limit 0 shows all)\n"


def test_write_list_with_nothing_says_so() -> None:
    out, err = io.StringIO(), io.StringIO()
    write_list(GAMES, iter([]), as_json=False, limit=10, out=out, err=err)
    assert out.getvalue() == "no games\n"
    assert err.getvalue() == ""


def test_write_list_as_json_is_an_array_of_proto3_json_objects() -> None:
    out, err = io.StringIO(), io.StringIO()
    games = [game(1, display_name="Pokémon GO", rating_count=12), game(2)]
    write_list(GAMES, iter(games), as_json=True, limit=0, out=out, err=err)
    data = json.loads(out.getvalue())
    assert data[0] == {
        "name": "games/1",
        "displayName": "Pokémon GO",
        "platform": "PLATFORM_IOS",
        "storeId": "store-1",
        "publisherName": "Example",
        "ratingCount": "12",
    }
    assert "Pokémon" in out.getvalue(), "non-ASCII stays readable"
    assert [g["name"] for g in data] == ["games/1", "games/2"]
    assert err.getvalue() == ""
    out = io.StringIO()
    write_list(GAMES, iter([]), as_json=True, limit=0, out=out, err=err)
    assert json.loads(out.getvalue()) == []


def test_write_one_as_record_or_json() -> None:
    out = io.StringIO()
    write_one(GAMES, game(5, etag="abc"), as_json=False, out=out)
    assert "name              games/5" in out.getvalue().splitlines()
    out = io.StringIO()
    write_one(GAMES, game(5, etag="abc"), as_json=True, out=out)
    assert json.loads(out.getvalue())["etag"] == "abc"


def test_take_stops_one_past_the_limit() -> None:
    pulled: list[int] = []

    def items() -> Iterator[int]:
        for i in range(1000):
            pulled.append(i)
            yield i

    assert take(items(), 3) == ([0, 1, 2], True)
    assert len(pulled) == 4
    assert take(iter([1, 2]), 2) == ([1, 2], False)
    assert take(iter(range(5)), 0) == ([0, 1, 2, 3, 4], False)
