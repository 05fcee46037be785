"""Login lockout: keyed by address (IPv6 by /64), exponential delay, a global budget, a way back in for the owner."""

from __future__ import annotations

import ipaddress
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts import services
from apps.accounts.models import LoginThrottle

LOGIN = "/api/auth/login"


@pytest.fixture(autouse=True)
def _behind_proxy(settings):
    """Requests come through a trusted proxy at 127.0.0.1, so each test picks the client address it needs."""
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.1/32")]
    settings.AUTH_THROTTLE_RATE = "1000/min"  # the lockout is under test here, not the flood throttle
    settings.LOGIN_LOCKOUT_FAILURES = 5
    settings.LOGIN_LOCKOUT_MINUTES = 15
    settings.LOGIN_GLOBAL_FAILURES_PER_HOUR = 100


def attempt(client: APIClient, password: str, address: str = "203.0.113.7"):
    return client.post(LOGIN, {"password": password}, format="json", HTTP_X_FORWARDED_FOR=address)


def fail(client: APIClient, times: int, address: str = "203.0.113.7") -> list[int]:
    return [attempt(client, f"Wrong-Password-{i}", address).status_code for i in range(times)]


def wait_out_delays() -> None:
    LoginThrottle.objects.update(blocked_until=timezone.now() - timedelta(seconds=1))


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
    ],
)
def test_address_keys(address, key):
    assert services.address_key(address) == key


def test_ipv6_rotation_within_a_64_shares_one_counter(api_client, owner):
    codes = [attempt(api_client, f"Wrong-{i}", f"2001:db8:1:2:{i:x}::{i + 1:x}").status_code for i in range(6)]
    assert codes == [401, 401, 401, 401, 429, 429]
    assert attempt(api_client, "Wrong", "2001:db8:1:3::1").status_code == 401  # the next /64 is someone else


def test_the_delay_doubles_with_each_failure_after_the_free_ones(api_client, owner):
    fail(api_client, 4)
    delays = []
    for _ in range(3):
        response = attempt(api_client, "Wrong-Password")
        assert response.status_code == 429
        assert response.json()["error"]["code"] == "locked_out"
        delays.append(response.json()["error"]["details"]["retry_after_seconds"])
        wait_out_delays()
    assert delays[1] == 2 * delays[0] and delays[2] == 2 * delays[1]
    assert delays[0] >= 30
    LoginThrottle.objects.update(failures=40)
    wait_out_delays()
    capped = attempt(api_client, "Wrong-Password").json()["error"]["details"]["retry_after_seconds"]
    assert capped == 15 * 60  # never longer than LOGIN_LOCKOUT_MINUTES


def test_a_delay_refuses_even_the_right_password_but_ends(api_client, owner, owner_password):
    fail(api_client, 5)
    assert attempt(api_client, owner_password).status_code == 429  # no password oracle during a delay
    wait_out_delays()
    assert attempt(api_client, owner_password).status_code == 200
    assert fail(api_client, 1) == [401]  # success starts the address over


def test_the_global_budget_stops_address_rotation(api_client, owner, owner_password, settings):
    settings.LOGIN_GLOBAL_FAILURES_PER_HOUR = 10
    codes = [attempt(api_client, "Wrong-Password", f"198.51.100.{i}").status_code for i in range(12)]
    assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]
    paused = attempt(api_client, owner_password, "192.0.2.99")
    assert paused.status_code == 429
    error = paused.json()["error"]
    assert error["details"]["scope"] == "everyone" and "manage.py unlock" in error["message"]


def test_the_owners_browser_gets_in_although_the_shared_address_is_locked(owner, owner_password, settings):
    owner_browser, attacker = APIClient(), APIClient()
    assert attempt(owner_browser, owner_password).status_code == 200  # an earlier login: the browser is known
    assert fail(attacker, 6)[-1] == 429  # same address, no device cookie
    settings.LOGIN_GLOBAL_FAILURES_PER_HOUR = 5  # and the whole budget is used up too
    assert attempt(attacker, owner_password, "192.0.2.1").status_code == 429
    assert attempt(owner_browser, owner_password).status_code == 200


def test_a_known_browser_has_its_own_limit(owner, owner_password):
    browser = APIClient()
    assert attempt(browser, owner_password).status_code == 200
    assert fail(browser, 6, "192.0.2.50")[-1] == 429  # guessing from a known browser is limited too
    assert attempt(browser, owner_password, "192.0.2.50").status_code == 429


def test_a_forged_device_cookie_is_ignored(api_client, owner, owner_password):
    fail(api_client, 5)
    api_client.cookies[services.DEVICE_COOKIE] = "forged"
    assert attempt(api_client, owner_password).status_code == 429


def test_unlock_command_lets_everyone_try_again(api_client, owner, owner_password, capsys):
    fail(api_client, 6)
    call_command("unlock")
    assert "cleared 2 lockout counter" in capsys.readouterr().out.lower()
    assert attempt(api_client, owner_password).status_code == 200


def test_unlock_one_address(api_client, owner):
    fail(api_client, 6, "203.0.113.7")
    fail(api_client, 6, "2001:db8:9:9::1")
    call_command("unlock", "2001:db8:9:9::abcd")
    assert attempt(api_client, "Wrong", "2001:db8:9:9::1").status_code == 401
    assert attempt(api_client, "Wrong", "203.0.113.7").status_code == 429


DEAD_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing answers
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}


def test_login_works_while_redis_is_down(api_client, owner, owner_password, settings):
    settings.CACHES = DEAD_REDIS
    response = attempt(api_client, owner_password)
    assert response.status_code == 200, response.content
    assert response.json()["access_token"]


def test_the_lockout_holds_while_redis_is_down(api_client, owner, owner_password, settings):
    settings.CACHES = DEAD_REDIS
    assert fail(api_client, 5) == [401, 401, 401, 401, 429]
    assert attempt(api_client, owner_password).status_code == 429


def test_counters_of_addresses_gone_quiet_are_forgotten(api_client, owner):
    fail(api_client, 1, "198.51.100.1")
    LoginThrottle.objects.update(last_failure=timezone.now() - timedelta(days=2))
    fail(api_client, 1, "198.51.100.2")
    assert set(LoginThrottle.objects.values_list("key", flat=True)) == {"address:198.51.100.2", "everyone"}
