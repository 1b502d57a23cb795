"""The scenario JSON Schema (scenarios/schema.json) and `protofarm validate` agree.

Every scenario under scenarios/ must pass both; every file under bad_scenarios/ must fail both,
and protofarm must say what its first line (`# expect-error: LINE:COL: MESSAGE`) says, at that
position. protofarm composes the schema from controller/schema_base.json and each registered
fake's fakes/<protocol>/schema.json; scenarios/schema.json is the copy `make schema` writes, and
`protofarm schema` prints the very file.

YAML is loaded the way protofarm reads it (YAML 1.2 core): PyYAML's YAML 1.1 resolvers for
yes/no/on/off booleans and for timestamps are dropped, because `on:` is a rule key and a
`clock:` is a string.
"""

import json
import re
import unittest
from pathlib import Path

import jsonschema
import yaml

from farm import SCENARIOS, run

BAD = Path(__file__).resolve().parent / "bad_scenarios"
SCHEMA_FILE = SCENARIOS / "schema.json"

BOOL_TAG = "tag:yaml.org,2002:bool"
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class DuplicateKey(yaml.constructor.ConstructorError):
    pass


class ScenarioLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans, no timestamps, and duplicate keys as errors."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise DuplicateKey(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


ScenarioLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (BOOL_TAG, TIMESTAMP_TAG)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
ScenarioLoader.add_implicit_resolver(
    BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def load_yaml(path):
    return yaml.load(Path(path).read_text(), Loader=ScenarioLoader)


def schema():
    return json.loads(SCHEMA_FILE.read_text())


def validator():
    return jsonschema.Draft202012Validator(schema())


def scenario_files():
    return sorted(p for p in SCENARIOS.rglob("*") if p.suffix in (".yaml", ".yml"))


def bad_files():
    return sorted(BAD.glob("*.yaml"))


def expected_error(path):
    """(line, column, message) from the file's `# expect-error:` line; line is None when the
    error has no position."""
    first = Path(path).read_text().splitlines()[0]
    m = re.match(r"# expect-error: (?:(\d+):(\d+): )?(.*)$", first)
    if not m:
        raise AssertionError(f"{path.name}: first line must be "
                             "'# expect-error: [LINE:COL: ]MESSAGE'")
    line = int(m.group(1)) if m.group(1) else None
    column = int(m.group(2)) if m.group(2) else None
    return line, column, m.group(3)


def says(text, message):
    """Whether `text` starts with `message`, where " ... " in the message stands for any text
    (such as a list of protocols that grows)."""
    parts = message.split(" ... ")
    if not text.startswith(parts[0]):
        return False
    at = len(parts[0])
    for part in parts[1:]:
        found = text.find(part, at)
        if found < 0:
            return False
        at = found + len(part)
    return True


def schema_rejects(path):
    """Why the schema (or loading the YAML as the schema test does) rejects the file, or
    None when it accepts it."""
    try:
        doc = load_yaml(path)
    except yaml.YAMLError as e:
        return f"YAML: {e}"
    errors = list(validator().iter_errors(doc))
    if not errors:
        return None
    return "; ".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


class TheLoader(unittest.TestCase):
    def test_on_and_yes_stay_strings_and_true_is_a_boolean(self):
        doc = yaml.load("on: QUIT\nyes: no\nclock: 2026-01-01T00:00:00Z\nflag: true\n",
                        Loader=ScenarioLoader)
        self.assertEqual(doc, {"on": "QUIT", "yes": "no", "clock": "2026-01-01T00:00:00Z",
                               "flag": True})

    def test_duplicate_keys_are_errors(self):
        with self.assertRaises(yaml.YAMLError):
            yaml.load("a: 1\na: 2\n", Loader=ScenarioLoader)


class TheSchema(unittest.TestCase):
    def test_is_a_valid_draft_2020_12_schema(self):
        s = schema()
        self.assertEqual(s["$schema"], "https://json-schema.org/draft/2020-12/schema")
        jsonschema.Draft202012Validator.check_schema(s)

    def test_protofarm_schema_prints_the_file(self):
        result = run("schema")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, SCHEMA_FILE.read_text())
        self.assertEqual(json.loads(result.stdout), schema())

    def test_every_protocol_of_the_schema_is_registered_and_the_other_way_round(self):
        protocols = schema()["$defs"]["server"]["properties"]["protocol"]["enum"]
        result = run("fakes", "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        registered = [f["protocol"] for f in json.loads(result.stdout)["fakes"]]
        self.assertEqual(protocols, registered, "run `make schema`")
        for protocol in protocols:
            with self.subTest(protocol=protocol):
                text = f"name: p\nservers:\n  s:\n    protocol: {protocol}\n"
                path = Path(self.tmp) / f"{protocol}.yaml"
                path.write_text(text)
                result = run("validate", path)
                self.assertNotIn("unknown protocol", result.stderr)

    def setUp(self):
        import tempfile
        self.tmp = tempfile.mkdtemp(prefix="protofarm-schema-")

    def tearDown(self):
        import shutil
        shutil.rmtree(self.tmp, ignore_errors=True)


class EveryScenario(unittest.TestCase):
    def test_there_are_scenarios(self):
        self.assertTrue(any(p.name == "hello-tcp.yaml" for p in scenario_files()))

    def test_each_passes_the_schema(self):
        v = validator()
        for path in scenario_files():
            with self.subTest(scenario=path.name):
                errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                          for e in v.iter_errors(load_yaml(path))]
                self.assertEqual(errors, [], f"{path} fails the schema")

    def test_each_passes_protofarm_validate(self):
        for path in scenario_files():
            with self.subTest(scenario=path.name):
                result = run("validate", path)
                self.assertEqual(result.returncode, 0, f"{path}:\n{result.stderr}")
                self.assertIn(f"{path}: ok", result.stdout)


class BadScenarios(unittest.TestCase):
    def test_there_are_bad_scenarios(self):
        self.assertGreaterEqual(len(bad_files()), 10)

    def test_the_schema_rejects_each(self):
        for path in bad_files():
            with self.subTest(scenario=path.name):
                self.assertIsNotNone(schema_rejects(path), f"the schema accepts {path}")

    def test_protofarm_rejects_each_with_its_error_at_its_position(self):
        for path in bad_files():
            with self.subTest(scenario=path.name):
                line, column, message = expected_error(path)
                result = run("validate", path)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertEqual(result.stdout, "")
                where = f"{path}:{line}:{column}: error: " if line else f"{path}: error: "
                lines = result.stderr.splitlines()
                self.assertTrue(any(l.startswith(where) and says(l[len(where):], message)
                                    for l in lines),
                                f"expected '{where}{message}' in:\n{result.stderr}")
                self.assertRegex(lines[-1], r"^\d+ errors?$")

    def test_run_refuses_each_and_starts_nothing(self):
        for path in bad_files()[:3]:  # the same code path as validate: a few suffice
            with self.subTest(scenario=path.name):
                result = run("run", path, "--ready-file", Path(self.tmp) / "ready.json",
                             timeout=30)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn("nothing was started", result.stderr)
                self.assertFalse((Path(self.tmp) / "ready.json").exists())

    def setUp(self):
        import tempfile
        self.tmp = tempfile.mkdtemp(prefix="protofarm-schema-")

    def tearDown(self):
        import shutil
        shutil.rmtree(self.tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
