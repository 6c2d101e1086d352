"""What the options of a plan draw on, and how much of it is left.

Chairs (per bucket), batch doses and a centre's daily activity are counters.
Isotope is a stock per site that decays from day to day: with daily supply s,
draws d and daily decay factor f, the stock on day k is
``sum_{i<=k} (s_i - d_i) f^(k-i)``, which is non-negative exactly when
``sum_{i<=k} (s_i - d_i) f^(-i)`` is. That running sum ("slack", in activity at
day 0) makes a draw's check one comparison with the smallest slack from its day on.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from rltnet.planning.candidates import Candidates

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_SLACK = 1e-9  # relative, for float rounding in the isotope sums

CHAIRS, BATCH, ACTIVITY, ISOTOPE = "chairs", "batch", "activity", "isotope"


class CapacityState:
    """Free chairs, batch doses, daily activity and isotope, as options are taken."""

    def __init__(self, candidates: Candidates) -> None:
        self.candidates = candidates
        self.bucket_free: IntArray = np.array(candidates.bucket_capacity, dtype=np.int64)
        self.batch_free: IntArray = np.array([b.capacity for b in candidates.batches], dtype=np.int64)
        self.activity_free: FloatArray = np.array(candidates.activity_limit_bq, dtype=np.float64)
        self._to_day0: list[FloatArray] = []
        self._slack: list[FloatArray] = []
        self._suffix_min: list[FloatArray] = []
        for ledger in candidates.ledgers:
            to_day0 = ledger.daily_factor ** -np.arange(ledger.supply_bq.size, dtype=np.float64)
            slack = np.cumsum(ledger.supply_bq * to_day0)
            self._to_day0.append(to_day0)
            self._slack.append(slack)
            self._suffix_min.append(np.minimum.accumulate(slack[::-1])[::-1])
        self._order_prescribed = np.array([o.prescribed.bq for o in candidates.orders])
        self._hold_kept()

    def _hold_kept(self) -> None:
        """Kept placements hold their chairs, daily activity and isotope from the start."""
        buckets, activity, isotope = self.candidates.kept_use()
        for bucket in buckets:
            self.bucket_free[bucket] -= 1
        for day, bq in activity:
            self.activity_free[day] -= bq
        for ledger, day, bq in isotope:
            self._slack[ledger][day:] -= bq * self._to_day0[ledger][day]
            self._suffix_min[ledger] = np.minimum.accumulate(self._slack[ledger][::-1])[::-1]

    def blocked_by(self, option: int) -> str | None:
        """The first capacity the option would overdraw, or None if it fits."""
        c = self.candidates
        return self.blocked_by_row(
            int(c.option_session[option]),
            int(c.option_batch[option]),
            int(c.option_order[option]),
            float(c.option_made_bq[option]),
        )

    def blocked_by_row(
        self, session_index: int, batch_index: int, order_index: int, made_bq: float
    ) -> str | None:
        """The first capacity a session and batch would overdraw for an order filled with
        `made_bq` at the batch start, or None if it fits."""
        c = self.candidates
        session = c.sessions[session_index]
        if any(self.bucket_free[b] <= 0 for b in session.buckets):
            return CHAIRS
        batch = c.batches[batch_index]
        if self.batch_free[batch_index] <= 0:
            return BATCH
        prescribed = self._order_prescribed[order_index]
        if self.activity_free[session.activity_day] < prescribed * (1 - _SLACK):
            return ACTIVITY
        draw = made_bq * self._to_day0[batch.ledger][batch.ledger_day]
        floor = self._suffix_min[batch.ledger][batch.ledger_day]
        if floor < draw - _SLACK * max(draw, 1.0):
            return ISOTOPE
        return None

    def fits(self, option: int) -> bool:
        return self.blocked_by(option) is None

    def take(self, option: int) -> None:
        self._change(option, -1)

    def release(self, option: int) -> None:
        self._change(option, +1)

    def take_row(self, session_index: int, batch_index: int, order_index: int, made_bq: float) -> None:
        self._change_row(session_index, batch_index, order_index, made_bq, -1)

    def _change(self, option: int, sign: int) -> None:
        c = self.candidates
        self._change_row(
            int(c.option_session[option]),
            int(c.option_batch[option]),
            int(c.option_order[option]),
            float(c.option_made_bq[option]),
            sign,
        )

    def _change_row(
        self, session_index: int, batch_index: int, order_index: int, made_bq: float, sign: int
    ) -> None:
        c = self.candidates
        session = c.sessions[session_index]
        for bucket in session.buckets:
            self.bucket_free[bucket] += sign
        self.batch_free[batch_index] += sign
        self.activity_free[session.activity_day] += sign * self._order_prescribed[order_index]
        batch = c.batches[batch_index]
        slack = self._slack[batch.ledger]
        slack[batch.ledger_day :] += sign * made_bq * self._to_day0[batch.ledger][batch.ledger_day]
        self._suffix_min[batch.ledger] = np.minimum.accumulate(slack[::-1])[::-1]
