// Checks a YAML document against the scenario JSON Schema (scenarios/schema.json), reporting
// every violation at its own line and column.
//
// One schema serves editors (through their JSON Schema support), the python jsonschema test,
// and `protofarm validate`, so the three cannot disagree about the shape of a scenario. The
// validator implements the part of draft 2020-12 the schema uses: type, enum, const, pattern,
// minimum/maximum, minLength, minItems/maxItems, properties, patternProperties,
// additionalProperties, unevaluatedProperties, required, items, allOf/anyOf/oneOf,
// if/then/else and local $ref. Beyond the standard it reads "x-expected" (how to describe the
// expected value in an error) and "x-what" (how to name an item: "server", "rule").
//
// YAML scalars are typed as YAML 1.2's core schema does (quoted scalars are strings; plain
// true/false, null and numbers are not), which is also how the python test loads them.
#pragma once

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "fakes/common/config.hpp"

namespace protofarm {

class SchemaValidator {
 public:
  explicit SchemaValidator(nlohmann::json schema);

  // Adds one error per violation. Returns true when there was none.
  bool validate(const YAML::Node& document, ConfigErrors& errors) const;

 private:
  struct Issue {
    YAML::Mark mark;
    std::string message;
  };
  using Issues = std::vector<Issue>;

  void check(const nlohmann::json& schema, const YAML::Node& node, const std::string& path,
             Issues& issues, std::set<std::string>* evaluated) const;
  void check_object(const nlohmann::json& schema, const YAML::Node& node, const std::string& path,
                    Issues& issues, std::set<std::string>& evaluated) const;
  void check_alternatives(const nlohmann::json& schema, const nlohmann::json& branches,
                          bool exactly_one, const YAML::Node& node, const std::string& path,
                          Issues& issues, std::set<std::string>* evaluated) const;
  const nlohmann::json& resolve(const nlohmann::json& schema) const;
  std::string expected_text(const nlohmann::json& schema) const;
  void collect_known_keys(const nlohmann::json& schema, std::vector<std::string>& out,
                          int depth = 0) const;

  nlohmann::json schema_;
};

// The scenario schema, built into the program from scenarios/schema.json.
const nlohmann::json& scenario_schema();
std::string_view scenario_schema_text();

// The JSON Schema type of a YAML node: "object", "array", "string", "integer", "number",
// "boolean" or "null".
std::string yaml_type(const YAML::Node& node);

}  // namespace protofarm
