"""Bounded subset-sum: which open items (and credit notes) add up to a payment, if exactly one way does.

Amounts are integer øre; credit notes are negative. The search is bounded (``MAX_ITEMS`` items,
``MAX_PICK`` per combination, ``MAX_STEPS`` nodes) so one customer can never stall a run; running
out of budget counts as "ambiguous", which holds instead of guessing.
"""

from __future__ import annotations

from collections.abc import Sequence

MAX_ITEMS = 30
MAX_PICK = 6
MAX_STEPS = 200_000


def unique_subset(items: Sequence[tuple[str, int]], target: int) -> tuple[str, ...] | bool | None:
    """The one combination of ``items`` (id, øre) summing to ``target``.

    Returns the ids when exactly one combination exists, ``None`` when none does, and ``False`` when
    several do (or the search was cut short) — the caller then holds rather than picks.
    """
    if len(items) > MAX_ITEMS or target <= 0:
        return False if len(items) > MAX_ITEMS else None
    ordered = sorted(items, key=lambda it: (-it[1], it[0]))
    amounts = [a for _, a in ordered]
    # Largest reachable sums from position i on (credits never help reach more), for pruning.
    pos_suffix = [0] * (len(amounts) + 1)
    neg_suffix = [0] * (len(amounts) + 1)
    for i in range(len(amounts) - 1, -1, -1):
        pos_suffix[i] = pos_suffix[i + 1] + max(amounts[i], 0)
        neg_suffix[i] = neg_suffix[i + 1] + min(amounts[i], 0)
    found: list[tuple[int, ...]] = []
    steps = 0
    chosen: list[int] = []

    def walk(start: int, total: int) -> bool:
        """Try every combination extending ``chosen`` with items from ``start`` on; False = stop."""
        nonlocal steps
        if total + pos_suffix[start] < target or total + neg_suffix[start] > target:
            return True  # the target is out of reach from here
        for j in range(start, len(amounts)):
            steps += 1
            if steps > MAX_STEPS:
                return False
            chosen.append(j)
            reached = total + amounts[j]
            if reached == target:
                found.append(tuple(chosen))
            keep_going = len(found) <= 1 and (len(chosen) == MAX_PICK or walk(j + 1, reached))
            chosen.pop()
            if not keep_going:
                return False
        return True

    complete = walk(0, 0)
    if len(found) > 1 or not complete:
        return False
    if not found:
        return None
    return tuple(ordered[i][0] for i in found[0])
