"""CPFs and CNPJs with valid check digits, for the tests and the benchmarks to register with.

Unique within a run (a counter) and unlikely to meet those of another run (a random start),
since the end-to-end tests may share a stack with earlier runs.
"""

import itertools
import random

_CPF_BASES = itertools.count(random.randrange(100_000_000, 800_000_000))
_CNPJ_BASES = itertools.count(random.randrange(10_000_000, 80_000_000))
_CNPJ_WEIGHTS = (5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)


def new_cpf() -> str:
    digits = [int(d) for d in str(next(_CPF_BASES))]
    for size in (9, 10):
        total = sum(d * w for d, w in zip(digits, range(size + 1, 1, -1), strict=True))
        digits.append(total * 10 % 11 % 10)
    return "".join(map(str, digits))


def new_cnpj() -> str:
    digits = [int(d) for d in f"{next(_CNPJ_BASES):08d}0001"]
    for weights in (_CNPJ_WEIGHTS, (6, *_CNPJ_WEIGHTS)):
        remainder = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        digits.append(0 if remainder < 2 else 11 - remainder)
    return "".join(map(str, digits))
