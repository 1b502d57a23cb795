// Hands messages accepted by an SMTP fake to the fakes that serve mailboxes (POP3), so one farm
// can test a client that sends mail and then fetches it. Single-threaded, like the farm.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace protofarm {

struct MailMessage {
  std::string smtp_server;              // the server that accepted it
  std::uint64_t session = 0;            // its session number there
  std::string mail_from;                // reverse-path, without angle brackets
  std::vector<std::string> recipients;  // forward-paths, without angle brackets
  std::string content;                  // the message as received (CRLF lines, unstuffed)
};

class MailDrop {
 public:
  using Subscriber = std::function<void(const MailMessage&)>;
  void subscribe(const std::string& smtp_server, Subscriber subscriber) {
    subscribers_[smtp_server].push_back(std::move(subscriber));
  }
  void deliver(const MailMessage& message) {
    const auto it = subscribers_.find(message.smtp_server);
    if (it == subscribers_.end()) return;
    for (const auto& s : it->second) s(message);
  }

 private:
  std::map<std::string, std::vector<Subscriber>> subscribers_;
};

}  // namespace protofarm
