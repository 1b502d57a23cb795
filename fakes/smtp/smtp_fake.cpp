#include "fakes/smtp/smtp_fake.hpp"

namespace protofarm::smtp {

FakeFactory factory() {
  FakeFactory f;
  f.protocol = "smtp";
  f.create = [](Server&, const Cfg& cfg) -> std::unique_ptr<Fake> {
    cfg["protocol"].error("the smtp fake is not built yet");
    return nullptr;
  };
  return f;
}

}  // namespace protofarm::smtp
