"""Command-line import for maintainers: validate cohort files and write a DuckDB cohort file.

    python -m analytics.importing cohort.xlsx --out data/my_cohort.duckdb
    python -m analytics.importing patients.csv events.csv ... --out data/my_cohort.duckdb
    python -m analytics.importing study/ --efs-source DFS --out study.duckdb   (a cBioPortal study folder)
    python -m analytics.importing our_series.xlsx --write-mapping mapping.json --out x.duckdb   # suggest
    python -m analytics.importing our_series.xlsx --mapping mapping.json --out data/ours.duckdb

A group's own spreadsheet or a REDCap export (raw data CSV + data dictionary CSV) needs a
mapping: `--write-mapping` writes the suggested one (nothing is imported) to review, or save it
from the upload page; `--mapping` imports with it. Calendar dates become days relative to the
B-ALL diagnosis in memory and are discarded.

The same checks as the upload page. The report (file, sheet, row, column, value, problem, fix)
is printed as CSV on stdout. On any error the exit status is 1 and `--out` is left untouched;
otherwise the file is written atomically (temporary file beside it, then rename) and the
status is 0. Point the app at the file with BALL_COHORT_DB=path (see README, Settings).
The per-file size limit of the upload page does not apply here. A folder stands for every
file in it (a cBioPortal study as published, case_lists/ included). `--efs-source` chooses
which of a cBioPortal study's sources gives relapse/progression events (the report lists what
each would yield).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from analytics.importing import import_files, sources, write_database
from analytics.importing.mapping import Mapping
from analytics.importing.report import Report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analytics.importing", description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", help="the workbook, the CSV tables or the cBioPortal study files")
    parser.add_argument("--out", required=True, help="DuckDB file to write (replaced only on success)")
    parser.add_argument("--efs-source", default=None,
                        help="cBioPortal: relapse/progression events from 'timeline', a *_STATUS/*_MONTHS pair "
                             "('DFS', 'PFS', ...) or 'none' (default: the timeline if it has relapses, else none)")
    parser.add_argument("--mapping", help="mapping file (JSON, saved by the upload page or --write-mapping) "
                                          "for a group's own spreadsheet or REDCap export")
    parser.add_argument("--write-mapping", help="write the suggested mapping for the files to this JSON file, "
                                                "import nothing")
    args = parser.parse_args(argv)
    files = []
    for name in args.files:
        path = Path(name)
        if path.is_dir():
            files += [(p.name, p.read_bytes()) for p in sorted(path.rglob("*"))
                      if p.is_file() and not p.name.startswith(".")]
            continue
        if not path.is_file():
            print(f"error: {name}: no such file", file=sys.stderr)
            return 1
        files.append((path.name, path.read_bytes()))
    if not files:
        print("error: no files", file=sys.stderr)
        return 1
    chosen = None
    if args.mapping:
        path = Path(args.mapping)
        if not path.is_file():
            print(f"error: {args.mapping}: no such file", file=sys.stderr)
            return 1
        mapping_report = Report()
        chosen = Mapping.from_json(path.read_bytes(), path.name, mapping_report)
        if chosen is None:
            sys.stdout.write(mapping_report.frame().to_csv(index=False))
            print(f"error: {args.mapping} is not a usable mapping; {args.out} is unchanged.", file=sys.stderr)
            return 1
    limit = sources.MAX_FILE_BYTES
    sources.MAX_FILE_BYTES = max(limit, max(len(data) for _, data in files))  # maintainers: no upload limit
    try:
        result = import_files(files, chosen, efs_source=args.efs_source)
    finally:
        sources.MAX_FILE_BYTES = limit
    if result.kind == "mapped" and chosen is None:
        if args.write_mapping and result.mapping is not None:
            Path(args.write_mapping).write_text(result.mapping.to_json(), encoding="utf-8")
            print(f"wrote the suggested mapping to {args.write_mapping}: review it, then run again with "
                  f"--mapping {args.write_mapping}. Nothing imported.", file=sys.stderr)
            return 0
        print("error: these files need a mapping onto the schema (a spreadsheet or REDCap export): run with "
              "--write-mapping mapping.json for a suggestion, review it, then --mapping mapping.json. "
              f"{args.out} is unchanged.", file=sys.stderr)
        return 1
    report = result.report
    if report.issues:
        sys.stdout.write(report.frame().to_csv(index=False))
    for source in result.endpoint_sources:
        print(f"survival source {source.name}: {source.patients} patients, {source.events} events "
              f"({source.columns})", file=sys.stderr)
    if result.endpoint_sources:
        print(f"EFS source used: {result.efs_source}", file=sys.stderr)
    for item in result.not_mapped:
        print(f"not mapped: {item}", file=sys.stderr)
    if not result.ok:
        print(f"{len(report.errors)} error(s): nothing written; {args.out} is unchanged.", file=sys.stderr)
        return 1
    try:
        out = write_database(result.tables, args.out)
    except Exception as exc:  # the schema's own constraints, checked once more by DuckDB
        print(f"error: the database refused the tables ({str(exc).splitlines()[0]}); {args.out} is unchanged.",
              file=sys.stderr)
        return 1
    print(f"wrote {out} ({len(result.tables['patients'])} patients; {len(report.warnings)} warning(s)).",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
