// The udp fake. See fakes/udp/README.md.
#pragma once

#include "fakes/common/fake.hpp"

namespace protofarm::udp {

FakeFactory factory();

}  // namespace protofarm::udp
