"""Profile parsing and budgets."""

import pytest

from coursekit import profiles
from coursekit.profiles import Budget, ProfileError


@pytest.mark.parametrize("name", profiles.PROFILES)
def test_known_profiles(monkeypatch, name):
    monkeypatch.setenv(profiles.PROFILE_ENV, name)
    assert profiles.active_profile() == name


def test_unknown_profile_is_a_clear_error(monkeypatch):
    monkeypatch.setenv(profiles.PROFILE_ENV, "laptop")
    with pytest.raises(ProfileError) as err:
        profiles.active_profile()
    message = str(err.value)
    assert "'laptop'" in message and "smoke, cpu, gpu" in message and "COURSEKIT_PROFILE" in message


def test_default_follows_the_hardware(monkeypatch):
    monkeypatch.delenv(profiles.PROFILE_ENV, raising=False)
    monkeypatch.setattr(profiles, "_gpu_available", lambda: True)
    assert profiles.active_profile() == "gpu"
    monkeypatch.setattr(profiles, "_gpu_available", lambda: False)
    assert profiles.active_profile() == "cpu"


def test_budget_reads_the_active_profile(monkeypatch):
    budget = Budget(smoke=dict(epochs=1, batch=8), cpu=dict(epochs=5, batch=64),
                    gpu=dict(epochs=50, batch=256))
    monkeypatch.setenv(profiles.PROFILE_ENV, "cpu")
    sizes = budget.get()
    assert (sizes.profile, sizes.epochs, sizes.batch) == ("cpu", 5, 64)
    assert budget.get("smoke").epochs == 1
    assert budget.table()["gpu"] == {"epochs": 50, "batch": 256}
    with pytest.raises(ProfileError):
        budget.get("tpu")


def test_budget_needs_the_same_keys_everywhere():
    with pytest.raises(ProfileError, match="differs from 'smoke'"):
        Budget(smoke=dict(epochs=1), cpu=dict(epochs=2, batch=3), gpu=dict(epochs=3))
    with pytest.raises(ProfileError, match="missing"):
        Budget(smoke=dict(epochs=1), cpu=dict(epochs=2))
