"""The person matching's model: learner rows made comparable, and Splink's record linkage
over them (the UK Ministry of Justice's library; DuckDB, embedded, by default, Spark for
many areas over many years).

A learner row is compared with another on six fields, each at a few levels of agreement,
every level with a fixed m and u probability from the rules
(:data:`kpitools.rules.PERSON_MATCH_LEVELS`, rule ``person_match_levels``): the
Fellegi-Sunter model Splink implements, whose match probability of a pair is the prior
(``person_match_prior``) updated by the weight ``log2(m / u)`` of each field's level.
The values are normalised first (:func:`comparable`), so that case, accents, spaces and
punctuation never count as a disagreement.

Only pairs that share a blocking key (:data:`BLOCKING_RULES`) are scored, so the cost
grows with the learners, not with their square: a pair of rows of one person almost
always shares one (a birth date, a birth date with day and month swapped, a postcode
and the family name's initial, an NI number, a ULN, or a family name and given name).

Splink is imported when a match is run, never by a pack's kernel.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kpitools.rules import Rules

log = logging.getLogger(__name__)

FIELDS = ("given_name", "family_name", "date_of_birth", "postcode", "ni_number", "uln")
"""The fields compared, in the order of the model (and of the findings' words)."""

# Each comparison's levels, most specific first (the null level and the last, "other",
# are implicit: a field blank on either side weighs nothing; "other" is disagreement).
# (level name, how it compares): plain SQL in DuckDB's dialect (Splink translates it for
# Spark), or a string similarity as (measure, column, threshold), which Splink writes in
# each backend's own functions (on Spark, those of the jar it ships).
Similarity = tuple[str, str, float]


@dataclass(frozen=True)
class Guarded:
    """A string similarity (measures or'ed, as above) computed only for the pairs that
    meet ``when``, plain SQL that every pair the similarity accepts meets: the level is
    the similarity's, and the costly measure is left out for the pairs that could never
    reach it."""

    when: str
    similarity: tuple[Similarity, ...]


BIRTH_DATE_ONE_DIGIT = Guarded(
    "(left(date_of_birth_l, 4) = left(date_of_birth_r, 4)"
    " OR right(date_of_birth_l, 4) = right(date_of_birth_r, 4))",
    (("damerau_levenshtein", "date_of_birth", 1),),
)
"""The birth date's one-digit level. Two texts of eight characters or more (a birth
date: always ``YYYY-MM-DD``) within one edit of each other (a character changed, two
neighbours swapped, one put in or left out) differ within two neighbouring places, so
their first four or their last four characters agree; the pairs of a period blocked on
a name mostly have neither, and are not measured."""

_LEVELS: dict[str, tuple[tuple[str, str | tuple[Similarity, ...] | Guarded], ...]] = {
    "given_name": (
        ("names:swapped", "given_name_l = family_name_r AND family_name_l = given_name_r"),
        ("given_name:exact", "given_name_l = given_name_r"),
        ("given_name:nickname", "given_canonical_l = given_canonical_r"),
        (
            "given_name:similar",
            (("jaro_winkler", "given_name", 0.88), ("damerau_levenshtein", "given_name", 1)),
        ),
        (
            "given_name:initial",
            "(length(given_name_l) = 1 OR length(given_name_r) = 1)"
            " AND substr(given_name_l, 1, 1) = substr(given_name_r, 1, 1)",
        ),
    ),
    "family_name": (
        (
            "family_name:exact",
            "family_name_l = family_name_r"
            " OR (given_name_l = family_name_r AND family_name_l = given_name_r)",
        ),
        (
            "family_name:similar",
            (("jaro_winkler", "family_name", 0.9), ("damerau_levenshtein", "family_name", 1)),
        ),
    ),
    "date_of_birth": (
        ("date_of_birth:exact", "date_of_birth_l = date_of_birth_r"),
        ("date_of_birth:day_month_swapped", "date_of_birth_l = birth_swapped_r"),
        ("date_of_birth:one_digit", BIRTH_DATE_ONE_DIGIT),
    ),
    "postcode": (
        ("postcode:exact", "postcode_l = postcode_r"),
        ("postcode:sector", "postcode_sector_l = postcode_sector_r"),
    ),
    "ni_number": (("ni_number:exact", "ni_number_l = ni_number_r"),),
    "uln": (("uln:exact", "uln_l = uln_r"),),
}


BLOCKING_KEYS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("date_of_birth",), ("date_of_birth",)),
    (("birth_swapped",), ("date_of_birth",)),
    (("postcode", "family_initial"), ("postcode", "family_initial")),
    (("ni_number",), ("ni_number",)),
    (("uln",), ("uln",)),
    (("family_name", "given_canonical"), ("family_name", "given_canonical")),
)
"""The pairs scored: those where the left row's columns equal the right row's, for one
of these keys (each pair scored once)."""
BLOCKING_RULES = tuple(
    " AND ".join(f"l.{a} = r.{b}" for a, b in zip(left, right, strict=True))
    for left, right in BLOCKING_KEYS
)
""":data:`BLOCKING_KEYS` as Splink's blocking rules."""

# Diminutives and short forms of English given names, each to one canonical form. A
# name of several groups (Sam: Samuel, Samantha) keeps the first.
_NICKNAMES: dict[str, tuple[str, ...]] = {
    "alexander": ("alex", "alec", "sandy", "xander", "alexandra", "alexandria"),
    "andrew": ("andy", "drew"),
    "anthony": ("tony", "ant"),
    "benjamin": ("ben", "benny", "benji"),
    "catherine": ("cath", "cathy", "kate", "katie", "kathryn", "katherine", "kat", "kay"),
    "charles": ("charlie", "chas", "chuck"),
    "christopher": ("chris", "kit", "topher"),
    "daniel": ("dan", "danny"),
    "david": ("dave", "davey", "davy"),
    "deborah": ("debbie", "debs", "deb"),
    "edward": ("ed", "eddie", "ted", "ned"),
    "elizabeth": ("liz", "lizzie", "beth", "betty", "eliza", "libby", "bethan"),
    "eleanor": ("ellie", "nell", "nora", "elle"),
    "gareth": ("gaz", "gary"),
    "hannah": ("han", "anna"),
    "isabella": ("bella", "izzy", "isabel", "isobel"),
    "jacob": ("jake",),
    "james": ("jim", "jimmy", "jamie", "jay"),
    "jennifer": ("jen", "jenny"),
    "jessica": ("jess", "jessie"),
    "john": ("jon", "johnny", "jack", "jonny"),
    "jonathan": ("jonty",),
    "joseph": ("joe", "joey"),
    "joshua": ("josh",),
    "kieran": ("kier",),
    "laura": ("laurie", "lauren"),
    "margaret": ("maggie", "meg", "peggy", "marge"),
    "matthew": ("matt", "matty"),
    "michael": ("mike", "mick", "mikey", "micky"),
    "mohammed": ("mohammad", "muhammad", "muhammed", "mohamed", "mo"),
    "nathan": ("nat", "nate", "nathaniel"),
    "nicholas": ("nick", "nicky", "nico"),
    "oliver": ("olly", "ollie"),
    "olivia": ("liv", "livvy"),
    "patrick": ("pat", "paddy"),
    "rebecca": ("becky", "becca", "bex"),
    "richard": ("rich", "rick", "ricky", "dick"),
    "robert": ("rob", "robbie", "bob", "bobby", "bert"),
    "samuel": ("sam", "sammy", "samantha"),
    "sophie": ("sophia", "soph"),
    "stephen": ("steve", "steven", "stevie"),
    "susan": ("sue", "susie", "suzanne"),
    "thomas": ("tom", "tommy"),
    "victoria": ("vicky", "vikki", "tori"),
    "william": ("will", "bill", "billy", "liam", "willy"),
    "yasmin": ("yasmine", "jasmine", "jasmin"),
    "zachary": ("zach", "zack"),
}
CANONICAL_GIVEN_NAME: dict[str, str] = {
    name: canonical
    for canonical, names in reversed(list(_NICKNAMES.items()))
    for name in (canonical, *names)
}
"""A given name (normalised) → the canonical form of its group."""

_LETTERS = re.compile(r"[^a-z]")
_POSTCODE_CHARS = re.compile(r"[^A-Z0-9]")


def normal_name(value: object) -> str | None:
    """A name compared: its first word, lower case, accents and anything not a letter
    taken out (``" Zoë-Ann "`` → ``"zoeann"``, ``"O'Neil"`` → ``"oneil"``)."""
    if not isinstance(value, str) or not value.strip():
        return None
    decomposed = unicodedata.normalize("NFKD", value.strip().split()[0].casefold())
    letters = _LETTERS.sub("", "".join(c for c in decomposed if not unicodedata.combining(c)))
    return letters or None


def normal_family_name(value: object) -> str | None:
    """A family name compared: every word joined, as :func:`normal_name` (``"De Silva"``
    → ``"desilva"``)."""
    if not isinstance(value, str) or not value.strip():
        return None
    return normal_name("".join(value.split()))


def normal_postcode(value: object) -> str | None:
    """A postcode compared: upper case, spaces and punctuation out (``"b1 1aa"`` → ``"B11AA"``)."""
    if not isinstance(value, str):
        return None
    return _POSTCODE_CHARS.sub("", value.upper()) or None


def normal_ni_number(value: object) -> str | None:
    """An NI number compared: its two letters and six digits, upper case (the suffix
    letter, which some systems leave out, is not compared)."""
    if not isinstance(value, str):
        return None
    return _POSTCODE_CHARS.sub("", value.upper())[:8] or None


def comparable(people: pd.DataFrame) -> pd.DataFrame:
    """The columns Splink compares, one row per learner row of ``people`` (its columns
    ``given_name``, ``family_name``, ``date_of_birth`` (datetime), ``postcode``,
    ``ni_number``, ``uln`` (known ULNs only)), ``unique_id`` its position. Each text is
    normalised once however many rows hold it (a period has few distinct names)."""
    given = _each_text(people["given_name"], normal_name)
    born = pd.to_datetime(people["date_of_birth"])
    iso = born.dt.strftime("%Y-%m-%d").where(born.notna(), None)
    # a birth date read the other way round, when its day could be a month
    swapped = born.dt.strftime("%Y-%d-%m").where(born.notna() & (born.dt.day <= 12), None)
    postcode = _each_text(people["postcode"], normal_postcode)
    family = _each_text(people["family_name"], normal_family_name)
    columns = {
        "given_name": given,
        "given_canonical": _each_text(given, lambda name: CANONICAL_GIVEN_NAME.get(name, name)),
        "family_name": family,
        "family_initial": _each_text(family, lambda name: name[:1]),
        "date_of_birth": _each_text(iso, str),
        "birth_swapped": _each_text(swapped, str),
        "postcode": postcode,
        "postcode_sector": _each_text(postcode, lambda code: code[:-2] if len(code) > 4 else None),
        "ni_number": _each_text(people["ni_number"], normal_ni_number),
        "uln": _each_text(people["uln"], str),
    }
    return pd.DataFrame({"unique_id": np.arange(len(people), dtype=np.int64), **columns})


def _each_text(values: pd.Series, normal: Callable[[str], str | None]) -> pd.Series:
    """``normal`` of each text of ``values``, None where there is none (never NaN: SQL
    must see NULL), each distinct text normalised once."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
    done = np.empty(len(uniques) + 1, dtype=object)  # the last: a blank's (code -1)
    done[:-1] = [normal(text) if isinstance(text, str) else None for text in uniques.tolist()]
    return pd.Series(done[codes], dtype=object)


@dataclass(frozen=True)
class MatchModel:
    """The model in force for one run, as the manifest records it."""

    threshold: float
    prior: float
    levels: tuple[tuple[str, float, float], ...]

    @classmethod
    def of(cls, rules: Rules) -> MatchModel:
        return cls(
            rules.person_match_threshold, rules.person_match_prior, rules.person_match_levels
        )

    def mu(self, level: str) -> tuple[float, float]:
        for name, m, u in self.levels:
            if name == level:
                return m, u
        raise KeyError(level)

    def record(self) -> dict[str, Any]:
        """The model's parameters and weights, for manifest.json."""
        return {
            "threshold": self.threshold,
            "prior": self.prior,
            "prior_weight": round(math.log2(self.prior / (1 - self.prior)), 4),
            "levels": [
                {"level": name, "m": m, "u": u, "weight": round(math.log2(m / u), 4)}
                for name, m, u in self.levels
            ],
            "blocking_rules": list(BLOCKING_RULES),
        }

    def settings(self) -> Any:
        """Splink's settings: the comparisons with their fixed m and u, the blocking rules."""
        import splink.comparison_level_library as cll
        import splink.comparison_library as cl
        from splink import SettingsCreator
        from splink.blocking_rule_library import CustomRule

        comparisons: list[Any] = []
        for field, levels in _LEVELS.items():
            null = cll.CustomLevel(f"{field}_l IS NULL OR {field}_r IS NULL", "null")
            parts: list[Any] = [null.configure(is_null_level=True)]
            for name, condition in levels:
                m, u = self.mu(name)
                level = _level(cll, name, condition)
                parts.append(
                    level.configure(m_probability=m, u_probability=u, label_for_charts=name)
                )
            m, u = self.mu(f"{field}:other")
            parts.append(cll.ElseLevel().configure(m_probability=m, u_probability=u))
            comparisons.append(cl.CustomComparison(parts, output_column_name=field))
        return SettingsCreator(
            link_type="dedupe_only",
            unique_id_column_name="unique_id",
            comparisons=comparisons,
            blocking_rules_to_generate_predictions=[
                CustomRule(rule, sql_dialect="duckdb") for rule in BLOCKING_RULES
            ],
            probability_two_random_records_match=self.prior,
            # the comparison vector (gamma) comes out only with the matching columns
            retain_matching_columns=True,
            retain_intermediate_calculation_columns=True,
        )


def _level(cll: Any, name: str, condition: str | tuple[Similarity, ...] | Guarded) -> Any:
    """One comparison level in Splink's terms."""
    if isinstance(condition, str):
        return cll.CustomLevel(condition, name, base_dialect_str="duckdb")
    if isinstance(condition, Guarded):
        return cll.And(
            cll.CustomLevel(condition.when, base_dialect_str="duckdb"),
            _level(cll, name, condition.similarity),
        )
    measures = {
        "jaro_winkler": cll.JaroWinklerLevel,
        "damerau_levenshtein": cll.DamerauLevenshteinLevel,
    }
    levels = [measures[measure](column, threshold) for measure, column, threshold in condition]
    return levels[0] if len(levels) == 1 else cll.Or(*levels)


def level_names() -> dict[str, dict[int, str]]:
    """Per field, the level of each of Splink's comparison vector values (gamma): -1 a
    value missing, 0 disagreement, then the levels from the least specific up."""
    names: dict[str, dict[int, str]] = {}
    for field, levels in _LEVELS.items():
        count = len(levels)
        names[field] = {-1: "missing", 0: "other"}
        for index, (name, _) in enumerate(levels):
            names[field][count - index] = name.partition(":")[2]
    return names


def scored_pairs(
    people: pd.DataFrame, model: MatchModel, *, db_api: Any | None = None
) -> pd.DataFrame:
    """Every pair of rows of ``people`` scored at or above the model's threshold.

    Args:
        people: learner rows with the columns :func:`comparable` reads.
        model: the model in force.
        db_api: Splink's database API (default: a new in-memory DuckDB, dropped after);
            ``splink.SparkAPI(spark_session=...)`` runs the same model on Spark.

    Returns:
        ``left``, ``right`` (positions in ``people``, left < right), ``match_probability``,
        ``match_weight`` and each field's level (:func:`level_names`), one row per pair.
    """
    columns = ["left", "right", "match_probability", "match_weight", *FIELDS]
    if len(people) < 2:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    rows = comparable(people)
    if not any_blocked_pair(rows):
        return _pairs(pd.DataFrame(), columns)  # nothing to score: Splink is not started
    from splink import DuckDBAPI, Linker

    api = DuckDBAPI() if db_api is None else db_api
    table = api.register(_for_backend(api, rows))
    linker = Linker(table, model.settings(), log_level=logging.WARNING)
    predicted = linker.inference.predict(
        threshold_match_probability=model.threshold, warning_mode="never"
    ).as_pandas_dataframe()
    return _pairs(predicted, columns)


def _for_backend(api: Any, rows: pd.DataFrame) -> Any:
    """The rows as the backend takes them: on Spark (its API holds ``spark``), a Spark
    frame with every column typed, since Spark cannot infer the type of a column that
    is blank throughout (no NI numbers given, say)."""
    spark = getattr(api, "spark", None)
    if spark is None:
        return rows
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    schema = StructType(
        [StructField("unique_id", LongType())]
        + [StructField(column, StringType()) for column in rows.columns if column != "unique_id"]
    )
    return spark.createDataFrame(rows, schema=schema)


def any_blocked_pair(rows: pd.DataFrame) -> bool:
    """Whether two rows share a blocking key (:data:`BLOCKING_KEYS`), i.e. whether Splink
    would score any pair at all."""
    for left, right in BLOCKING_KEYS:
        lefts = rows[["unique_id", *left]].dropna()
        rights = rows[["unique_id", *right]].dropna()
        if lefts.empty or rights.empty:
            continue
        rights = rights.set_axis(["unique_id_r", *left], axis=1)
        joined = lefts.merge(rights, on=list(left))
        if (joined["unique_id"] != joined["unique_id_r"]).any():
            return True
    return False


def _pairs(predicted: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    if predicted.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    left = predicted["unique_id_l"].astype(np.int64).to_numpy()
    right = predicted["unique_id_r"].astype(np.int64).to_numpy()
    names = level_names()
    frame = pd.DataFrame(
        {
            "left": np.minimum(left, right),
            "right": np.maximum(left, right),
            "match_probability": predicted["match_probability"].astype(float).to_numpy(),
            "match_weight": predicted["match_weight"].astype(float).to_numpy(),
            **{
                field: predicted[f"gamma_{field}"].astype(int).map(names[field]).to_numpy()
                for field in FIELDS
            },
        }
    )
    return frame.sort_values(["left", "right"], ignore_index=True)


def field_words(levels: Mapping[str, str]) -> tuple[list[str], list[str], list[str]]:
    """The fields of a pair that agreed (with their level when not exact), disagreed
    and were missing on either side, by name: ``date_of_birth (day_month_swapped)``."""
    agreed, disagreed, missing = [], [], []
    for field in FIELDS:
        level = levels[field]
        if level == "missing":
            missing.append(field)
        elif level == "other":
            disagreed.append(field)
        else:
            agreed.append(field if level == "exact" else f"{field} ({level})")
    return agreed, disagreed, missing
