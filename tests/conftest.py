"""Fixtures shared by every test folder."""

import io

import pytest
from django.core.management import call_command

from configdb.models import Tenant


@pytest.fixture
def env_tenant(db):
    """The Environment tenant."""
    return Tenant.objects.get_or_create(name="Environment")[0]


@pytest.fixture
def other_tenant(db):
    return Tenant.objects.get_or_create(name="Other")[0]


@pytest.fixture
def demo(db):
    """The demo configuration, loaded through the command an administrator runs."""
    call_command("load_demo", stdout=io.StringIO())
    return Tenant.objects.get(name="Environment")
