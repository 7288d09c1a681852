"""The test and bench Redis Cluster (bench/redis_cluster.py) starts again on fresh nodes when
`redis-cli --cluster create` fails once (on a loaded machine it now and then never sees the nodes
agree), and says why on stderr; a second failure fails the start with redis-cli's output."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bench.redis_cluster import ClusterProc
from tests.support.redis_cluster import require_redis_cli
from tests.support.redis_server import require_redis_server


def _failing_cli(tmp_path: Path, real: str, failures: int) -> tuple[Path, Path]:
    """A redis-cli that fails its first `failures` `--cluster create` calls, then is the real
    one; and the file that counts the create calls."""
    calls = tmp_path / "creates"
    script = tmp_path / "redis-cli"
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "--cluster" ] && [ "$2" = "create" ]; then\n'
        f'  echo x >> "{calls}"\n'
        f'  if [ "$(wc -l < "{calls}")" -le {failures} ]; then\n'
        '    echo "[ERR] Node 127.0.0.1 is not empty (a failure made up by the test)"\n'
        "    exit 1\n"
        "  fi\n"
        "fi\n"
        f'exec "{real}" "$@"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, calls


def test_a_failed_create_is_tried_once_more_on_new_nodes(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    cli, calls = _failing_cli(tmp_path, require_redis_cli(), failures=1)
    cluster = ClusterProc(tmp_path / "nodes", require_redis_server(), str(cli), masters=3)
    first_ports = [n.port for n in cluster.nodes]
    try:
        cluster.start()
        assert all(cluster.healthy(n.port) for n in cluster.nodes)
        assert [n.port for n in cluster.nodes] != first_ports
        assert len(calls.read_text().splitlines()) == 2
        err = capfd.readouterr().err
        assert "a failure made up by the test" in err and "trying again" in err
    finally:
        cluster.stop()
    assert not any(n.running for n in cluster.nodes)


def test_a_second_failed_create_fails_the_start_with_its_output(tmp_path: Path) -> None:
    cli, calls = _failing_cli(tmp_path, require_redis_cli(), failures=2)
    cluster = ClusterProc(tmp_path / "nodes", require_redis_server(), str(cli), masters=3)
    try:
        with pytest.raises(RuntimeError, match="a failure made up by the test"):
            cluster.start()
        assert len(calls.read_text().splitlines()) == 2
    finally:
        cluster.stop()
