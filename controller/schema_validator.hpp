// Checks a YAML document against the scenario JSON Schema, reporting every violation at its own
// line and column; and composes that schema from its parts.
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
#include <string_view>
#include <vector>

#include "fakes/common/config.hpp"

namespace protofarm {

class SchemaValidator {
 public:
  explicit SchemaValidator(nlohmann::json schema);

  // Adds one error per violation. Returns true when there was none. `path` names the document
  // in messages (a part of a scenario checked alone: "rules").
  bool validate(const YAML::Node& document, ConfigErrors& errors,
                const std::string& path = "") const;

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

// One protocol's part of the scenario schema, as its registration hands it over: a JSON object
// of `$defs` entries, one of which is "<protocol>_server".
struct SchemaFragment {
  std::string protocol;
  std::string_view text;
};

// The whole scenario schema: `base` (the keys every scenario and server has) with each fragment's
// entries added to its `$defs`, and each protocol, in the given order, added to the enum of
// `$defs.server.properties.protocol` and as an `if protocol is P then P_server` branch of
// `$defs.server.allOf`. A fragment that is not such an object, lacks "<protocol>_server", or
// defines an entry that already exists is a programming error: std::logic_error.
nlohmann::ordered_json compose_schema(std::string_view base,
                                      const std::vector<SchemaFragment>& fragments);

// The scenario schema composed from controller/schema_base.json and the fragment of every fake in
// fake_registry() (fakes/<protocol>/schema.json), in registry order; the text is what
// `protofarm schema` prints and what scenarios/schema.json is a copy of (`make schema`).
const nlohmann::json& scenario_schema();
std::string_view scenario_schema_text();

// The JSON Schema type of a YAML node: "object", "array", "string", "integer", "number",
// "boolean" or "null".
std::string yaml_type(const YAML::Node& node);

}  // namespace protofarm
