// The pop3 fake. See fakes/pop3/README.md.
#pragma once

#include "fakes/common/fake.hpp"

namespace protofarm::pop3 {

FakeFactory factory();

}  // namespace protofarm::pop3
