#include "fakes/pop3/pop3_fake.hpp"

namespace protofarm::pop3 {

FakeFactory factory() {
  FakeFactory f;
  f.protocol = "pop3";
  f.create = [](Server&, const Cfg& cfg) -> std::unique_ptr<Fake> {
    cfg["protocol"].error("the pop3 fake is not built yet");
    return nullptr;
  };
  return f;
}

}  // namespace protofarm::pop3
