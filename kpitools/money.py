"""Money as exact whole pence: the one place amounts become pence and pence become text.

kpi-rules.md (clarified 2026-12-07): amounts and requirements are exact, never binary
floating point; a requirement that is not a whole number of pence (10 % of £4,205.45 =
£420.545) is rounded half up to the penny (£420.55) before the £1 tolerance is applied.
A float of ``0.1 * 4205.45`` is 420.54499999999996 and rounds down to £420.54, which
lets a payment of £419.54 pass though it is £1.01 short: hence :mod:`decimal` here.

Validated tables hold money as ``float64`` pounds (:mod:`kpitools.model`); each float
is the nearest double to what the provider typed, whose shortest decimal form
(``repr``) is exactly the text typed (up to 15 significant digits), so
:func:`pence` recovers the typed amount exactly before anything is added or compared.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

_PENNY = Decimal(1)


def _exact(value: float) -> Decimal:
    """``value`` as the decimal it was written as (its shortest round-trip form)."""
    return Decimal(repr(float(value)))


def pence(pounds: float) -> int:
    """An amount in pounds as whole pence, rounded half up to the penny (a typed
    ``419.545`` is 41,955 pence; ``4205.45`` is exactly 420,545).

    Raises:
        ValueError: ``pounds`` is NaN or infinite (a blank amount is not zero pence).
    """
    if not math.isfinite(pounds):
        raise ValueError(f"not an amount: {pounds!r}")
    return int((_exact(pounds) * 100).quantize(_PENNY, rounding=ROUND_HALF_UP))


def share_pence(rate: float, amount_pence: int) -> int:
    """``rate`` × ``amount_pence``, rounded half up to the penny: 10 % of 420,545 pence
    is 42,054.5, so 42,055 pence (£420.55)."""
    return int((_exact(rate) * amount_pence).quantize(_PENNY, rounding=ROUND_HALF_UP))


def pounds_text(amount_pence: int) -> str:
    """Whole pence as pounds for a person: ``£4,205.45``, ``-£1.01``."""
    sign = "-" if amount_pence < 0 else ""
    whole, part = divmod(abs(int(amount_pence)), 100)
    return f"{sign}£{whole:,}.{part:02d}"


def pounds(amount_pence: int) -> float:
    """Whole pence as a float of pounds, for charts only (never compared or summed
    into a decision)."""
    return int(amount_pence) / 100
