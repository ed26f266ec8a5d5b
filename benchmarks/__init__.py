"""The benchmarks of the wallet, run on the local stack by ``make bench``.

``python -m benchmarks`` starts ONE local stack (ministack on free ports, the app deployed
with SAM exactly as to AWS but for ``ThrottleRoutes=false``: its clients send above the
routes' throttles on purpose), runs every benchmark against it, prints one ``name: value``
line per figure, writes ``benchmarks/latest.json`` and renders ``docs/benchmarks.md``.
Every timing is a ratio against a baseline measured in the same run, on the same machine.
"""
