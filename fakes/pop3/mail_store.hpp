// The POP3 fake's maildrops: every mailbox of one server, for the whole run.
//
// The store belongs to the server's fake, so it outlives every session: a message deleted
// (DELE, then QUIT: RFC 1939 6, the UPDATE state) is gone for the next session of the same run,
// and mail delivered by an SMTP fake of the scenario (MailDrop) appears in the recipients'
// mailboxes. A session works on a snapshot of its maildrop taken at login (RFC 1939 numbers
// messages from 1 for the whole session), and holds the mailbox's lock until it ends (RFC 1939
// 4: "-ERR [IN-USE]" for a second session, RFC 2449 8.1.1). Single-threaded, like the farm.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace protofarm::pop3 {

// One message as it is sent: normalized (CRLF line ends), so that size() is its octet count.
struct StoredMessage {
  std::string content;
  std::string uid;     // the UIDL unique-id
  std::string origin;  // where it came from: "scenario", "file:PATH", "smtp:SERVER/SESSION"
};
using MessagePtr = std::shared_ptr<const StoredMessage>;

struct Mailbox {
  std::string user;
  std::string password;
  std::vector<std::string> addresses;  // recipient addresses it receives (lower case)
  bool in_use = false;                 // always locked, as if another client held it
  bool locked = false;                 // a session of this run holds it
  std::vector<MessagePtr> messages;
  std::uint64_t next_sequence = 1;  // for default unique-ids
};

// Where one delivered message went.
struct DeliveryResult {
  std::vector<std::string> mailboxes;  // the mailboxes that got a copy, in recipient order
  std::vector<std::string> unknown;    // recipients no mailbox claims (dropped)
};

class MailStore {
 public:
  explicit MailStore(std::uint64_t seed = 0) : seed_(seed) {}

  // Adds a mailbox (user names are unique; the config check sees to that).
  Mailbox& add_mailbox(Mailbox mailbox);
  Mailbox* find(const std::string& user);
  const std::map<std::string, Mailbox>& mailboxes() const { return mailboxes_; }

  // Appends a message; an empty uid gets a deterministic default from the seed, the user,
  // the mailbox's sequence number and the content. `content` must be normalized.
  MessagePtr append(Mailbox& mailbox, std::string content, std::string uid, std::string origin);

  // Mail for any recipient no mailbox claims goes to this mailbox (when set).
  void set_catch_all(std::string user) { catch_all_ = std::move(user); }
  // Delivers a message (RFC 5321 content, CRLF lines) to every mailbox one of `recipients`
  // names (matched case-insensitively, one copy per mailbox).
  DeliveryResult deliver(const std::vector<std::string>& recipients, std::string_view content,
                         const std::string& origin);

  // Takes the mailbox's lock; false when another session holds it or it is marked in_use.
  bool lock(Mailbox& mailbox);
  void unlock(Mailbox& mailbox);
  // RFC 1939 6: removes the given messages from the mailbox (those still in it).
  void remove(Mailbox& mailbox, const std::set<const StoredMessage*>& deleted);

  // Remembers every mailbox's messages as the scenario made them; reset() comes back to that
  // (deleted messages return, deliveries go). Locks held by open sessions stay.
  void mark_start();
  void reset();

 private:
  struct Start {
    std::vector<MessagePtr> messages;
    std::uint64_t next_sequence = 1;
  };
  std::map<std::string, Start> start_;
  std::uint64_t seed_;
  std::map<std::string, Mailbox> mailboxes_;
  std::optional<std::string> catch_all_;
};

std::string lower_ascii(std::string_view s);

}  // namespace protofarm::pop3
