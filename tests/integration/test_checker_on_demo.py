"""The plan checker on the demo networks: the plans the demo runs break no rule."""

from __future__ import annotations

from collections import Counter
from datetime import date

from rltnet.domain.products import Catalogue
from rltnet.files.network_file import load_network, network_path
from rltnet.planning.checker import check_plan
from rltnet.simulation.demo import DemoSettings, run_demo


def test_the_england_demo_plan_breaks_no_rule(catalogue: Catalogue) -> None:
    network = load_network(network_path("england"), catalogue)
    result = run_demo(network, catalogue, DemoSettings(weeks=2, seed=5))
    assert len(result.plan.placements) > 100
    assert check_plan(result.plan, network, catalogue) == []


def test_the_us_demo_plan_across_the_autumn_clock_change_breaks_no_rule(
    catalogue: Catalogue,
) -> None:
    network = load_network(network_path("us"), catalogue)
    settings = DemoSettings(weeks=1, seed=5, start_date=date(2027, 11, 1))
    result = run_demo(network, catalogue, settings)
    violations = check_plan(result.plan, network, catalogue)
    assert Counter(v.rule for v in violations) == Counter()
