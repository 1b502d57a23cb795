"""The pytest plugin: the `protofarm` fixture.

    def test_greylisted_client_retries(protofarm):
        farm = protofarm("scenarios/greylisting.yaml")   # a path, or YAML text
        my_client.send(port=farm.port("mail"))

The fixture is a factory: each call starts a farm (transcripts under the test's tmp_path), and at
the end of the test every farm is checked and stopped. A farm whose scenario has an `expect:`
section is verified first (POST /api/verify, once its sessions have closed, for at most `settle`
seconds), and a check that does not pass fails the test with verify's report.

Options: `--protofarm-binary PATH` or the ini key `protofarm_binary` (default: $PROTOFARM, else
protofarm on PATH); the ini key `protofarm_verify = false` turns verification off;
`@pytest.mark.protofarm(verify=False, settle=5)` sets both for one test, and
`protofarm(scenario, verify=False)` for one farm. Other keywords go to protofarm.Farm.
"""

import os
from pathlib import Path

import pytest

from .farm import Farm, ProtofarmError

SETTLE = 5.0  # seconds to wait for open sessions to close before verifying


def pytest_addoption(parser):
    group = parser.getgroup("protofarm")
    group.addoption("--protofarm-binary", default=None, metavar="PATH",
                    help="the protofarm program (default: ini protofarm_binary, $PROTOFARM, "
                         "else protofarm on PATH)")
    parser.addini("protofarm_binary", "the protofarm program (relative to the ini file)",
                  default="")
    parser.addini("protofarm_verify", "verify a scenario's expect: section after each test "
                  "that uses the protofarm fixture", type="bool", default=True)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "protofarm(verify=True, settle=5): options of the protofarm fixture for "
        "this test: verify the scenarios' expect: sections at teardown, after waiting up to "
        "settle seconds for open sessions to close")


def _binary(config):
    value = config.getoption("--protofarm-binary") or config.getini("protofarm_binary")
    if not value:
        return None
    path = Path(os.path.expanduser(value))
    if not path.is_absolute() and os.sep in value and config.inipath is not None:
        path = Path(config.inipath).parent / path
    return str(path)


class FarmFactory:
    """What the `protofarm` fixture gives: call it with a scenario to get a started Farm."""

    def __init__(self, request, tmp_path):
        marker = request.node.get_closest_marker("protofarm")
        options = dict(marker.kwargs) if marker else {}
        self.verify = options.get("verify", request.config.getini("protofarm_verify"))
        self.settle = options.get("settle", SETTLE)
        self.binary = _binary(request.config)
        self.tmp_path = tmp_path
        self.farms = []  # (farm, verify)

    def __call__(self, scenario, *, verify=None, **kwargs):
        workdir = self.tmp_path / f"protofarm-{len(self.farms) + 1}"
        kwargs.setdefault("binary", self.binary)
        kwargs.setdefault("transcripts", workdir / "transcripts")
        farm = Farm(scenario, workdir=workdir, **kwargs)
        farm.start()
        self.farms.append((farm, self.verify if verify is None else verify))
        return farm

    def finish(self):
        """Verifies (where asked) and stops every farm; answers the problems found."""
        problems = []
        for farm, verify in self.farms:
            try:
                if verify and farm.has_expect():
                    problem = self._verify(farm)
                    if problem:
                        problems.append(problem)
            finally:
                status = farm.stop()
                if status not in (0, None) or farm.forced_stop:
                    how = "had to be killed" if farm.forced_stop else "exited"
                    problems.append(f"protofarm {how} with status {status} "
                                    f"({' '.join(map(str, farm.scenarios))}):\n{farm.stderr}")
        return problems

    def _verify(self, farm):
        names = ", ".join(map(str, farm.scenarios))
        if farm.transcripts is None:
            return f"protofarm: cannot verify {names}: the farm records no transcripts"
        try:
            if farm.running() and farm.control_url:
                try:
                    farm.wait_idle(self.settle)
                except TimeoutError:
                    pass  # open sessions count as they stand
                result = farm.verify()
            else:
                farm.stop()
                result = farm.verify_offline()
        except (ProtofarmError, OSError) as error:
            return f"protofarm: could not verify {names}: {error}"
        if result.get("passed"):
            return None
        return (f"protofarm: the expectations of {names} were not met "
                f"(transcripts: {farm.transcripts})\n{result.get('report', '').rstrip()}")


@pytest.fixture
def protofarm(request, tmp_path):
    """A factory of started farms: protofarm(scenario, **Farm keywords) -> protofarm.Farm.
    At teardown each farm is verified (if its scenario has expect:) and stopped."""
    factory = FarmFactory(request, tmp_path)
    yield factory
    problems = factory.finish()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)
