// Every fake the farm knows, registered explicitly in one place (fakes/registry.cpp). The
// controller's loader, the listeners' set-up and `protofarm fakes`/`schema` read it; the
// transcript readers behind `verify` and `show` do not (a transcript says what it is).
#pragma once

#include <string>
#include <vector>

#include "fakes/common/fake.hpp"

namespace protofarm {

const std::vector<FakeFactory>& fake_registry();
// The registration of a protocol, or nullptr.
const FakeFactory* find_fake(const std::string& protocol);
// `protofarm fakes`: one line per protocol, or (json) {"fakes": [{"protocol", "transport", "tls",
// "rule_on", "moments", "rule_keys", "contract": {"config", "greeting"}}]}.
std::string describe_fakes(bool json);

}  // namespace protofarm
