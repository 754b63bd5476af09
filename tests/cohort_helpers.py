"""Test helpers for editing a built cohort: its stored patient_summary must then be re-derived."""
from __future__ import annotations

from analytics.build import SCHEMA_SQL, materialize_summary

_MARKER = "CREATE VIEW patient_summary AS"


def summary_view_sql() -> str:
    """The schema's definition of patient_summary (the query after CREATE VIEW ... AS)."""
    text = SCHEMA_SQL.read_text()
    return text[text.index(_MARKER) + len(_MARKER):].strip().rstrip(";")


def rederive_summary(connection) -> None:
    """Recompute the stored patient_summary from the tables (after a test changed them)."""
    connection.execute("DROP TABLE patient_summary")
    connection.execute("CREATE VIEW patient_summary AS " + summary_view_sql())
    materialize_summary(connection)
