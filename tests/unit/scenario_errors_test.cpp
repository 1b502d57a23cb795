// Scenario loading errors: each names file:line:column and what was expected, every error of a
// file is reported (not only the first), and checks across files and `--only` names work.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "controller/farm.hpp"
#include "controller/scenario.hpp"
#include "controller/schema_validator.hpp"

namespace protofarm {
namespace {

namespace fs = std::filesystem;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class ScenarioErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/protofarm-scenario-XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }

  // The errors of one file as `protofarm validate` prints them, with the file's path
  // shortened to its name.
  std::string errors_of(const std::string& text, const std::string& name = "s.yaml") {
    Farm farm({});
    const auto errors = farm.load({write(name, text)});
    return shorten(errors);
  }

  std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(errors_of(text));
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

  std::string shorten(const std::vector<ConfigErrors>& errors) {
    std::string out;
    for (const auto& e : errors) out += e.format();
    const std::string prefix = dir_.string() + "/";
    for (std::size_t at; (at = out.find(prefix)) != std::string::npos;)
      out.erase(at, prefix.size());
    return out;
  }

  fs::path dir_;
};

// --- each kind of error, exactly ---------------------------------------------------------------

TEST_F(ScenarioErrors, AGoodScenarioHasNone) {
  EXPECT_EQ(errors_of(R"(name: good
servers:
  echo:
    protocol: tcp
    listen: 127.0.0.1:0
    idle_timeout: 2s
    max_line: 1KiB
    faults: {pace: 10B/s, latency: 5ms, reset_after: {sent: 1KiB}, times: 1}
    rules:
      - {on: QUIT, reply: bye, then: close}
)"),
            "");
}

TEST_F(ScenarioErrors, UnknownKeyWithDidYouMean) {
  EXPECT_EQ(errors_of(R"(name: x
servers:
  a:
    protocol: tcp
    lisen: 127.0.0.1:0
)"),
            "s.yaml:5:5: error: servers.a: unknown key 'lisen'; did you mean 'listen'?\n");
}

TEST_F(ScenarioErrors, UnknownKeyFarFromAnyGetsNoSuggestion) {
  EXPECT_EQ(errors_of("name: x\nservers:\n  a:\n    protocol: tcp\n    colour: blue\n"),
            "s.yaml:5:5: error: servers.a: unknown key 'colour'\n");
}

TEST_F(ScenarioErrors, UnknownKeysAtEveryLevel) {
  EXPECT_EQ(errors_of(R"(name: x
sevrers: {}
servers:
  a:
    protocol: tcp
    faults: {refuse: true, lantecy: 1s}
    rules:
      - {on: QUIT, tiems: 1}
)"),
            "s.yaml:2:1: error: scenario: unknown key 'sevrers'; did you mean 'servers'?\n"
            "s.yaml:6:28: error: servers.a.faults: unknown key 'lantecy'; did you mean "
            "'latency'?\n"
            "s.yaml:8:20: error: servers.a.rules[0]: unknown key 'tiems'; did you mean 'times'?\n");
}

TEST_F(ScenarioErrors, WrongTypes) {
  EXPECT_EQ(errors_of(R"(name: [x]
seed: -1
servers:
  a:
    protocol: tcp
    echo: yes
    rules: {on: QUIT}
)"),
            "s.yaml:1:7: error: name: expected a string, got a list\n"
            "s.yaml:2:7: error: seed: must be at least 0, got -1\n"
            "s.yaml:6:11: error: servers.a.echo: expected true or false, got the string 'yes'\n"
            "s.yaml:7:12: error: servers.a.rules: expected a list, got a map\n");
}

TEST_F(ScenarioErrors, MissingRequiredKeys) {
  EXPECT_EQ(errors_of(R"(description: no name, no servers
)"),
            "s.yaml:1:1: error: scenario: missing required key 'name'\n");
  // (Both are reported at the map; one error per position is kept.)
  EXPECT_EQ(errors_of(R"(name: x
servers:
  a:
    listen: 127.0.0.1:0
)"),
            "s.yaml:4:5: error: servers.a: missing required key 'protocol'\n");
}

TEST_F(ScenarioErrors, EmptyServers) {
  EXPECT_EQ(errors_of("name: x\nservers: {}\n"),
            "s.yaml:2:10: error: servers: needs at least 1 entry\n");
}

TEST_F(ScenarioErrors, DuplicateServerNames) {
  EXPECT_EQ(errors_of(R"(name: x
servers:
  a:
    protocol: tcp
  b:
    protocol: tcp
  a:
    protocol: udp
)"),
            "s.yaml:7:3: error: servers: duplicate server name 'a' (first defined at line 3)\n");
}

TEST_F(ScenarioErrors, DuplicateKeys) {
  EXPECT_EQ(errors_of(R"(name: x
servers:
  a:
    protocol: tcp
    listen: 127.0.0.1:0
    listen: 127.0.0.1:1
)"),
            "s.yaml:6:5: error: servers.a: duplicate key 'listen' (first defined at line 5)\n");
}

TEST_F(ScenarioErrors, InvalidServerName) {
  EXPECT_EQ(errors_of("name: x\nservers:\n  ../etc:\n    protocol: tcp\n"),
            "s.yaml:3:3: error: servers: '../etc' is not a valid name; expected letters, digits, "
            "'_', '.' and '-' (the name is used in file paths)\n");
}

TEST_F(ScenarioErrors, InvalidRegularExpression) {
  const std::string out = errors_of(R"(name: x
servers:
  a:
    protocol: tcp
    rules:
      - on: HELO
        match: '(unclosed'
)");
  EXPECT_THAT(out, StartsWith("s.yaml:7:16: error: servers.a.rules[0].match: invalid regular "
                              "expression '(unclosed': "));
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
}

TEST_F(ScenarioErrors, InvalidRegularExpressionInAScriptStep) {
  const std::string out = errors_of(R"(name: x
servers:
  a:
    protocol: tcp
    script:
      - expect: '[a-'
)");
  EXPECT_THAT(out, StartsWith("s.yaml:6:17: error: servers.a.script[0].expect: invalid regular "
                              "expression '[a-': "));
}

TEST_F(ScenarioErrors, TwoServersOnTheSameFixedPort) {
  EXPECT_EQ(errors_of(R"(name: x
servers:
  a:
    protocol: tcp
    listen: 127.0.0.1:40999
  b:
    protocol: tcp
    listen: 127.0.0.1:40999
  c:
    protocol: tcp
    listen: 0.0.0.0:40999
  d:
    protocol: tcp
    listen: 127.0.0.2:40998
  e:
    protocol: tcp
    listen: 127.0.0.3:40998
  f:
    protocol: tcp
    listen: '[::1]:40999'
)"),
            "s.yaml:8:13: error: servers.b.listen: 127.0.0.1:40999 is already used by server 'a' "
            "(s.yaml line 3)\n"
            "s.yaml:11:13: error: servers.c.listen: 0.0.0.0:40999 is already used by server 'a' "
            "(s.yaml line 3)\n");
}

TEST_F(ScenarioErrors, PortZeroNeverClashes) {
  EXPECT_EQ(errors_of(R"(name: x
servers:
  a: {protocol: tcp, listen: 127.0.0.1:0}
  b: {protocol: tcp, listen: 127.0.0.1:0}
  c: {protocol: tcp}
)"),
            "");
}

TEST_F(ScenarioErrors, TwoServersOnTheSameUnixPath) {
  EXPECT_EQ(errors_of(R"(name: x
servers:
  a: {protocol: tcp, listen: unix:/tmp/pf.sock}
  b: {protocol: tcp, listen: unix:/tmp/pf.sock}
)"),
            "s.yaml:4:30: error: servers.b.listen: unix:/tmp/pf.sock is already used by server "
            "'a' (s.yaml line 3)\n");
}

TEST_F(ScenarioErrors, UnknownProtocol) {
  const std::string out = errors_of("name: x\nservers:\n  mail:\n    protocol: smpt\n");
  EXPECT_THAT(out, StartsWith("s.yaml:4:15: error: servers.mail.protocol: unknown protocol "
                              "'smpt'; expected one of: tcp, udp, smtp, pop3"));
  EXPECT_THAT(out, EndsWith("; did you mean 'smtp'?\n"));
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
}

TEST_F(ScenarioErrors, SeveralErrorsInOneFileAllReportedInOrder) {
  const auto lines = lines_of(R"(name: x
clock: yesterday
servers:
  a:
    protocol: tcp
    listen: nowhere
    idle_timeout: soon
  b:
    protocl: tcp
  c:
    protocol: tcp
    rules:
      - match: '('
        then: explode
)");
  ASSERT_EQ(lines.size(), 6u) << ::testing::PrintToString(lines);
  EXPECT_THAT(lines[0], StartsWith("s.yaml:2:8: error: clock: expected an RFC 3339 time"));
  EXPECT_EQ(lines[1],
            "s.yaml:6:13: error: servers.a.listen: expected HOST:PORT like 127.0.0.1:0 or "
            "[::1]:0, or unix:PATH, got 'nowhere'");
  EXPECT_EQ(lines[2],
            "s.yaml:7:19: error: servers.a.idle_timeout: expected a duration like 250ms, 2s or "
            "1m, got 'soon'");
  EXPECT_EQ(lines[3], "s.yaml:9:5: error: servers.b: missing required key 'protocol'");
  EXPECT_THAT(lines[4], StartsWith("s.yaml:13:16: error: servers.c.rules[0].match: invalid regular "
                                   "expression '('"));
  EXPECT_EQ(lines[5],
            "s.yaml:14:15: error: servers.c.rules[0].then: unknown action 'explode'; expected "
            "one of: close, reset, hang");
}

// --- YAML itself -------------------------------------------------------------------------------

TEST_F(ScenarioErrors, YamlSyntaxErrorNamesItsPosition) {
  const std::string out = errors_of("name: x\nservers:\n  a:\n    protocol: [tcp\n");
  EXPECT_THAT(out, StartsWith("s.yaml:5:1: error: not valid YAML: "));
  const std::string tab = errors_of("name: x\nservers:\n\ta: {protocol: tcp}\n");
  EXPECT_THAT(tab, StartsWith("s.yaml:3:"));
  EXPECT_THAT(tab, HasSubstr(": error: not valid YAML: "));
}

TEST_F(ScenarioErrors, AnEmptyFile) {
  const std::string expected =
      "s.yaml: error: the file is empty; a scenario needs at least `name:` and `servers:`\n";
  EXPECT_EQ(errors_of(""), expected);
  EXPECT_EQ(errors_of("# only a comment\n"), expected);
  EXPECT_EQ(errors_of("---\n"), expected);
}

TEST_F(ScenarioErrors, NotAMap) {
  EXPECT_EQ(errors_of("- a\n- b\n"), "s.yaml:1:1: error: scenario: expected a map, got a list\n");
  EXPECT_EQ(errors_of("just text\n"),
            "s.yaml:1:1: error: scenario: expected a map, got the string 'just text'\n");
}

TEST_F(ScenarioErrors, TwoDocuments) {
  EXPECT_EQ(errors_of(R"(name: x
servers:
  a: {protocol: tcp}
---
name: y
servers:
  b: {protocol: tcp}
)"),
            "s.yaml:5:1: error: one scenario per file: found a second YAML document\n");
}

TEST_F(ScenarioErrors, AFileThatCannotBeRead) {
  Farm farm({});
  const auto errors = farm.load({(dir_ / "missing.yaml").string()});
  EXPECT_EQ(shorten(errors),
            "missing.yaml: error: cannot read the scenario file: No such file or directory\n");
}

// --- durations, rates, sizes, payloads ---------------------------------------------------------

TEST_F(ScenarioErrors, BadDurations) {
  EXPECT_EQ(errors_of(R"(name: x
servers:
  a:
    protocol: tcp
    idle_timeout: 5 seconds
    faults: {latency: [1]}
    rules:
      - {delay: -3}
  b:
    protocol: tcp
    idle_timeout: 0
)"),
            "s.yaml:5:19: error: servers.a.idle_timeout: expected a duration like 250ms, 2s or "
            "1m, got '5 seconds'\n"
            "s.yaml:6:23: error: servers.a.faults.latency: expected a duration like 250ms, 2s or "
            "1m, got a list\n"
            "s.yaml:8:17: error: servers.a.rules[0].delay: must be at least 0, got -3\n"
            "s.yaml:11:19: error: servers.b.idle_timeout: must be longer than 0\n");
}

TEST_F(ScenarioErrors, BadRates) {
  EXPECT_EQ(errors_of(R"(name: x
servers:
  a:
    protocol: tcp
    faults: {pace: 10}
    rules:
      - {pace: 10 bytes/s}
      - {pace: 0B/s}
)"),
            "s.yaml:5:20: error: servers.a.faults.pace: expected a rate like 10B/s, 2KiB/s or "
            "1MB/s, got the number 10\n"
            "s.yaml:7:16: error: servers.a.rules[0].pace: expected a rate like 10B/s, 2KiB/s or "
            "1MB/s, got '10 bytes/s'\n"
            "s.yaml:8:16: error: servers.a.rules[1].pace: expected a rate like 10B/s, 2KiB/s or "
            "1MB/s, got '0B/s'\n");
}

TEST_F(ScenarioErrors, BadSizes) {
  EXPECT_EQ(errors_of(R"(name: x
servers:
  a:
    protocol: tcp
    max_line: 1 TB
    faults: {reset_after: {sent: lots}}
  b:
    protocol: tcp
    max_line: 0
)"),
            "s.yaml:5:15: error: servers.a.max_line: expected a size like 512, 64KiB or 1MiB, got "
            "'1 TB'\n"
            "s.yaml:6:34: error: servers.a.faults.reset_after.sent: expected a size like 512, "
            "64KiB or 1MiB, got 'lots'\n"
            "s.yaml:9:15: error: servers.b.max_line: must be at least 1 byte\n");
}

TEST_F(ScenarioErrors, BadPayloads) {
  EXPECT_EQ(errors_of(R"(name: x
servers:
  a:
    protocol: tcp
    banner: [1, 2]
  b:
    protocol: tcp
    banner: {hex: "zz"}
  c:
    protocol: tcp
    banner: {text: a, base64: YQ==}
  d:
    protocol: tcp
    rules:
      - raw: {hexa: "35"}
)"),
            "s.yaml:5:13: error: servers.a.banner: expected text, or a map with one of text, hex "
            "or base64, got a list\n"
            "s.yaml:8:19: error: servers.b.banner.hex: expected pairs of hex digits like \"35 35 "
            "30 0d 0a\", got 'zz'\n"
            "s.yaml:11:13: error: servers.c.banner: expected exactly one of text, hex or base64\n"
            "s.yaml:15:15: error: servers.d.rules[0].raw: unknown key 'hexa'; did you mean "
            "'hex'?\n");
}

// --- listen addresses and TLS files ------------------------------------------------------------

TEST_F(ScenarioErrors, BadListenAddresses) {
  EXPECT_EQ(errors_of(R"(name: x
servers:
  a: {protocol: tcp, listen: localhost}
  b: {protocol: tcp, listen: example.com:25}
  c: {protocol: tcp, listen: 127.0.0.1:70000}
  d: {protocol: tcp, listen: '::1:25'}
  e: {protocol: tcp, listen: 'unix:'}
  f: {protocol: tcp, listen: 25}
)"),
            "s.yaml:3:30: error: servers.a.listen: expected HOST:PORT like 127.0.0.1:0 or [::1]:0, "
            "or unix:PATH, got 'localhost'\n"
            "s.yaml:4:30: error: servers.b.listen: 'example.com' is not a numeric IP address "
            "(names other than localhost are not looked up)\n"
            "s.yaml:5:30: error: servers.c.listen: '70000' is not a port number from 0 to 65535\n"
            "s.yaml:6:30: error: servers.d.listen: write an IPv6 address in brackets, like "
            "[::1]:0\n"
            "s.yaml:7:30: error: servers.e.listen: expected HOST:PORT like 127.0.0.1:0 or [::1]:0, "
            "or unix:PATH, got 'unix:'\n"
            "s.yaml:8:30: error: servers.f.listen: expected HOST:PORT like 127.0.0.1:0 or [::1]:0, "
            "or unix:PATH, got the number 25\n");
}

TEST_F(ScenarioErrors, TlsFilesThatDoNotExist) {
  const std::string out = errors_of(R"(name: x
servers:
  a:
    protocol: tcp
    tls: {mode: implicit, cert: no-cert.pem, key: no-key.pem}
  b:
    protocol: tcp
    tls: {mode: implicit, cert: no-cert.pem}
)");
  const std::string d = dir_.string();
  EXPECT_EQ(out,
            "s.yaml:5:33: error: servers.a.tls.cert: file not found: no-cert.pem\n"
            "s.yaml:5:51: error: servers.a.tls.key: file not found: no-key.pem\n"
            "s.yaml:8:10: error: servers.b.tls: give both cert and key, or neither (a certificate "
            "is then generated)\n"
            "s.yaml:8:33: error: servers.b.tls.cert: file not found: no-cert.pem\n");
}

TEST_F(ScenarioErrors, TlsFilesAreFoundNextToTheScenario) {
  write("cert.pem", "x");
  write("key.pem", "x");
  EXPECT_EQ(errors_of(R"(name: x
servers:
  a:
    protocol: tcp
    tls: {mode: implicit, cert: cert.pem, key: key.pem}
)"),
            "");
}

TEST_F(ScenarioErrors, BadTlsMode) {
  EXPECT_EQ(errors_of("name: x\nservers:\n  a: {protocol: tcp, tls: sometimes}\n"),
            "s.yaml:3:27: error: servers.a.tls: unknown TLS mode 'sometimes'; expected one of: "
            "none, implicit, starttls\n");
}

// --- across files, and --only ------------------------------------------------------------------

TEST_F(ScenarioErrors, ErrorsAcrossTwoFiles) {
  const std::string a = write("a.yaml", R"(name: a
servers:
  mail:
    protocol: tcp
    listen: 127.0.0.1:40997
)");
  const std::string b = write("b.yaml", R"(name: b
servers:
  web:
    protocol: tcp
    listen: 127.0.0.1:40997
  mail:
    protocol: tcp
)");
  Farm farm({});
  const auto errors = farm.load({a, b});
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_TRUE(errors[0].empty()) << errors[0].format();
  EXPECT_EQ(shorten(errors),
            "b.yaml:5:13: error: servers.web.listen: 127.0.0.1:40997 is already used by server "
            "'mail' (a.yaml line 3)\n"
            "b.yaml:6:3: error: servers.mail: server name already used in a.yaml line 3\n");
}

TEST_F(ScenarioErrors, UdpAndTcpMayShareAPortNumber) {
  EXPECT_EQ(errors_of(R"(name: x
servers:
  a: {protocol: tcp, listen: 127.0.0.1:40996}
  b: {protocol: udp, listen: 127.0.0.1:40996}
)")
                .find("already used"),
            std::string::npos);
}

TEST_F(ScenarioErrors, OnlyWithAnUnknownName) {
  const std::string a = write("a.yaml", "name: a\nservers:\n  mail: {protocol: tcp}\n");
  FarmOptions options;
  options.only = {"mial", "mail", "zzz"};
  Farm farm(options);
  EXPECT_EQ(shorten(farm.load({a})),
            "a.yaml: error: --only mial: no server of that name; did you mean 'mail'?\n"
            "a.yaml: error: --only zzz: no server of that name\n");
}

TEST_F(ScenarioErrors, OnlyWithAKnownNameIsFine) {
  const std::string a = write("a.yaml", "name: a\nservers:\n  mail: {protocol: tcp}\n");
  FarmOptions options;
  options.only = {"mail"};
  Farm farm(options);
  EXPECT_EQ(shorten(farm.load({a})), "");
}

// --- load_scenario and the validator directly ---------------------------------------------------

TEST_F(ScenarioErrors, LoadScenarioDecodesWhatEveryServerHas) {
  ConfigErrors errors;
  const auto sc = load_scenario(write("ok.yaml", R"(name: decoded
seed: 7
clock: 2026-02-03T04:05:06.789Z
state: {greylist: first}
servers:
  b:
    protocol: tcp
    listen: '[::1]:2525'
    idle_timeout: 1.5s
    max_line: 2KiB
  a:
    protocol: tcp
    listen: unix:/tmp/a.sock
    faults: {refuse: true, times: 2, after: 1}
expect:
  a: {sessions: 2}
)"),
                                errors);
  ASSERT_TRUE(sc.has_value());
  EXPECT_TRUE(errors.empty()) << errors.format();
  EXPECT_EQ(sc->context->name, "decoded");
  EXPECT_EQ(sc->context->seed, 7u);
  EXPECT_FALSE(sc->context->clock.real);
  EXPECT_EQ(iso8601(sc->context->clock.now()), "2026-02-03T04:05:06.789Z");
  EXPECT_EQ(sc->context->states->get("greylist"), "first");
  ASSERT_EQ(sc->servers.size(), 2u);
  EXPECT_EQ(sc->servers[0].name, "b");  // file order
  EXPECT_EQ(sc->servers[0].listen.host, "::1");
  EXPECT_EQ(sc->servers[0].listen.port, 2525);
  EXPECT_EQ(sc->servers[0].idle_timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(sc->servers[0].max_line, 2048u);
  EXPECT_EQ(sc->servers[1].listen.kind, ListenAddress::Kind::unix_path);
  ASSERT_TRUE(sc->servers[1].faults.has_value());
  EXPECT_TRUE(sc->servers[1].faults->refuse);
  EXPECT_FALSE(sc->servers[1].faults->applies_to(1));
  EXPECT_TRUE(sc->servers[1].faults->applies_to(2));
  EXPECT_TRUE(sc->servers[1].faults->applies_to(3));
  EXPECT_FALSE(sc->servers[1].faults->applies_to(4));
  EXPECT_TRUE(sc->expect.IsMap());
}

TEST_F(ScenarioErrors, ExpectNamesAnUnknownServer) {
  EXPECT_EQ(
      errors_of("name: x\nservers:\n  mail: {protocol: tcp}\nexpect:\n  mial: {sessions: 1}\n"),
      "s.yaml:5:3: error: expect: no server named 'mial' in this scenario; did you mean "
      "'mail'?\n");
}

TEST_F(ScenarioErrors, TheValidatorAloneReportsEveryViolation) {
  ConfigErrors errors("v.yaml");
  const SchemaValidator v(scenario_schema());
  EXPECT_FALSE(
      v.validate(YAML::Load("name: 1\nservers: {a: {protocol: ftpx}}\nextra: 1\n"), errors));
  EXPECT_EQ(errors.size(), 3u) << errors.format();
  ConfigErrors none("v.yaml");
  EXPECT_TRUE(v.validate(YAML::Load("name: ok\nservers: {a: {protocol: tcp}}\n"), none));
  EXPECT_TRUE(none.empty());
}

TEST(YamlType, FollowsTheYaml12CoreSchema) {
  auto type = [](const char* text) { return yaml_type(YAML::Load(text)); };
  EXPECT_EQ(type("true"), "boolean");
  EXPECT_EQ(type("yes"), "string");
  EXPECT_EQ(type("on"), "string");
  EXPECT_EQ(type("'true'"), "string");
  EXPECT_EQ(type("42"), "integer");
  EXPECT_EQ(type("0x1f"), "integer");
  EXPECT_EQ(type("1.5"), "number");
  EXPECT_EQ(type("\"42\""), "string");
  EXPECT_EQ(type("~"), "null");
  EXPECT_EQ(type("2026-01-01T00:00:00Z"), "string");
  EXPECT_EQ(type("250ms"), "string");
  EXPECT_EQ(type("[1]"), "array");
  EXPECT_EQ(type("{a: 1}"), "object");
}

TEST(SchemaText, IsTheFileInTheSourceTree) {
  std::ifstream in(std::string(PROTOFARM_SOURCE_DIR) + "/scenarios/schema.json", std::ios::binary);
  std::stringstream file;
  file << in.rdbuf();
  EXPECT_EQ(scenario_schema_text(), file.str());
}

}  // namespace
}  // namespace protofarm
