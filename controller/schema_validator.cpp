#include "controller/schema_validator.hpp"

#include <algorithm>
#include <boost/regex.hpp>
#include <map>

namespace protofarm {

using nlohmann::json;

namespace {

const boost::regex kInt(R"([-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)");
const boost::regex kFloat(
    R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))");

std::string quote(const std::string& s) { return "'" + s + "'"; }

std::string describe_node(const YAML::Node& node) {
  const std::string type = yaml_type(node);
  if (type == "object") return "a map";
  if (type == "array") return "a list";
  if (type == "null") return "nothing";
  std::string s = node.Scalar();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  if (type == "string") return "the string '" + s + "'";
  if (type == "boolean") return s;
  return "the number " + s;
}

std::string join_path(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string where(const std::string& path) { return path.empty() ? "scenario" : path; }

bool type_matches(const std::string& wanted, const std::string& actual) {
  return wanted == actual || (wanted == "number" && actual == "integer");
}

json scalar_as_json(const YAML::Node& node) {
  const std::string type = yaml_type(node);
  const std::string& s = node.Scalar();
  if (type == "null") return nullptr;
  if (type == "boolean") return s == "true" || s == "True" || s == "TRUE";
  if (type == "integer") {
    try {
      return std::stoll(s, nullptr, 0);
    } catch (...) {
      return s;
    }
  }
  if (type == "number") {
    try {
      return std::stod(s);
    } catch (...) {
      return s;
    }
  }
  return s;
}

std::string json_list(const json& values) {
  std::string out;
  for (const auto& v : values) {
    if (!out.empty()) out += ", ";
    out += v.is_string() ? v.get<std::string>() : v.dump();
  }
  return out;
}

}  // namespace

std::string yaml_type(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "object";
    case YAML::NodeType::Sequence:
      return "array";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return "null";
    case YAML::NodeType::Scalar:
      break;
  }
  const std::string& tag = node.Tag();
  if (tag == "!" || tag == "tag:yaml.org,2002:str") return "string";
  const std::string& s = node.Scalar();
  if (tag == "?" || tag.empty()) {
    if (s == "~" || s == "null" || s == "Null" || s == "NULL" || s.empty()) return "null";
    if (s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" || s == "FALSE")
      return "boolean";
    if (boost::regex_match(s, kInt)) return "integer";
    if (boost::regex_match(s, kFloat)) return "number";
  }
  return "string";
}

SchemaValidator::SchemaValidator(json schema) : schema_(std::move(schema)) {}

const json& SchemaValidator::resolve(const json& schema) const {
  const json* s = &schema;
  for (int depth = 0; depth < 16 && s->is_object() && s->contains("$ref"); ++depth) {
    const std::string ref = (*s)["$ref"].get<std::string>();
    if (ref.rfind("#/", 0) != 0) break;
    const json* target = &schema_;
    std::string rest = ref.substr(2);
    while (!rest.empty()) {
      const auto slash = rest.find('/');
      const std::string part = rest.substr(0, slash);
      if (!target->contains(part)) return schema;
      target = &(*target)[part];
      rest = slash == std::string::npos ? "" : rest.substr(slash + 1);
    }
    // A $ref with siblings is handled by check(); only a bare $ref is followed here.
    if (s->size() > 1) return *s;
    s = target;
  }
  return *s;
}

std::string SchemaValidator::expected_text(const json& schema) const {
  const json& s = resolve(schema);
  if (s.contains("x-expected")) return s["x-expected"].get<std::string>();
  if (s.contains("enum")) return "one of: " + json_list(s["enum"]);
  if (s.contains("const")) return s["const"].dump();
  if (s.contains("type")) {
    auto name = [](const std::string& t) -> std::string {
      if (t == "object") return "a map";
      if (t == "array") return "a list";
      if (t == "string") return "a string";
      if (t == "integer") return "a whole number";
      if (t == "number") return "a number";
      if (t == "boolean") return "true or false";
      return t;
    };
    if (s["type"].is_string()) return name(s["type"].get<std::string>());
    std::string out;
    for (const auto& t : s["type"]) out += (out.empty() ? "" : " or ") + name(t.get<std::string>());
    return out;
  }
  for (const char* key : {"anyOf", "oneOf"}) {
    if (s.contains(key)) {
      std::string out;
      for (const auto& b : s[key]) out += (out.empty() ? "" : ", or ") + expected_text(b);
      return out;
    }
  }
  return "a valid value";
}

void SchemaValidator::check(const json& schema_in, const YAML::Node& node, const std::string& path,
                            Issues& issues, std::set<std::string>* evaluated) const {
  if (schema_in.is_boolean()) {
    if (!schema_in.get<bool>()) issues.push_back({node.Mark(), where(path) + ": not allowed here"});
    return;
  }
  const json& schema = schema_in;
  // Properties evaluated by this schema and its subschemas; unevaluatedProperties here sees
  // only these, and they are passed up to the parent when done.
  std::set<std::string> ev;

  if (schema.contains("$ref")) {
    json bare = json::object();
    bare["$ref"] = schema["$ref"];
    const json& target = resolve(bare);
    if (&target != &bare) check(target, node, path, issues, &ev);
  }

  const std::string actual = yaml_type(node);
  if (schema.contains("type")) {
    bool ok = false;
    if (schema["type"].is_string()) {
      ok = type_matches(schema["type"].get<std::string>(), actual);
    } else {
      for (const auto& t : schema["type"]) ok = ok || type_matches(t.get<std::string>(), actual);
    }
    if (!ok) {
      issues.push_back({node.Mark(), where(path) + ": expected " + expected_text(schema) +
                                         ", got " + describe_node(node)});
      return;  // nothing else can be said about a value of the wrong kind
    }
  }

  if (schema.contains("enum") && node.IsScalar()) {
    const json value = scalar_as_json(node);
    bool found = false;
    std::vector<std::string> options;
    for (const auto& v : schema["enum"]) {
      if (v == value || (v.is_string() && value.is_string() && v == value)) found = true;
      if (v.is_string()) options.push_back(v.get<std::string>());
    }
    if (!found) {
      const std::string got = node.Scalar();
      const std::string what =
          schema.contains("x-what") ? schema["x-what"].get<std::string>() : "value";
      issues.push_back({node.Mark(), where(path) + ": unknown " + what + " " + quote(got) +
                                         "; expected one of: " + json_list(schema["enum"]) +
                                         did_you_mean(got, options)});
    }
  } else if (schema.contains("enum") && !node.IsScalar()) {
    issues.push_back({node.Mark(), where(path) + ": expected one of: " + json_list(schema["enum"]) +
                                       ", got " + describe_node(node)});
  }
  if (schema.contains("const") && node.IsScalar() && scalar_as_json(node) != schema["const"]) {
    issues.push_back({node.Mark(), where(path) + ": expected " + schema["const"].dump()});
  }

  if (node.IsScalar() && (actual == "string")) {
    const std::string& s = node.Scalar();
    if (schema.contains("minLength") && s.size() < schema["minLength"].get<std::size_t>())
      issues.push_back({node.Mark(), where(path) + ": must not be empty"});
    if (schema.contains("pattern")) {
      bool ok = false;
      try {
        ok = boost::regex_search(s, boost::regex(schema["pattern"].get<std::string>()));
      } catch (...) {
        ok = true;  // a bad pattern in the schema is the schema's problem, not the user's
      }
      if (!ok)
        issues.push_back({node.Mark(), where(path) + ": expected " + expected_text(schema) +
                                           ", got " + quote(s)});
    }
  }
  if (node.IsScalar() && (actual == "integer" || actual == "number")) {
    const json value = scalar_as_json(node);
    if (value.is_number()) {
      const double v = value.get<double>();
      if (schema.contains("minimum") && v < schema["minimum"].get<double>())
        issues.push_back({node.Mark(), where(path) + ": must be at least " +
                                           schema["minimum"].dump() + ", got " + node.Scalar()});
      if (schema.contains("maximum") && v > schema["maximum"].get<double>())
        issues.push_back({node.Mark(), where(path) + ": must be at most " +
                                           schema["maximum"].dump() + ", got " + node.Scalar()});
    }
  }

  if (node.IsSequence()) {
    if (schema.contains("minItems") && node.size() < schema["minItems"].get<std::size_t>())
      issues.push_back({node.Mark(), where(path) + ": needs at least " + schema["minItems"].dump() +
                                         " item(s)"});
    if (schema.contains("maxItems") && node.size() > schema["maxItems"].get<std::size_t>())
      issues.push_back({node.Mark(), where(path) + ": allows at most " + schema["maxItems"].dump() +
                                         " item(s)"});
    if (schema.contains("items")) {
      for (std::size_t i = 0; i < node.size(); ++i)
        check(schema["items"], node[i], path + "[" + std::to_string(i) + "]", issues, nullptr);
    }
  }

  if (schema.contains("allOf")) {
    for (const auto& sub : schema["allOf"]) check(sub, node, path, issues, &ev);
  }
  if (schema.contains("anyOf"))
    check_alternatives(schema, schema["anyOf"], false, node, path, issues, &ev);
  if (schema.contains("oneOf"))
    check_alternatives(schema, schema["oneOf"], true, node, path, issues, &ev);
  if (schema.contains("if")) {
    Issues probe;
    std::set<std::string> if_ev;
    check(schema["if"], node, path, probe, &if_ev);
    if (probe.empty()) {
      ev.insert(if_ev.begin(), if_ev.end());
      if (schema.contains("then")) check(schema["then"], node, path, issues, &ev);
    } else if (schema.contains("else")) {
      check(schema["else"], node, path, issues, &ev);
    }
  }

  if (node.IsMap()) check_object(schema, node, path, issues, ev);
  if (evaluated) evaluated->insert(ev.begin(), ev.end());
}

void SchemaValidator::collect_known_keys(const json& schema, std::vector<std::string>& out,
                                         int depth) const {
  if (depth > 8 || !schema.is_object()) return;
  if (schema.contains("$ref")) {
    json bare = json::object();
    bare["$ref"] = schema["$ref"];
    const json& target = resolve(bare);
    if (&target != &bare) collect_known_keys(target, out, depth + 1);
  }
  if (schema.contains("properties"))
    for (const auto& [k, v] : schema["properties"].items()) out.push_back(k);
  for (const char* key : {"allOf", "anyOf", "oneOf"})
    if (schema.contains(key))
      for (const auto& sub : schema[key]) collect_known_keys(sub, out, depth + 1);
  for (const char* key : {"then", "else"})
    if (schema.contains(key)) collect_known_keys(schema[key], out, depth + 1);
}

void SchemaValidator::check_object(const json& schema, const YAML::Node& node,
                                   const std::string& path, Issues& issues,
                                   std::set<std::string>& evaluated) const {
  const bool is_servers = path == "servers";
  std::map<std::string, int> first_line;
  std::vector<std::string> known;
  if (schema.contains("properties"))
    for (const auto& [k, v] : schema["properties"].items()) known.push_back(k);

  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const int line = kv.first.Mark().line + 1;
    if (auto [it, inserted] = first_line.emplace(key, line); !inserted) {
      issues.push_back({kv.first.Mark(), where(path) + ": duplicate " +
                                             (is_servers ? "server name" : "key") + " " +
                                             quote(key) + " (first defined at line " +
                                             std::to_string(it->second) + ")"});
      continue;
    }
    const std::string child_path = join_path(path, key);
    bool matched = false;
    if (schema.contains("properties") && schema["properties"].contains(key)) {
      check(schema["properties"][key], kv.second, child_path, issues, nullptr);
      matched = true;
    }
    if (schema.contains("patternProperties")) {
      for (const auto& [pattern, sub] : schema["patternProperties"].items()) {
        if (boost::regex_search(key, boost::regex(pattern))) {
          check(sub, kv.second, child_path, issues, nullptr);
          matched = true;
        }
      }
    }
    if (matched) {
      evaluated.insert(key);
      continue;
    }
    if (schema.contains("additionalProperties")) {
      const json& extra = schema["additionalProperties"];
      if (extra.is_boolean() && !extra.get<bool>()) {
        issues.push_back({kv.first.Mark(),
                          where(path) + ": unknown key " + quote(key) + did_you_mean(key, known)});
      } else {
        check(extra, kv.second, child_path, issues, nullptr);
      }
      evaluated.insert(key);
    }
  }
  if (schema.contains("propertyNames") && schema["propertyNames"].contains("pattern")) {
    const boost::regex re(schema["propertyNames"]["pattern"].get<std::string>());
    for (const auto& kv : node) {
      const std::string key = kv.first.Scalar();
      if (!boost::regex_search(key, re))
        issues.push_back({kv.first.Mark(), where(path) + ": " + quote(key) +
                                               " is not a valid name; expected " +
                                               expected_text(schema["propertyNames"])});
    }
  }
  if (schema.contains("minProperties") && node.size() < schema["minProperties"].get<std::size_t>())
    issues.push_back({node.Mark(), where(path) + ": needs at least " +
                                       schema["minProperties"].dump() + " entr" +
                                       (schema["minProperties"].get<int>() == 1 ? "y" : "ies")});
  if (schema.contains("required")) {
    for (const auto& r : schema["required"]) {
      const std::string key = r.get<std::string>();
      if (!first_line.count(key))
        issues.push_back({node.Mark(), where(path) + ": missing required key " + quote(key)});
    }
  }
  if (schema.contains("unevaluatedProperties") && schema["unevaluatedProperties"].is_boolean() &&
      !schema["unevaluatedProperties"].get<bool>()) {
    // Known keys for the hint: every property named by the schemas that applied here.
    std::vector<std::string> hint(evaluated.begin(), evaluated.end());
    for (const auto& k : known) hint.push_back(k);
    std::set<std::string> reported;
    for (const auto& kv : node) {
      const std::string key = kv.first.Scalar();
      if (evaluated.count(key) || !reported.insert(key).second) continue;
      // Suggest from every key this kind of object may have, not only the ones present.
      std::vector<std::string> options = hint;
      collect_known_keys(schema, options);
      issues.push_back({kv.first.Mark(),
                        where(path) + ": unknown key " + quote(key) + did_you_mean(key, options)});
    }
  }
}

void SchemaValidator::check_alternatives(const json& schema, const json& branches, bool exactly_one,
                                         const YAML::Node& node, const std::string& path,
                                         Issues& issues, std::set<std::string>* evaluated) const {
  std::vector<Issues> results(branches.size());
  std::vector<std::set<std::string>> evs(branches.size());
  std::size_t valid = 0;
  for (std::size_t i = 0; i < branches.size(); ++i) {
    check(branches[i], node, path, results[i], &evs[i]);
    if (results[i].empty()) {
      ++valid;
      if (evaluated) evaluated->insert(evs[i].begin(), evs[i].end());
      if (!exactly_one) return;
    }
  }
  if (valid == 1 || (valid > 1 && !exactly_one)) return;
  if (valid > 1) {
    issues.push_back({node.Mark(), where(path) + ": is ambiguous (fits more than one form)"});
    return;
  }
  // No branch fits. Report the branch meant for this kind of value, if one can be told apart.
  const std::string actual = yaml_type(node);
  std::vector<std::size_t> candidates;
  for (std::size_t i = 0; i < branches.size(); ++i) {
    const json& b = resolve(branches[i]);
    if (!b.contains("type")) {
      candidates.push_back(i);
      continue;
    }
    bool ok = false;
    if (b["type"].is_string())
      ok = type_matches(b["type"].get<std::string>(), actual);
    else
      for (const auto& t : b["type"]) ok = ok || type_matches(t.get<std::string>(), actual);
    if (ok) candidates.push_back(i);
  }
  if (candidates.empty()) {
    issues.push_back({node.Mark(), where(path) + ": expected " + expected_text(schema) + ", got " +
                                       describe_node(node)});
    return;
  }
  std::size_t best = candidates.front();
  for (std::size_t i : candidates)
    if (results[i].size() < results[best].size()) best = i;
  issues.insert(issues.end(), results[best].begin(), results[best].end());
}

bool SchemaValidator::validate(const YAML::Node& document, ConfigErrors& errors) const {
  Issues issues;
  check(schema_, document, "", issues, nullptr);
  for (auto& i : issues) errors.add(i.mark, std::move(i.message));
  return issues.empty();
}

}  // namespace protofarm

namespace protofarm {

const nlohmann::json& scenario_schema() {
  static const nlohmann::json schema = nlohmann::json::parse(scenario_schema_text());
  return schema;
}

}  // namespace protofarm
