#include "fakes/udp/udp_fake.hpp"

namespace protofarm::udp {

FakeFactory factory() {
  FakeFactory f;
  f.protocol = "udp";
  f.transport = Transport::datagram;
  f.supports_tls = false;
  f.create = [](Server&, const Cfg& cfg) -> std::unique_ptr<Fake> {
    cfg["protocol"].error("the udp fake is not built yet");
    return nullptr;
  };
  return f;
}

}  // namespace protofarm::udp
