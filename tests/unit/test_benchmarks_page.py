"""docs/benchmarks.md is the hand-written template with the committed run's numbers put in.

Nobody edits the page: its prose lives in docs/benchmarks.template.md, and every number in
it comes from benchmarks/latest.json (and the reliability suite's reliability.json).
"""

import json
import re
from typing import Any

import pytest

from benchmarks import reliability_report, report
from benchmarks.__main__ import DOCS, LATEST


def committed_run() -> dict[str, Any]:
    run: dict[str, Any] = json.loads(LATEST.read_text())
    return run


def test_the_committed_page_is_the_committed_run_rendered() -> None:
    rendered = report.render(committed_run(), reliability_report.load())

    assert rendered == DOCS.read_text(), "run `python -m benchmarks --render` and commit docs/benchmarks.md"


@pytest.mark.parametrize("name", sorted(committed_run()["figures"]))
def test_every_figure_of_the_run_is_on_the_page_with_its_value(name: str) -> None:
    value = committed_run()["figures"][name]
    row = re.compile(rf"^\| `{re.escape(name)}` \| \**{re.escape(str(value))}\** \|", re.MULTILINE)

    assert row.search(DOCS.read_text()), f"no row `{name}` | {value} in docs/benchmarks.md"


def test_a_figure_the_run_did_not_measure_reads_not_measured_yet() -> None:
    run = committed_run()
    del run["figures"]["wru_per_transfer"]

    page = report.render(run, None, template="| `wru_per_transfer` | {{wru_per_transfer}} |")

    assert page == f"| `wru_per_transfer` | {report.NOT_MEASURED} |"


def test_rows_the_run_cannot_give_read_not_measured_yet() -> None:
    run = committed_run()
    del run["raw"]["write_cost"]

    page = report.render(run, None, template="| a | b |\n{{rows:write_cost}}\n")

    assert page == f"| a | b |\n| {report.NOT_MEASURED} |\n"


@pytest.mark.parametrize(
    "placeholder", ["{{calc:no_such_value}}", "{{nonsense:x}}", "{{rows:no_such_rows}}\n"]
)
def test_a_placeholder_the_renderer_does_not_know_is_an_error(placeholder: str) -> None:
    with pytest.raises(KeyError, match="unknown placeholder"):
        report.render(committed_run(), None, template=placeholder)
