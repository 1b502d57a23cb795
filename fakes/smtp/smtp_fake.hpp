// The smtp fake. See fakes/smtp/README.md.
#pragma once

#include "fakes/common/fake.hpp"

namespace protofarm::smtp {

FakeFactory factory();

}  // namespace protofarm::smtp
