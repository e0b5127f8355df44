"""Feature names of the catalogue are translated when the page renders (English pages show
the catalog's English), not frozen in German or at import time."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils.translation import trans_real

from contracts import catalogue
from contracts.catalogue import DEMO_PLANS, plans_seed
from portal.roles import Role
from tests.factories import OrganisationFactory, make_person

FEATURE = "Automatische Neustarts"


@pytest.fixture
def english_feature_name():
    """The English catalog as the translation pass will fill it, for one feature name."""
    catalog = trans_real.translation("en")._catalog
    before = catalog.get(FEATURE)
    catalog[FEATURE] = "Automatic restarts"
    yield "Automatic restarts"
    catalog[FEATURE] = before if before is not None else FEATURE


def test_every_demo_feature_is_a_marked_german_msgid():
    features = {feature for plan in DEMO_PLANS for feature in plan["features"]}
    assert FEATURE in features
    source = Path(catalogue.__file__).read_text(encoding="utf-8")
    for feature in features:
        assert f'gettext_noop("{feature}")' in source, feature


@pytest.mark.django_db
def test_catalogue_page_shows_feature_names_in_the_page_language(verified_client, settings,
                                                                  english_feature_name):
    plans_seed()
    client = verified_client(make_person(Role.CUSTOMER_ADMIN, OrganisationFactory()))
    assert FEATURE in client.get("/vertrag/leistungen/").content.decode()

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get("/vertrag/leistungen/").content.decode()
    assert english_feature_name in html
    assert FEATURE not in html
