"""Seeded randomness helpers: one independent random stream per entity, no global state."""

from __future__ import annotations

import random
import uuid
from bisect import bisect
from collections.abc import Sequence
from itertools import accumulate
from math import gcd
from typing import Generic, TypeVar

T = TypeVar("T")

# Primes (from xxHash), one per use, so numbers derived from one index do not look alike.
MULTIPLIERS = {
    "phone": 2_654_435_761,
    "email": 2_246_822_519,
    "user_id": 3_266_489_917,
}


def rng_for(seed: int, kind: str, index: int) -> random.Random:
    """An independent, reproducible random stream for one entity (person, visitor, file...)."""
    return random.Random(f"klant-sampledata/{seed}/{kind}/{index}")


def uuid_from(rng: random.Random) -> str:
    """A version-4 UUID drawn from the given stream (never from the OS)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def permute(index: int, modulus: int, use: str) -> int:
    """A bijection of range(modulus) that looks random: distinct indexes give distinct values."""
    multiplier = MULTIPLIERS[use]
    if gcd(multiplier, modulus) != 1:
        raise ValueError(f"modulus {modulus} shares a factor with the {use} multiplier")
    return (index * multiplier + 25_214_903_917) % modulus


def chance(rng: random.Random, probability: float) -> bool:
    """True with the given probability."""
    return rng.random() < probability


class Weighted(Generic[T]):
    """A weighted choice among fixed items, with precomputed cumulative weights."""

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        self.items = [item for item, _ in pairs]
        self.cumulative = list(accumulate(weight for _, weight in pairs))

    def pick(self, rng: random.Random) -> T:
        """One item, drawn in proportion to its weight."""
        return self.items[bisect(self.cumulative, rng.random() * self.cumulative[-1])]
