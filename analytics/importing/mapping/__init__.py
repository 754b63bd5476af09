"""A group's own spreadsheet or REDCap export, mapped onto the schema (being split into modules)."""
from analytics.importing.mapping.apply import *  # noqa: F401,F403
