"""Which products the network can bring to each centre: a site that makes it, with a lane there."""

from __future__ import annotations

import dataclasses

from rltnet.domain.network import Network
from rltnet.files.catalogue_file import default_catalogue
from rltnet.files.network_file import load_network, network_path


def england() -> Network:
    return load_network(network_path("england"), default_catalogue())


def test_a_product_is_supplied_only_where_a_site_making_it_has_a_lane() -> None:
    network = england()
    assert network.supplies("leeds", "lu177-vipivotide-tetraxetan")
    assert not network.supplies("london", "ra223-dichloride")
    gaps = network.unsupplied()
    assert gaps["london"] == ("ra223-dichloride", "y90-ibritumomab-tiuxetan")
    assert "leeds" not in gaps
    for centre_id, products in gaps.items():
        for product_id in products:
            assert product_id in network.centres[centre_id].products
            assert all(
                product_id not in network.sites[lane.site_id].products for lane in network.lanes_to(centre_id)
            )


def test_a_site_that_makes_the_product_closes_the_gap_only_where_its_lanes_go() -> None:
    network = england()
    site = next(iter(network.sites.values()))
    making = dataclasses.replace(site, products=(*site.products, "ra223-dichloride"))
    supplied = dataclasses.replace(network, sites={**network.sites, site.site_id: making})
    reached = {lane.centre_id for lane in supplied.lanes.values() if lane.site_id == site.site_id}
    for centre_id, products in network.unsupplied().items():
        still = supplied.unsupplied().get(centre_id, ())
        assert ("ra223-dichloride" in still) is (centre_id not in reached and "ra223-dichloride" in products)
