// Every fake the farm knows, registered explicitly in this one place.
#include <algorithm>

#include "fakes/ftp/ftp_fake.hpp"
#include "fakes/http/http_fake.hpp"
#include "fakes/nntp/nntp_fake.hpp"
#include "fakes/pop3/pop3_fake.hpp"
#include "fakes/registry.hpp"
#include "fakes/smtp/smtp_fake.hpp"
#include "fakes/tcp/tcp_fake.hpp"
#include "fakes/udp/udp_fake.hpp"

namespace protofarm {

const std::vector<FakeFactory>& fake_registry() {
  static const std::vector<FakeFactory> registry = {
      tcp::factory(), udp::factory(),  smtp::factory(), pop3::factory(),
      ftp::factory(), nntp::factory(), http::factory(),
  };
  return registry;
}

const FakeFactory* find_fake(const std::string& protocol) {
  const auto& r = fake_registry();
  const auto it = std::find_if(r.begin(), r.end(),
                               [&](const FakeFactory& f) { return f.protocol == protocol; });
  return it == r.end() ? nullptr : &*it;
}

std::string describe_fakes(bool json) {
  std::string out;
  Json list = Json::array();
  for (const FakeFactory& f : fake_registry()) {
    Json e = Json::object();
    e["protocol"] = f.protocol;
    e["transport"] = to_string(f.transport);
    e["tls"] = f.supports_tls;
    e["rule_on"] = f.rules.on;
    e["moments"] = f.rules.moments;
    Json keys = Json::array();
    for (const RuleKey& k : f.rules.keys) keys.push_back(k.name);
    e["rule_keys"] = std::move(keys);
    Json contract = Json::object();
    contract["config"] = f.contract_config;
    contract["greeting"] = f.contract_greeting.empty() ? Json(nullptr) : Json(f.contract_greeting);
    e["contract"] = std::move(contract);
    list.push_back(std::move(e));
    out += f.protocol + "\t" + to_string(f.transport) + (f.supports_tls ? "\ttls" : "") + "\n";
  }
  if (!json) return out;
  Json doc = Json::object();
  doc["fakes"] = std::move(list);
  return doc.dump(2) + "\n";
}

}  // namespace protofarm
