// The scenario schema is composed at run time from controller/schema_base.json and each registered
// fake's fakes/<protocol>/schema.json; scenarios/schema.json is a generated copy for editors and
// the python tests, so it must never drift from what the program validates with.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "controller/schema_validator.hpp"
#include "fakes/registry.hpp"

namespace protofarm {
namespace {

using nlohmann::ordered_json;

constexpr std::string_view kBase = R"({
  "$defs": {
    "shared": {"type": "string"},
    "server": {"type": "object", "x-what": "server", "required": ["protocol"],
               "properties": {"protocol": {"enum": [], "x-what": "protocol"}}, "allOf": []}
  }
})";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot read " << path;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// "line N" of the first line where a and b differ, to point at the stale part of a long file.
std::string first_difference(std::string_view a, std::string_view b) {
  const auto at = std::mismatch(a.begin(), a.end(), b.begin(), b.end()).first - a.begin();
  return "line " + std::to_string(1 + std::count(a.begin(), a.begin() + at, '\n'));
}

std::string logic_error_of(const std::vector<SchemaFragment>& fragments) {
  try {
    compose_schema(kBase, fragments);
  } catch (const std::logic_error& e) {
    return e.what();
  }
  return "(no error)";
}

// Every "$ref": "#/..." under `node`, as a JSON pointer into the schema.
void collect_refs(const ordered_json& node, std::vector<std::string>& out) {
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      if (key == "$ref" && value.is_string()) out.push_back(value.get<std::string>().substr(1));
      collect_refs(value, out);
    }
  } else if (node.is_array()) {
    for (const auto& value : node) collect_refs(value, out);
  }
}

TEST(SchemaCompose, TheFileInTheSourceTreeIsUpToDate) {
  const std::string file = read_file(std::string(PROTOFARM_SOURCE_DIR) + "/scenarios/schema.json");
  const std::string_view composed = scenario_schema_text();
  // Not EXPECT_EQ: printing both 30 KB texts would bury the message.
  EXPECT_TRUE(composed == file)
      << "scenarios/schema.json is stale (first difference at " << first_difference(composed, file)
      << "). It is generated from controller/schema_base.json and fakes/<protocol>/schema.json: "
         "edit those, not scenarios/schema.json, then run `make schema`.";
}

TEST(SchemaCompose, ListsEveryRegisteredProtocolInOrderWithItsBranch) {
  const ordered_json schema = ordered_json::parse(scenario_schema_text());
  const ordered_json& server = schema["$defs"]["server"];
  const ordered_json& protocols = server["properties"]["protocol"]["enum"];
  const ordered_json& branches = server["allOf"];
  const auto& registry = fake_registry();
  ASSERT_EQ(protocols.size(), registry.size());
  ASSERT_EQ(branches.size(), registry.size());
  for (std::size_t i = 0; i < registry.size(); ++i) {
    const std::string& p = registry[i].protocol;
    SCOPED_TRACE(p);
    EXPECT_EQ(protocols[i], p);
    EXPECT_EQ(branches[i]["if"]["properties"]["protocol"]["const"], p);
    EXPECT_EQ(branches[i]["if"]["required"], ordered_json::array({"protocol"}));
    EXPECT_EQ(branches[i]["then"]["$ref"], "#/$defs/" + p + "_server");
    EXPECT_TRUE(schema["$defs"].contains(p + "_server"));
  }
}

TEST(SchemaCompose, EveryReferenceResolves) {
  // A fragment may use the base's $defs and its own, but a typo or a reference to another fake's
  // entry would only show up when a scenario reaches it.
  const ordered_json schema = ordered_json::parse(scenario_schema_text());
  std::vector<std::string> refs;
  collect_refs(schema, refs);
  EXPECT_FALSE(refs.empty());
  for (const std::string& ref : refs)
    EXPECT_TRUE(schema.contains(ordered_json::json_pointer(ref))) << "#" << ref;
}

TEST(SchemaCompose, TheValidatorUsesTheComposedSchema) {
  EXPECT_EQ(scenario_schema(), nlohmann::json::parse(scenario_schema_text()));
}

TEST(SchemaCompose, AddsFragmentsInTheGivenOrder) {
  const ordered_json schema =
      compose_schema(kBase, {{"b", R"({"b_server": {"$ref": "#/$defs/shared"}, "b_step": {}})"},
                             {"a", R"({"a_server": {}})"}});
  const ordered_json& defs = schema["$defs"];
  std::vector<std::string> keys;
  for (const auto& [key, value] : defs.items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"shared", "server", "b_server", "b_step", "a_server"}));
  EXPECT_EQ(defs["server"]["properties"]["protocol"]["enum"], ordered_json::array({"b", "a"}));
  EXPECT_EQ(defs["server"]["allOf"][1].dump(),
            R"({"if":{"properties":{"protocol":{"const":"a"}},"required":["protocol"]},)"
            R"("then":{"$ref":"#/$defs/a_server"}})");
}

TEST(SchemaCompose, AFragmentThatIsNotAnObjectWithItsServerEntryIsAProgrammingError) {
  EXPECT_EQ(logic_error_of({{"a", R"({"server_a": {}})"}}),
            "the schema fragment of protocol 'a' has no 'a_server' entry");
  EXPECT_THAT(logic_error_of({{"a", ""}}),
              testing::StartsWith("the schema fragment of protocol 'a' is not valid JSON: "));
  EXPECT_EQ(logic_error_of({{"a", "[]"}}),
            "the schema fragment of protocol 'a' is not a JSON object of $defs entries");
}

TEST(SchemaCompose, AnEntryDefinedTwiceIsAProgrammingErrorNamingBoth) {
  EXPECT_EQ(logic_error_of({{"a", R"({"a_server": {}, "shared": {}})"}}),
            "$defs entry 'shared' is defined by both controller/schema_base.json and the schema "
            "fragment of protocol 'a'");
  EXPECT_EQ(logic_error_of({{"a", R"({"a_server": {}, "step": {}})"},
                            {"b", R"({"b_server": {}, "step": {}})"}}),
            "$defs entry 'step' is defined by both the schema fragment of protocol 'a' and the "
            "schema fragment of protocol 'b'");
}

}  // namespace
}  // namespace protofarm
