// Every fake the farm knows, registered explicitly in this one place.
#include <algorithm>

#include "fakes/common/fake.hpp"
#include "fakes/pop3/pop3_fake.hpp"
#include "fakes/smtp/smtp_fake.hpp"
#include "fakes/tcp/tcp_fake.hpp"
#include "fakes/udp/udp_fake.hpp"

namespace protofarm {

const std::vector<FakeFactory>& fake_registry() {
  static const std::vector<FakeFactory> registry = {
      tcp::factory(),
      udp::factory(),
      smtp::factory(),
      pop3::factory(),
  };
  return registry;
}

const FakeFactory* find_fake(const std::string& protocol) {
  const auto& r = fake_registry();
  const auto it = std::find_if(r.begin(), r.end(),
                               [&](const FakeFactory& f) { return f.protocol == protocol; });
  return it == r.end() ? nullptr : &*it;
}

}  // namespace protofarm
