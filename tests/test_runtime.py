"""core.runtime.usable_cpus: the CPUs a process may use, from its affinity, a fake cgroup and CPU_CORES."""

import os

import pytest

from core.runtime import cgroup_cpus, usable_cpus

AFFINITY = len(os.sched_getaffinity(0))


def cgroup(tmp_path, v2: str | None = None, v1: tuple[str, str] | None = None):
    tmp_path.mkdir(parents=True, exist_ok=True)
    if v2 is not None:
        (tmp_path / "cpu.max").write_text(v2 + "\n")
    if v1 is not None:
        (tmp_path / "cpu").mkdir()
        (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text(v1[0] + "\n")
        (tmp_path / "cpu" / "cpu.cfs_period_us").write_text(v1[1] + "\n")
    return tmp_path


def test_cgroup_quota_v2_v1_and_unlimited(tmp_path):
    assert cgroup_cpus(cgroup(tmp_path / "a", v2="150000 100000")) == 1.5
    assert cgroup_cpus(cgroup(tmp_path / "b", v2="max 100000")) is None
    assert cgroup_cpus(cgroup(tmp_path / "c", v1=("200000", "100000"))) == 2.0
    assert cgroup_cpus(cgroup(tmp_path / "d", v1=("-1", "100000"))) is None
    assert cgroup_cpus(cgroup(tmp_path / "e", v2="garbage")) is None
    assert cgroup_cpus(tmp_path / "missing") is None


def test_usable_cpus_takes_the_smallest_limit(tmp_path):
    none = tmp_path / "none"
    none.mkdir()
    assert usable_cpus(none, environ={}) == AFFINITY
    # a fractional quota rounds up: 0.5 CPU still runs one thread
    assert usable_cpus(cgroup(tmp_path / "half", v2="50000 100000"), environ={}) == 1
    # a quota above the affinity does not raise the count
    assert usable_cpus(cgroup(tmp_path / "big", v2="6400000 100000"), environ={}) == AFFINITY
    assert usable_cpus(none, environ={"CPU_CORES": "1"}) == 1
    assert usable_cpus(none, environ={"CPU_CORES": "4096"}) == AFFINITY
    for bad in ("", "two", "0", "-3"):  # ignored, not trusted
        assert usable_cpus(none, environ={"CPU_CORES": bad}) == AFFINITY


@pytest.mark.skipif(AFFINITY < 2, reason="needs two CPUs in this process's affinity")
def test_a_quota_below_the_affinity_limits(tmp_path):
    assert usable_cpus(cgroup(tmp_path, v2="100000 100000"), environ={}) == 1
