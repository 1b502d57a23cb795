// The farm's bulletin board: a fake publishes what it took in (an SMTP message, and later an FTP
// upload or an HTTP body) under its server's name, and any fake that serves such things to
// others subscribes to that name (POP3's `deliveries_from: [mail]` completes a mail round trip).
// It knows no protocol: a publication's `kind` and `meta` are agreed between the fakes that use
// them. Single-threaded, like the farm; subscribers run synchronously inside publish().
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "fakes/common/recorder.hpp"

namespace protofarm {

struct Publication {
  std::string server;          // the server that took it in
  std::uint64_t session = 0;   // its session number there
  std::string kind;            // what it is: "message" (smtp), ...
  Json meta = Json::object();  // kind-specific facts (smtp: mail_from, recipients)
  std::string content;         // the bytes
};

class FarmBus {
 public:
  using Subscriber = std::function<void(const Publication&)>;
  // Subscribers of a server receive everything it publishes, in order.
  void subscribe(const std::string& server, Subscriber subscriber) {
    subscribers_[server].push_back(std::move(subscriber));
  }
  void publish(const Publication& publication) const {
    const auto it = subscribers_.find(publication.server);
    if (it == subscribers_.end()) return;
    for (const auto& s : it->second) s(publication);
  }

 private:
  std::map<std::string, std::vector<Subscriber>> subscribers_;
};

}  // namespace protofarm
