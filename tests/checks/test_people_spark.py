"""The person matching's Splink model on Spark (the ``kpitools[spark]`` extra): the same
pairs, the same probabilities as on DuckDB, on a local Spark session. Skipped where
pyspark or Java is not installed (``make setup`` installs neither)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from test_people import SAME_PERSON, _learner, _records

from kpitools.checks.people import person_matches
from kpitools.rules import Rules

pyspark = pytest.importorskip("pyspark", reason="kpitools[spark] not installed")
if shutil.which("java") is None:
    pytest.skip("no Java: Spark cannot start", allow_module_level=True)


# PySpark warns that it does not fully support pandas 3, and its Arrow conversion passes
# pandas 3 a deprecated keyword: the conversions used here work without Arrow
pytestmark = [
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    mp = pytest.MonkeyPatch()
    mp.setenv("SPARK_LOCAL_IP", "127.0.0.1")  # a local session talks over loopback only
    session = (
        SparkSession.builder.master("local[1]")
        .appName("kpitools-person-matching")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.execution.arrow.pyspark.enabled", "false")
        # Splink's string similarity functions (Jaro-Winkler, Damerau-Levenshtein)
        .config("spark.jars", similarity_jar_location())
        .getOrCreate()
    )
    # Splink checkpoints its intermediate tables
    session.sparkContext.setCheckpointDir(str(tmp_path_factory.mktemp("spark-checkpoints")))
    yield session
    session.stop()
    mp.undo()


def test_spark_finds_what_duckdb_finds(spark: object) -> None:
    from splink import SparkAPI

    rows = []
    for i, (first, second) in enumerate(SAME_PERSON[:4]):
        rows += [
            {**_learner(f"S{i}A", "", first), "source": f"learners.csv:{i + 2}"},
            {**_learner(f"S{i}B", "", second), "source": f"learners.csv:{i + 2}"},
        ]
    records = _records(rows, ["P001", "P002"] * 4).assign(uln=None)
    report_to = ("P001", "P002")
    on_duckdb = person_matches(records, records.iloc[:0], report_to=report_to, rules=Rules())
    on_spark = person_matches(
        records,
        records.iloc[:0],
        report_to=report_to,
        rules=Rules(),
        db_api=SparkAPI(spark_session=spark),
    )
    assert len(on_duckdb.findings["P001"]) == 4
    for provider in report_to:
        assert [f.message for f in on_spark.findings[provider]] == [
            f.message for f in on_duckdb.findings[provider]
        ]
