"""Schemathesis over the whole OpenAPI schema, as the owner: no 500s, and behaviour matches the schema.

Every operation gets a few generated requests (bounded so the suite stays fast), sent
in-process to Django's WSGI handler inside the test's transaction. The checks are
schemathesis' defaults plus "a request the schema allows is accepted": no server
errors, only documented status codes, responses that match their schema.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient
from schemathesis.checks import negative_data_rejection, positive_data_acceptance

from tests.conftest import OWNER_PASSWORD

# Committed per request, as in production: a request that fails in the database cannot poison the next.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def log_in() -> str:
    response = APIClient().post("/api/auth/login", {"password": OWNER_PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


@pytest.fixture
def owner_token(owner, settings) -> str:
    # Generated wrong passwords must not lock the owner out or throttle the test's own logins.
    settings.AUTH_THROTTLE_RATE = "10000/min"
    settings.LOGIN_LOCKOUT_FAILURES = 10000
    settings.CATALOG_USER_RATE = "10000/min"
    return log_in()


@pytest.fixture
def api_schema(owner_token, fake_catalog):
    """The schema /api/schema serves, bound to the Django app (the fake catalog answers catalog fetches).

    Like Django's test client, requests keep the test's database connection (and so its transaction).
    """
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {owner_token}")
    document = client.get("/api/schema", {"format": "json"}).json()
    schema = schemathesis.openapi.from_dict(document)
    schema.app = get_wsgi_application()
    signals = (request_started, request_finished)
    for signal in signals:
        signal.disconnect(close_old_connections)
    yield schema
    for signal in signals:
        signal.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")

# Rules a JSON schema cannot state: for these operations a request that fits the schema may still be
# refused with a 400 naming the field (a path that must exist and be writable, a naming template that
# must render, Apprise URLs, "site and slug, or url"), and /api/config/validate answers 200 with the
# problems listed (that is its job).
SEMANTIC = [positive_data_acceptance]
EXCLUDED_CHECKS = {
    "PUT /api/config": SEMANTIC,
    "PATCH /api/config": SEMANTIC,
    "POST /api/config/validate": [positive_data_acceptance, negative_data_rejection],
    "POST /api/setup": SEMANTIC,
    "POST /api/search/add": SEMANTIC,
}


@schema.parametrize()
@settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_agrees_with_its_schema(case, owner_token):
    token = log_in() if case.operation.path == "/api/auth/logout" else owner_token  # logout revokes its token
    excluded = EXCLUDED_CHECKS.get(case.operation.label, [])
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, excluded_checks=excluded)
