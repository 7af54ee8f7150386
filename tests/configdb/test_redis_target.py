"""The Redis target (configdb/redis_target.py): the URL forms and the Sentinel variables, what each builds (a
redis-py client, Celery's broker URL and options), and a refusal naming the variable for every bad value.
Pure: no Redis is contacted (redis-py connects lazily)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from django.core.exceptions import ImproperlyConfigured
from redis.sentinel import SentinelConnectionPool

from configdb import redis_target as rt

ROOT = Path(__file__).resolve().parents[2]


# --- the URL forms ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url, scheme, db, password", [
    ("redis://127.0.0.1:6379/0", "redis", 0, None),
    ("redis://:s3cret@redis:6379/4", "redis", 4, "s3cret"),
    ("redis://redis", "redis", 0, None),
    ("rediss://user:p%40ss@cache.example:6380/1", "rediss", 1, "p@ss"),
    ("unix:///run/redis.sock?db=3", "unix", 3, None),
    ("unix:///run/redis.sock", "unix", 0, None),
])
def test_plain_urls(url, scheme, db, password):
    target = rt.parse(url)
    assert (target.scheme, target.db, target.password, target.is_sentinel) == (scheme, db, password, False)
    assert target.url == url


def test_sentinel_url_every_part():
    target = rt.parse("redis+sentinel://app:p%3Aw@10.0.0.1:26379,10.0.0.2,[::1]:26380/pacing/2")
    assert target.is_sentinel
    assert target.sentinels == (("10.0.0.1", 26379), ("10.0.0.2", rt.DEFAULT_SENTINEL_PORT), ("::1", 26380))
    assert (target.service, target.db, target.username, target.password) == ("pacing", 2, "app", "p:w")


def test_sentinel_url_defaults():
    target = rt.parse("redis+sentinel://s1:5000/mymaster")
    assert (target.sentinels, target.service, target.db, target.username, target.password) == (
        (("s1", 5000),), "mymaster", 0, None, None)
    assert rt.parse("redis+sentinel://:only-pw@s1:5000/m").password == "only-pw"


@pytest.mark.parametrize("url, says", [
    ("", "is not a Redis URL"),
    ("127.0.0.1:6379", "is not a Redis URL"),
    ("http://127.0.0.1:6379/0", "scheme 'http://'"),
    ("sentinel://127.0.0.1:26379", "scheme 'sentinel://'"),
    ("redis://:pw@/0", "no host"),
    ("redis://127.0.0.1:notaport/0", "is not a URL"),
    ("redis://127.0.0.1:6379/zero", "database must be a number"),
    ("unix://", "socket's path"),
    ("unix:///run/redis.sock?db=x", "database must be a number"),
    ("redis+sentinel:///mymaster", "no sentinel"),
    ("redis+sentinel://s1:26379", "no service"),
    ("redis+sentinel://s1:26379/", "no service"),
    ("redis+sentinel://s1:26379/m/0/extra", "/<service> or /<service>/<db>"),
    ("redis+sentinel://s1:26379/m/", "/<service> or /<service>/<db>"),
    ("redis+sentinel://s1:26379/m/one", "database must be a number"),
    ("redis+sentinel://s1:26379/my master", "Sentinel service"),
    ("redis+sentinel://s1:0/m", "1 to 65535"),
    ("redis+sentinel://s1:99999/m", "1 to 65535"),
    ("redis+sentinel://s1:port/m", "1 to 65535"),
    ("redis+sentinel://s1:1,,s2:2/m", "empty sentinel address"),
    ("redis+sentinel://::1:26379/m", "IPv6 address goes in brackets"),
    ("redis+sentinel://[::1/m", "IPv6 address goes in brackets"),
    ("redis+sentinel://s1:1/m?db=2", "no query"),
])
def test_bad_urls_name_the_variable(url, says):
    with pytest.raises(ImproperlyConfigured) as info:
        rt.parse(url)
    assert str(info.value).startswith("REDIS_URL: ") and says in str(info.value), str(info.value)


def test_a_refusal_never_shows_the_password():
    with pytest.raises(ImproperlyConfigured) as info:
        rt.parse("redis+sentinel://:hunter2@s1:26379")
    assert "hunter2" not in str(info.value) and rt.PLACEHOLDER in str(info.value)


def test_passwords_from_variables():
    assert rt.parse("redis://redis:6379/0", password="pw").password == "pw"
    target = rt.parse("redis+sentinel://s1:1/m", password="pw", sentinel_password="spw")
    assert (target.password, target.sentinel_password) == ("pw", "spw")
    with pytest.raises(ImproperlyConfigured, match=r"^REDIS_PASSWORD: REDIS_URL carries a password already"):
        rt.parse("redis://:inurl@redis:6379/0", password="pw")
    with pytest.raises(ImproperlyConfigured, match=r"^REDIS_SENTINEL_PASSWORD: REDIS_URL is not a Sentinel"):
        rt.parse("redis://redis:6379/0", sentinel_password="spw")


# --- the environment ------------------------------------------------------------------------------------------


def test_environ_nothing_set_is_the_embedded_redis():
    assert rt.environ_url({}) == ""
    assert rt.environ_url({"REDIS_URL": "  "}) == ""


def test_environ_url_is_kept_as_given():
    assert rt.environ_url({"REDIS_URL": "redis+sentinel://s1:1,s2:2/m/3"}) == "redis+sentinel://s1:1,s2:2/m/3"


def test_environ_sentinels_become_the_equivalent_url():
    assert rt.environ_url({"REDIS_SENTINELS": "s1:26379, s2:26380,[::1]:7"}) == \
        "redis+sentinel://s1:26379,s2:26380,[::1]:7/mymaster/0"
    url = rt.environ_url({"REDIS_SENTINELS": "s1", "REDIS_SENTINEL_SERVICE": "pacing", "REDIS_SENTINEL_DB": "5",
                          "REDIS_PASSWORD": "pw", "REDIS_SENTINEL_PASSWORD": "spw"})
    assert url == "redis+sentinel://s1:26379/pacing/5"                 # the passwords stay out of the URL
    assert rt.parse(url).sentinels == (("s1", 26379),)


@pytest.mark.parametrize("environ, variable, says", [
    ({"REDIS_URL": "redis://r/0", "REDIS_SENTINELS": "s1:1"}, "REDIS_SENTINELS", "set one of the two"),
    ({"REDIS_SENTINELS": "s1:1,"}, "REDIS_SENTINELS", "empty sentinel address"),
    ({"REDIS_SENTINELS": "s1:x"}, "REDIS_SENTINELS", "1 to 65535"),
    ({"REDIS_SENTINELS": "s1:1", "REDIS_SENTINEL_SERVICE": "a/b"}, "REDIS_SENTINEL_SERVICE", "Sentinel service"),
    ({"REDIS_SENTINELS": "s1:1", "REDIS_SENTINEL_DB": "-1"}, "REDIS_SENTINEL_DB", "must be a number"),
    ({"REDIS_URL": "redis://r/0", "REDIS_SENTINEL_SERVICE": "m"}, "REDIS_SENTINEL_SERVICE", "REDIS_URL's path"),
    ({"REDIS_SENTINEL_DB": "1"}, "REDIS_SENTINEL_DB", "REDIS_SENTINELS only"),
    ({"REDIS_PASSWORD": "pw"}, "REDIS_PASSWORD", "no Redis is configured"),
    ({"REDIS_SENTINEL_PASSWORD": "pw"}, "REDIS_SENTINEL_PASSWORD", "no Redis is configured"),
    ({"REDIS_URL": "redis://r/0", "REDIS_SENTINEL_PASSWORD": "pw"}, "REDIS_SENTINEL_PASSWORD", "not a Sentinel"),
    ({"REDIS_URL": "redis://:a@r/0", "REDIS_PASSWORD": "pw"}, "REDIS_PASSWORD", "password already"),
    ({"REDIS_URL": "mysql://r/0"}, "REDIS_URL", "not a Redis URL"),
])
def test_environ_refusals_name_the_variable(environ, variable, says):
    with pytest.raises(ImproperlyConfigured) as info:
        rt.environ_url(environ)
    assert str(info.value).startswith(variable + ": ") and says in str(info.value), str(info.value)


def test_settings_refuse_a_bad_value_at_start():
    """The settings module parses the target: a bad one stops every process at start, naming the variable."""
    env = {**os.environ, "REDIS_URL": "", "REDIS_SENTINELS": "s1:1,:2", "DJANGO_SETTINGS_MODULE": "pacingsite.settings"}
    done = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "ImproperlyConfigured: REDIS_SENTINELS: " in done.stderr, done.stderr[-2000:]


# --- what is built ---------------------------------------------------------------------------------------------


def test_client_of_a_plain_url():
    client = rt.client(rt.parse("redis://127.0.0.1:1/2", password="pw"), **rt.client_options())
    kwargs = client.connection_pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"], kwargs["password"]) == ("127.0.0.1", 1, 2, "pw")
    assert kwargs["socket_timeout"] == 2.0 and kwargs["retry"].get_retries() == 2
    rt.close(client)


def test_client_of_sentinel_is_a_master_client_with_short_timeouts():
    target = rt.parse("redis+sentinel://u:pw@127.0.0.1:1,127.0.0.1:2/pacing/3", sentinel_password="spw")
    client = rt.client(target, **rt.client_options())
    pool = client.connection_pool
    assert isinstance(pool, SentinelConnectionPool) and pool.service_name == "pacing" and pool.is_master
    kwargs = pool.connection_kwargs
    assert (kwargs["db"], kwargs["username"], kwargs["password"]) == (3, "u", "pw")
    assert kwargs["socket_timeout"] == 2.0 and kwargs["socket_connect_timeout"] == 2.0
    assert kwargs["retry"].get_retries() == 2
    sentinels = pool.sentinel_manager.sentinels
    assert [(s.connection_pool.connection_kwargs["port"]) for s in sentinels] == [1, 2]
    sentinel_kwargs = sentinels[0].connection_pool.connection_kwargs
    assert sentinel_kwargs["password"] == "spw" and sentinel_kwargs["socket_timeout"] == 2.0
    assert sentinel_kwargs["retry"].get_retries() == 0                # a dead sentinel: ask the next one
    with pytest.raises(redis.ConnectionError):                         # MasterNotFoundError: nobody listens
        client.ping()
    rt.close(client)


def test_celery_broker_of_each_form():
    assert rt.celery_broker(None) == ("memory://", {})
    assert rt.celery_broker(rt.parse("redis://r:6379/1")) == ("redis://r:6379/1", {})
    assert rt.celery_broker(rt.parse("redis://:a@r:6379/1")) == ("redis://:a@r:6379/1", {})
    assert rt.celery_broker(rt.parse("rediss://r:6380/0?ssl_cert_reqs=required", password="p w")) == (
        "rediss://:p%20w@r:6380/0?ssl_cert_reqs=required", {})
    assert rt.celery_broker(rt.parse("unix:///run/r.sock?db=2")) == ("redis+socket:///run/r.sock?virtual_host=2", {})
    url, options = rt.celery_broker(rt.parse("redis+sentinel://:p%40w@s1:1,[::1]:2/pacing/4",
                                             sentinel_password="spw"))
    assert url == "sentinel://:p%40w@s1:1/4;sentinel://:p%40w@[::1]:2/4"
    assert options["master_name"] == "pacing"
    assert options["sentinel_kwargs"]["password"] == "spw" and options["sentinel_kwargs"]["socket_timeout"] == 2.0


def test_kombu_reads_the_broker_url_as_meant():
    from kombu import Connection

    url, options = rt.celery_broker(rt.parse("redis+sentinel://:p%40w@s1:1,s2:2/pacing/4"))
    connection = Connection(url, transport_options=options)
    assert connection.transport_cls == "sentinel"
    assert (connection.hostname, connection.port, connection.virtual_host, connection.password) == (
        "s1", 1, "4", "p@w")
    assert len(connection.alt) == 2


@pytest.mark.parametrize("url, shown", [
    ("redis://:pw@r:6379/0", "redis://:CHANGE_ME@r:6379/0"),
    ("redis://user:pw@r:6379/0", "redis://user:CHANGE_ME@r:6379/0"),
    ("redis://r:6379/0", "redis://r:6379/0"),
    ("redis+sentinel://:p@w@s1:1,s2:2/m/0", "redis+sentinel://:CHANGE_ME@s1:1,s2:2/m/0"),
    ("redis+sentinel://s1:1,s2:2/m/0", "redis+sentinel://s1:1,s2:2/m/0"),
])
def test_redacted(url, shown):
    assert rt.redacted(url) == shown
