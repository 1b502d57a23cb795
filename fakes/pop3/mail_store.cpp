#include "fakes/pop3/mail_store.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "fakes/common/bytes.hpp"
#include "fakes/pop3/pop3_codec.hpp"

namespace protofarm::pop3 {

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Mailbox& MailStore::add_mailbox(Mailbox mailbox) {
  for (auto& a : mailbox.addresses) a = lower_ascii(a);
  const std::string user = mailbox.user;
  return mailboxes_.insert_or_assign(user, std::move(mailbox)).first->second;
}

Mailbox* MailStore::find(const std::string& user) {
  const auto it = mailboxes_.find(user);
  return it == mailboxes_.end() ? nullptr : &it->second;
}

MessagePtr MailStore::append(Mailbox& mailbox, std::string content, std::string uid,
                             std::string origin) {
  const std::uint64_t sequence = mailbox.next_sequence++;
  if (uid.empty()) {
    // Deterministic (the same scenario gives the same ids) and unique within the mailbox: the
    // sequence number leads, the hash makes ids differ between mailboxes and contents.
    std::uint64_t h = fnv1a(mailbox.user, fnv1a(std::to_string(seed_)));
    h = fnv1a(content, h);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%llu.%016llx", static_cast<unsigned long long>(sequence),
                  static_cast<unsigned long long>(h));
    uid = buf;
  }
  auto message = std::make_shared<const StoredMessage>(
      StoredMessage{std::move(content), std::move(uid), std::move(origin)});
  mailbox.messages.push_back(message);
  return message;
}

DeliveryResult MailStore::deliver(const std::vector<std::string>& recipients,
                                  std::string_view content, const std::string& origin) {
  DeliveryResult result;
  std::set<std::string> done;
  const std::string normalized = normalize_message(content);
  auto give = [&](Mailbox& box) {
    if (!done.insert(box.user).second) return;
    append(box, normalized, {}, origin);
    result.mailboxes.push_back(box.user);
  };
  for (const auto& recipient : recipients) {
    const std::string address = lower_ascii(recipient);
    Mailbox* target = nullptr;
    for (auto& [user, box] : mailboxes_) {
      if (std::find(box.addresses.begin(), box.addresses.end(), address) != box.addresses.end()) {
        target = &box;
        break;
      }
    }
    if (!target && catch_all_) target = find(*catch_all_);
    if (target)
      give(*target);
    else
      result.unknown.push_back(recipient);
  }
  return result;
}

bool MailStore::lock(Mailbox& mailbox) {
  if (mailbox.in_use || mailbox.locked) return false;
  mailbox.locked = true;
  return true;
}

void MailStore::unlock(Mailbox& mailbox) { mailbox.locked = false; }

void MailStore::remove(Mailbox& mailbox, const std::set<const StoredMessage*>& deleted) {
  auto& m = mailbox.messages;
  m.erase(std::remove_if(m.begin(), m.end(),
                         [&](const MessagePtr& p) { return deleted.count(p.get()) > 0; }),
          m.end());
}

void MailStore::mark_start() {
  start_.clear();
  for (const auto& [user, box] : mailboxes_) start_[user] = Start{box.messages, box.next_sequence};
}

void MailStore::reset() {
  for (auto& [user, box] : mailboxes_) {
    const auto it = start_.find(user);
    if (it == start_.end()) continue;
    box.messages = it->second.messages;
    box.next_sequence = it->second.next_sequence;
  }
}

}  // namespace protofarm::pop3
