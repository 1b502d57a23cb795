// The scenario schema validator (controller/schema_validator.cpp) against the official
// JSON-Schema-Test-Suite, for every keyword it implements: a hand-written validator is only
// trusted where the suite's verdicts and its own agree, case by case.
//
// The suite comes from Debian's json-schema-test-suite package (tools/install-deps.sh test).
// Debian 12 ships drafts 3, 4, 6 and 7; draft 7 is the one closest to the draft 2020-12 subset the
// validator implements (const, if/then/else, boolean schemas). The few groups it cannot judge,
// because draft 7 and 2020-12 disagree or the group needs a keyword the validator does not
// implement, are listed in kSkipped with the reason; nothing else is skipped.
// unevaluatedProperties first appears in draft 2019-09, which the package does not ship, so the
// suite cannot check it here (tests/unit/scenario_errors_test.cpp covers it through the scenario
// schema).
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "controller/schema_validator.hpp"
#include "fakes/common/config.hpp"

namespace protofarm {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kSuite = "/usr/share/json-schema-test-suite/tests/draft7";

// One suite file per keyword the validator implements (see its header and check()), named as
// the suite names them. minProperties and propertyNames are implemented though the header does
// not list them; "boolean_schema" covers `true`/`false` as schemas.
const char* const kKeywords[] = {
    "type",
    "enum",
    "const",
    "pattern",
    "minimum",
    "maximum",
    "minLength",
    "minItems",
    "maxItems",
    "minProperties",
    "properties",
    "patternProperties",
    "additionalProperties",
    "propertyNames",
    "required",
    "items",
    "allOf",
    "anyOf",
    "oneOf",
    "if-then-else",
    "ref",
    "boolean_schema",
};

// Groups of cases not checked, each with why. A group is skipped only when its schema needs what
// is outside the validator's documented subset, or when draft 7's verdict is not draft 2020-12's.
struct Skip {
  const char* file;
  const char* group;  // the group's "description"
  const char* why;
};

const Skip kSkipped[] = {
    // Draft 7's array form of `items` (a tuple) is `prefixItems` in 2020-12, which the validator
    // does not implement (the scenario schema has no tuples).
    {"items", "an array of schemas for items", "draft 7 tuple form of items"},
    {"items", "items with boolean schemas", "draft 7 tuple form of items"},
    {"ref", "relative pointer ref to array", "draft 7 tuple form of items"},
    // Draft 7 ignores every keyword next to $ref; 2020-12 applies them, and so does the validator
    // (the scenario schema relies on it: "$ref" next to "x-expected" and "description").
    {"ref", "ref overrides any sibling keywords", "draft 7 ignores $ref's siblings"},
    // The validator follows only local JSON pointers ("#/..."), as its header says: no remote
    // documents, no $id.
    {"ref", "remote ref, containing refs itself", "remote $ref"},
    {"ref", "Recursive references between schemas", "$ref resolved against $id"},
    // These groups test the keyword through maxLength, exclusiveMaximum or multipleOf, which the
    // validator does not implement (so their subschemas accept anything).
    {"propertyNames", "propertyNames validation", "needs maxLength"},
    {"anyOf", "anyOf with base schema", "needs maxLength"},
    {"oneOf", "oneOf with base schema", "needs maxLength"},
    {"if-then-else", "if and then without else", "needs exclusiveMaximum"},
    {"if-then-else", "if and else without then", "needs exclusiveMaximum, multipleOf"},
    {"if-then-else", "validate against correct branch, then vs else",
     "needs exclusiveMaximum, multipleOf"},
    {"if-then-else", "non-interference across combined schemas",
     "needs exclusiveMaximum, multipleOf"},
};

// The suite's JSON instance as the YAML node the validator reads. Strings become quoted
// scalars (tag "!"), so "true" or "1" stay strings as they would in a scenario file.
YAML::Node to_yaml(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return YAML::Node(YAML::NodeType::Null);
    case json::value_t::object: {
      YAML::Node map(YAML::NodeType::Map);
      for (const auto& [k, v] : value.items()) map[k] = to_yaml(v);
      return map;
    }
    case json::value_t::array: {
      YAML::Node seq(YAML::NodeType::Sequence);
      for (const auto& v : value) seq.push_back(to_yaml(v));
      return seq;
    }
    case json::value_t::string: {
      YAML::Node s(value.get<std::string>());
      s.SetTag("!");
      return s;
    }
    default:  // numbers and booleans: the plain scalar a YAML file would have
      return YAML::Node(value.dump());
  }
}

const Skip* find_skip(const std::string& file, const std::string& group) {
  for (const auto& s : kSkipped) {
    if (file == s.file && group == s.group) return &s;
  }
  return nullptr;
}

class SchemaSuite : public ::testing::TestWithParam<const char*> {};

TEST_P(SchemaSuite, VerdictsMatchTheSuite) {
  const std::string keyword = GetParam();
  const fs::path file = kSuite / (keyword + ".json");
  ASSERT_TRUE(fs::exists(file)) << file << " is missing: install the json-schema-test-suite "
                                << "Debian package (tools/install-deps.sh test)";
  std::ifstream in(file, std::ios::binary);
  const json groups = json::parse(in);

  int checked = 0;
  std::set<const Skip*> used;
  for (const auto& group : groups) {
    const std::string group_name = group["description"].get<std::string>();
    if (const Skip* skip = find_skip(keyword, group_name)) {
      used.insert(skip);
      continue;
    }
    const SchemaValidator validator(group["schema"]);
    for (const auto& test : group["tests"]) {
      const std::string test_name = test["description"].get<std::string>();
      const bool want = test["valid"].get<bool>();
      ConfigErrors errors;
      bool got = false;
      std::string threw;
      try {
        got = validator.validate(to_yaml(test["data"]), errors);
      } catch (const std::exception& e) {
        threw = e.what();
      }
      EXPECT_TRUE(threw.empty()) << keyword << ".json: " << group_name << " / " << test_name
                                 << ": the validator threw: " << threw;
      EXPECT_EQ(got, want) << keyword << ".json: " << group_name << " / " << test_name
                           << "\n  schema: " << group["schema"].dump()
                           << "\n  data:   " << test["data"].dump()
                           << (errors.empty() ? "" : "\n  errors: " + errors.format());
      ++checked;
    }
  }
  EXPECT_GT(checked, 0) << file << " has no case that is not skipped";
  // A skip that matches nothing is stale (the suite was updated): fix the list, do not keep it.
  for (const auto& s : kSkipped) {
    if (keyword == s.file) {
      EXPECT_TRUE(used.count(&s)) << "kSkipped names no case of " << keyword << ".json: group \""
                                  << s.group << "\"";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Draft7, SchemaSuite, ::testing::ValuesIn(kKeywords),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string name = info.param;
                           for (char& c : name)
                             if (c == '-') c = '_';
                           return name;
                         });

}  // namespace
}  // namespace protofarm
