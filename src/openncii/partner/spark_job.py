"""The ``spark-submit`` entry point of a cluster scan (docs/partners.md has the steps).

Three jobs, each reading and writing Parquet at paths or object-store URIs::

    spark-submit "$(python -c 'import openncii.partner.spark_job as j; print(j.__file__)')" \\
        hash --source s3://media/uris.parquet --out s3://scan/hashes/
    ... match --hashes s3://scan/hashes/ --bank s3://scan/bank-0042.parquet \\
        --out s3://scan/matches-0042/
    ... rematch --hashes s3://scan/hashes/ --matches s3://scan/matches-0042/ \\
        --old-bank s3://scan/bank-0042.parquet --new-bank s3://scan/bank-0043.parquet \\
        --out s3://scan/matches-0043/

``hash``: a table of URIs (a ``uri`` column, optional ``id``) to one row per item with its
hashes or its error, once. ``match``: those hashes against a bank snapshot (``openncii partner
export-bank``). ``rematch``: after a sync, the matches against the new bank from the matches
against the old one, searching the stored hashes against the bank's changes only. Bring
matches home with ``openncii partner import-matches``. ``python -m
openncii.partner.spark_job`` runs the same with a local Spark (``--master local[2]``).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from openncii.errors import ScanSetupError

__all__ = ["main"]

_log = logging.getLogger("openncii.spark_job")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="openncii.partner.spark_job", description="OpenNCII scan jobs for Apache Spark."
    )
    parser.add_argument(
        "--master", help="Spark master (default: what spark-submit or the cluster sets)."
    )
    jobs = parser.add_subparsers(dest="job", required=True)
    hashing = jobs.add_parser("hash", help="Hash a table of media URIs once.")
    hashing.add_argument("--source", required=True, help="Parquet table: 'uri' (and 'id').")
    hashing.add_argument("--out", required=True, help="Where to write the hashes (Parquet).")
    hashing.add_argument(
        "--no-variants", action="store_true", help="Skip the robust query variants."
    )
    hashing.add_argument(
        "--partitions", type=int, help="Repartition the URIs (default: as they are read)."
    )
    matching = jobs.add_parser("match", help="Match stored hashes against a bank snapshot.")
    matching.add_argument("--hashes", required=True)
    matching.add_argument("--bank", required=True)
    matching.add_argument("--out", required=True)
    matching.add_argument("--threshold", type=int, default=31)
    again = jobs.add_parser("rematch", help="Re-match stored hashes after the bank changed.")
    again.add_argument("--hashes", required=True)
    again.add_argument("--matches", required=True, help="The matches against --old-bank.")
    again.add_argument("--old-bank", required=True)
    again.add_argument("--new-bank", required=True)
    again.add_argument("--out", required=True)
    again.add_argument("--threshold", type=int, default=31)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one job; 0 when done, 2 when its inputs are unusable (said before any work)."""
    from pyspark.sql import SparkSession

    from openncii.partner.spark import (
        BYTES_BATCH_RECORDS,
        hash_images,
        match_hashes,
        rematch,
    )

    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    args = _parser().parse_args(argv)
    builder = SparkSession.builder.appName(f"openncii-{args.job}").config(
        "spark.sql.execution.arrow.maxRecordsPerBatch", str(BYTES_BATCH_RECORDS)
    )
    if args.master:
        builder = builder.master(args.master)
    spark = builder.getOrCreate()
    try:
        if args.job == "hash":
            source = spark.read.parquet(args.source)
            if args.partitions:
                source = source.repartition(args.partitions)
            ident = "id" if "id" in source.columns else None
            hashes = hash_images(source, uri_col="uri", id_col=ident, variants=not args.no_variants)
            hashes.write.mode("overwrite").parquet(args.out)
        elif args.job == "match":
            found = match_hashes(
                spark.read.parquet(args.hashes), args.bank, threshold=args.threshold
            )
            found.write.mode("overwrite").parquet(args.out)
        else:
            found = rematch(
                spark.read.parquet(args.hashes),
                spark.read.parquet(args.matches),
                args.old_bank,
                args.new_bank,
                threshold=args.threshold,
            )
            found.write.mode("overwrite").parquet(args.out)
    except ScanSetupError as exc:
        _log.error("%s", exc)
        return 2
    finally:
        spark.stop()
    _log.info("%s: written to %s", args.job, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
