// The server's side of SASL (RFC 4422): PLAIN, LOGIN and CRAM-MD5 as a state machine, without
// any protocol's framing: challenges, initial responses, cancelling, bad base64, credentials.
#include "fakes/common/sasl.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "fakes/common/bytes.hpp"

namespace protofarm {
namespace {

using namespace std::string_literals;

constexpr const char* kRfc2195Challenge = "<1896.697170952@postoffice.reston.mci.net>";

class Sasl : public ::testing::Test {
 protected:
  SaslExchange exchange(SaslOptions options = {}) {
    return SaslExchange(
        [this](const std::string& user) -> std::optional<std::string> {
          ++lookups_;
          const auto it = users_.find(user);
          if (it == users_.end()) return std::nullopt;
          return it->second;
        },
        options);
  }
  // The response line a client sends for `text`.
  static std::string line(std::string_view text) { return base64_encode(text) + "\r\n"; }

  std::map<std::string, std::string> users_ = {{"alice", "secret"}, {"tim", "tanstaaftanstaaf"}};
  int lookups_ = 0;
};

void expect_result(const SaslStep& step, bool authenticated, const std::string& user,
                   SaslFailure why) {
  ASSERT_TRUE(step.finished());
  EXPECT_EQ(step.result->authenticated, authenticated);
  EXPECT_EQ(step.result->user, user);
  EXPECT_EQ(step.result->why, why);
}

// --- names and base64 -----------------------------------------------------------------------

TEST_F(Sasl, MechanismNames) {
  EXPECT_EQ(sasl_mechanism("PLAIN"), SaslMechanism::plain);
  EXPECT_EQ(sasl_mechanism("login"), SaslMechanism::login);
  EXPECT_EQ(sasl_mechanism("Cram-Md5"), SaslMechanism::cram_md5);
  EXPECT_EQ(sasl_mechanism("GSSAPI"), std::nullopt);
  EXPECT_EQ(sasl_mechanism(""), std::nullopt);
  EXPECT_EQ(sasl_mechanism_name(SaslMechanism::plain), "PLAIN");
  EXPECT_EQ(sasl_mechanism_name(SaslMechanism::login), "LOGIN");
  EXPECT_EQ(sasl_mechanism_name(SaslMechanism::cram_md5), "CRAM-MD5");
}

TEST_F(Sasl, StrictBase64) {
  EXPECT_EQ(decode_sasl_base64("AGFsaWNlAHNlY3JldA=="), "\0alice\0secret"s);
  EXPECT_EQ(decode_sasl_base64("="), "");
  EXPECT_EQ(decode_sasl_base64(""), "");
  EXPECT_FALSE(decode_sasl_base64("AGFsaWNl AHNl"));
  EXPECT_FALSE(decode_sasl_base64("abc"));
  EXPECT_FALSE(decode_sasl_base64("YWxpY2U"));  // unpadded
  EXPECT_FALSE(decode_sasl_base64("ab=c"));
  EXPECT_FALSE(decode_sasl_base64("a==="));
  EXPECT_FALSE(decode_sasl_base64("a-_b"));  // the URL-safe alphabet
  EXPECT_FALSE(decode_sasl_base64("*"));
}

// --- PLAIN (RFC 4616) ----------------------------------------------------------------------

TEST_F(Sasl, PlainWithInitialResponse) {
  auto x = exchange();
  expect_result(x.start(SaslMechanism::plain, base64_encode("\0alice\0secret"s)), true, "alice",
                SaslFailure::none);
  EXPECT_FALSE(x.active());
  EXPECT_EQ(x.mechanism(), SaslMechanism::plain);
}

TEST_F(Sasl, PlainAfterAnEmptyChallenge) {
  auto x = exchange();
  const SaslStep first = x.start(SaslMechanism::plain, std::nullopt);
  ASSERT_FALSE(first.finished());
  EXPECT_EQ(first.challenge, "");  // RFC 4422 5: client-first, so the challenge is empty
  EXPECT_TRUE(x.active());
  expect_result(x.respond(line("\0alice\0secret"s)), true, "alice", SaslFailure::none);
  EXPECT_FALSE(x.active());
}

TEST_F(Sasl, PlainWrongPasswordOrUser) {
  auto x = exchange();
  expect_result(x.start(SaslMechanism::plain, base64_encode("\0alice\0wrong"s)), false, "alice",
                SaslFailure::bad_credentials);
  expect_result(x.start(SaslMechanism::plain, base64_encode("\0bob\0secret"s)), false, "bob",
                SaslFailure::bad_credentials);
  // A password is compared whole: spaces and case count.
  users_["alice"] = "pass word";
  expect_result(x.start(SaslMechanism::plain, base64_encode("\0alice\0pass word"s)), true, "alice",
                SaslFailure::none);
  expect_result(x.start(SaslMechanism::plain, base64_encode("\0alice\0Pass word"s)), false, "alice",
                SaslFailure::bad_credentials);
}

TEST_F(Sasl, PlainAuthzid) {
  auto x = exchange();
  expect_result(x.start(SaslMechanism::plain, base64_encode("alice\0alice\0secret"s)), true,
                "alice", SaslFailure::none);
  // RFC 4616 2: acting as another identity is not granted, whatever the password.
  expect_result(x.start(SaslMechanism::plain, base64_encode("admin\0alice\0secret"s)), false,
                "alice", SaslFailure::authzid);
  expect_result(x.start(SaslMechanism::plain, base64_encode("admin\0alice\0wrong"s)), false,
                "alice", SaslFailure::authzid);
}

TEST_F(Sasl, PlainMalformed) {
  auto x = exchange();
  for (const std::string& bad : {"alice secret"s, "\0\0secret"s, "a\0b\0c\0d"s, ""s}) {
    expect_result(x.start(SaslMechanism::plain, base64_encode(bad)), false, "",
                  SaslFailure::malformed);
  }
  // "=" is an empty initial response (RFC 4422 3.3), which is no PLAIN message.
  expect_result(x.start(SaslMechanism::plain, "="), false, "", SaslFailure::malformed);
  EXPECT_EQ(lookups_, 0);
}

// --- LOGIN ---------------------------------------------------------------------------------

TEST_F(Sasl, Login) {
  auto x = exchange();
  const SaslStep user = x.start(SaslMechanism::login, std::nullopt);
  ASSERT_FALSE(user.finished());
  EXPECT_EQ(user.challenge, "VXNlcm5hbWU6");  // "Username:"
  const SaslStep password = x.respond(line("alice"));
  ASSERT_FALSE(password.finished());
  EXPECT_EQ(password.challenge, "UGFzc3dvcmQ6");  // "Password:"
  expect_result(x.respond(line("secret")), true, "alice", SaslFailure::none);
  EXPECT_EQ(x.mechanism(), SaslMechanism::login);
}

TEST_F(Sasl, LoginWithInitialResponse) {
  auto x = exchange();
  const SaslStep password = x.start(SaslMechanism::login, base64_encode("alice"));
  ASSERT_FALSE(password.finished());
  EXPECT_EQ(password.challenge, "UGFzc3dvcmQ6");
  expect_result(x.respond(line("nope")), false, "alice", SaslFailure::bad_credentials);
}

TEST_F(Sasl, LoginLinesMayEndInLfOrNothing) {
  auto x = exchange();
  x.start(SaslMechanism::login, std::nullopt);
  x.respond(base64_encode("alice") + "\n");
  expect_result(x.respond(base64_encode("secret")), true, "alice", SaslFailure::none);
}

// --- CRAM-MD5 (RFC 2195) -------------------------------------------------------------------

TEST_F(Sasl, CramMd5Rfc2195Example) {
  auto x = exchange();
  const SaslStep challenge = x.start(SaslMechanism::cram_md5, std::nullopt, kRfc2195Challenge);
  ASSERT_FALSE(challenge.finished());
  // RFC 2195 2, the example exchange, as base64.
  EXPECT_EQ(challenge.challenge, "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+");
  expect_result(x.respond("dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n"), true, "tim",
                SaslFailure::none);
  EXPECT_EQ(x.mechanism(), SaslMechanism::cram_md5);
}

TEST_F(Sasl, CramMd5DigestInUpperCase) {
  auto x = exchange();
  x.start(SaslMechanism::cram_md5, std::nullopt, kRfc2195Challenge);
  expect_result(x.respond(line("tim B913A602C7EDA7A495B4E6E7334D3890")), true, "tim",
                SaslFailure::none);
}

TEST_F(Sasl, CramMd5WrongDigestOrUser) {
  auto x = exchange();
  x.start(SaslMechanism::cram_md5, std::nullopt, kRfc2195Challenge);
  expect_result(x.respond(line("tim b913a602c7eda7a495b4e6e7334d3891")), false, "tim",
                SaslFailure::bad_credentials);
  // The digest is over this exchange's challenge, not another's.
  x.start(SaslMechanism::cram_md5, std::nullopt, "<1.2@other>");
  expect_result(x.respond(line("tim b913a602c7eda7a495b4e6e7334d3890")), false, "tim",
                SaslFailure::bad_credentials);
  x.start(SaslMechanism::cram_md5, std::nullopt, kRfc2195Challenge);
  expect_result(x.respond(line("tom b913a602c7eda7a495b4e6e7334d3890")), false, "tom",
                SaslFailure::bad_credentials);
}

TEST_F(Sasl, CramMd5Malformed) {
  auto x = exchange();
  for (const char* bad : {"tim", "tim abc", "tim zz13a602c7eda7a495b4e6e7334d3890",
                          " b913a602c7eda7a495b4e6e7334d3890", ""}) {
    x.start(SaslMechanism::cram_md5, std::nullopt, kRfc2195Challenge);
    expect_result(x.respond(line(bad)), false, "", SaslFailure::malformed);
  }
}

TEST_F(Sasl, CramMd5RefusesAnInitialResponse) {
  // RFC 4422 5: the server speaks first, so the client must not send an initial response.
  auto x = exchange();
  expect_result(x.start(SaslMechanism::cram_md5, base64_encode("x"), kRfc2195Challenge), false, "",
                SaslFailure::initial_response_not_allowed);
  expect_result(x.start(SaslMechanism::cram_md5, "=", kRfc2195Challenge), false, "",
                SaslFailure::initial_response_not_allowed);
  // Undecodable comes first.
  expect_result(x.start(SaslMechanism::cram_md5, "!!!", kRfc2195Challenge), false, "",
                SaslFailure::bad_base64);
  EXPECT_FALSE(x.active());
}

// --- cancelling and bad input --------------------------------------------------------------

TEST_F(Sasl, StarCancels) {
  auto x = exchange();
  x.start(SaslMechanism::login, std::nullopt);
  x.respond(line("alice"));
  expect_result(x.respond("*\r\n"), false, "", SaslFailure::cancelled);
  EXPECT_FALSE(x.active());
  x.start(SaslMechanism::plain, std::nullopt);
  expect_result(x.respond("*"), false, "", SaslFailure::cancelled);
  x.start(SaslMechanism::plain, std::nullopt);
  expect_result(x.respond("**\r\n"), false, "", SaslFailure::bad_base64);
}

TEST_F(Sasl, StarAsInitialResponse) {
  // Strictly, "*" is no initial response at all: it does not decode.
  auto strict = exchange();
  expect_result(strict.start(SaslMechanism::plain, "*"), false, "", SaslFailure::bad_base64);
  auto forgiving = exchange(SaslOptions{.cancel_in_initial_response = true});
  expect_result(forgiving.start(SaslMechanism::plain, "*"), false, "", SaslFailure::cancelled);
  expect_result(forgiving.start(SaslMechanism::login, "*"), false, "", SaslFailure::cancelled);
}

TEST_F(Sasl, BadBase64EndsTheExchange) {
  auto x = exchange();
  expect_result(x.start(SaslMechanism::plain, "!!!"), false, "", SaslFailure::bad_base64);
  x.start(SaslMechanism::login, std::nullopt);
  expect_result(x.respond("not base64\r\n"), false, "", SaslFailure::bad_base64);
  EXPECT_FALSE(x.active());
}

TEST_F(Sasl, ForgivingBase64) {
  const SaslOptions forgiving{.strict_base64 = false};
  // Padded or not, and the URL-safe alphabet ("-" and "_" for "+" and "/").
  for (const char* user : {"YWxpY2U=", "YWxpY2U"}) {
    auto x = exchange(forgiving);
    x.start(SaslMechanism::login, std::nullopt);
    EXPECT_FALSE(x.respond(std::string(user) + "\r\n").finished()) << user;
    expect_result(x.respond(line("secret")), true, "alice", SaslFailure::none);
  }
  users_["\xfb\xff"] = "pw";
  auto url_safe = exchange(forgiving);
  url_safe.start(SaslMechanism::login, std::nullopt);
  url_safe.respond("-_8=\r\n");
  expect_result(url_safe.respond(line("pw")), true, "\xfb\xff", SaslFailure::none);
  for (const char* bad : {"YW xp", "%%%", "YW\txp"}) {
    auto x = exchange(forgiving);
    x.start(SaslMechanism::login, std::nullopt);
    expect_result(x.respond(std::string(bad) + "\r\n"), false, "", SaslFailure::bad_base64);
  }
  // The strict reading refuses what the forgiving one lets pass.
  auto strict = exchange();
  strict.start(SaslMechanism::login, std::nullopt);
  expect_result(strict.respond("YWxpY2U\r\n"), false, "", SaslFailure::bad_base64);
  strict.start(SaslMechanism::login, std::nullopt);
  expect_result(strict.respond("-_8=\r\n"), false, "", SaslFailure::bad_base64);
}

TEST_F(Sasl, EmptyLineAndEqualsSignAreEmptyResponses) {
  for (const SaslOptions& options : {SaslOptions{}, SaslOptions{.strict_base64 = false}}) {
    for (const char* empty : {"\r\n", "=\r\n"}) {
      auto x = exchange(options);
      x.start(SaslMechanism::login, std::nullopt);
      EXPECT_FALSE(x.respond(empty).finished());  // the user name ""
      expect_result(x.respond(line("secret")), false, "", SaslFailure::bad_credentials);
    }
  }
}

TEST_F(Sasl, CancelAndRespondingWithoutAnExchange) {
  auto x = exchange();
  EXPECT_FALSE(x.active());
  expect_result(x.respond(line("alice")), false, "", SaslFailure::malformed);
  x.start(SaslMechanism::login, std::nullopt);
  EXPECT_TRUE(x.active());
  x.cancel();
  EXPECT_FALSE(x.active());
  // A new start forgets the old exchange's user.
  x.start(SaslMechanism::login, std::nullopt);
  x.respond(line("alice"));
  x.start(SaslMechanism::login, std::nullopt);
  const SaslStep s = x.respond(line("secret"));
  EXPECT_FALSE(s.finished());  // "secret" was taken as the user name
  EXPECT_EQ(s.challenge, "UGFzc3dvcmQ6");
}

}  // namespace
}  // namespace protofarm
