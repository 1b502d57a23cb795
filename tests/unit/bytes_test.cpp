// Byte helpers: base64, hex, UTF-8 validation, escaping, scenario payloads, capture templates.
#include "fakes/common/bytes.hpp"

#include <gtest/gtest.h>

#include <string>

namespace protofarm {
namespace {

using namespace std::string_literals;

TEST(FirstWord, IsWhatRawFakesCompareOnWith) {
  EXPECT_EQ(first_word("PING 1\n"), "PING");
  EXPECT_EQ(first_word("  GET\tx"), "GET");
  EXPECT_EQ(first_word("QUIT\r\n"), "QUIT");
  EXPECT_EQ(first_word(""), "");
  EXPECT_EQ(first_word(std::string("\x01\x02 z", 4)), std::string("\x01\x02", 2));
}

TEST(Base64, EncodesRfc4648TestVectors) {
  // RFC 4648 section 10.
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("\xff\xfe\x00\x80"s), "//4AgA==");
}

TEST(Base64, DecodesRfc4648TestVectors) {
  EXPECT_EQ(base64_decode(""), "");
  EXPECT_EQ(base64_decode("Zg=="), "f");
  EXPECT_EQ(base64_decode("Zm8="), "fo");
  EXPECT_EQ(base64_decode("Zm9v"), "foo");
  EXPECT_EQ(base64_decode("Zm9vYmFy"), "foobar");
  EXPECT_EQ(base64_decode("//4AgA=="), "\xff\xfe\x00\x80"s);
}

TEST(Base64, RoundTripsEveryByteValue) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (std::size_t n = 0; n <= all.size(); n += 37) {
    const std::string part = all.substr(0, n);
    EXPECT_EQ(base64_decode(base64_encode(part)), part) << n;
  }
}

TEST(Base64, DecodeIgnoresWhitespaceAndAcceptsUrlSafeLetters) {
  EXPECT_EQ(base64_decode(" Zm9v\r\nYmFy \t"), "foobar");
  EXPECT_EQ(base64_decode("-_4AgA=="), "\xfb\xfe\x00\x80"s);
  EXPECT_EQ(base64_decode("Zg"), "f");  // padding may be left out
}

TEST(Base64, DecodeRejectsWhatIsNotBase64) {
  EXPECT_EQ(base64_decode("Zm9v!"), std::nullopt);
  EXPECT_EQ(base64_decode("Zg==Zg=="), std::nullopt);  // data after padding
  EXPECT_EQ(base64_decode("Z"), std::nullopt);         // a lone sextet is no byte
  EXPECT_EQ(base64_decode("Zg==="), std::nullopt);
  EXPECT_EQ(base64_decode("aGVsbG8=\x01"), std::nullopt);
}

TEST(Hex, DecodesWithOrWithoutSeparators) {
  EXPECT_EQ(hex_decode("35 35 30 0a"), "550\n");
  EXPECT_EQ(hex_decode("3535300A"), "550\n");
  EXPECT_EQ(hex_decode("de:ad:BE:ef"), "\xde\xad\xbe\xef");
  EXPECT_EQ(hex_decode(" 00\n01\t"), "\x00\x01"s);
  EXPECT_EQ(hex_decode(""), "");
}

TEST(Hex, DecodeRejectsLoneNibblesAndNonHex) {
  EXPECT_EQ(hex_decode("3 5"), std::nullopt);
  EXPECT_EQ(hex_decode("353"), std::nullopt);
  EXPECT_EQ(hex_decode("zz"), std::nullopt);
  EXPECT_EQ(hex_decode("0x35"), std::nullopt);
}

TEST(Hex, EncodesAsSpacedLowerCasePairs) {
  EXPECT_EQ(hex_encode("550\n"), "35 35 30 0a");
  EXPECT_EQ(hex_encode("\x00\xff"s), "00 ff");
  EXPECT_EQ(hex_encode(""), "");
}

TEST(Utf8, AcceptsValidSequences) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii\r\n\x01"));
  EXPECT_TRUE(is_valid_utf8("\xc3\xa9"));          // é
  EXPECT_TRUE(is_valid_utf8("\xe2\x82\xac"));      // €
  EXPECT_TRUE(is_valid_utf8("\xf0\x9f\x98\x80"));  // 😀
  EXPECT_TRUE(is_valid_utf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
  EXPECT_TRUE(is_valid_utf8("\x00"s));
}

TEST(Utf8, RejectsInvalidSequences) {
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(is_valid_utf8("\x80"));              // a lone continuation byte
  EXPECT_FALSE(is_valid_utf8("\xc3"));              // truncated
  EXPECT_FALSE(is_valid_utf8("a\xe2\x82"));         // truncated at the end
  EXPECT_FALSE(is_valid_utf8("\xc3\x28"));          // bad continuation
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xe0\x80\xaf"));      // overlong, 3 bytes
  EXPECT_FALSE(is_valid_utf8("\xf0\x80\x80\xaf"));  // overlong, 4 bytes
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xf8\x88\x80\x80\x80"));
}

TEST(EscapeBytes, MakesControlBytesVisible) {
  EXPECT_EQ(escape_bytes("HELO a\r\n"), "HELO a\\r\\n");
  EXPECT_EQ(escape_bytes("a\tb\\c"), "a\\tb\\\\c");
  EXPECT_EQ(escape_bytes("\x01\x7f"), "\\x01\\x7f");
  EXPECT_EQ(escape_bytes("\x00"s), "\\x00");
}

TEST(EscapeBytes, KeepsValidUtf8AndEscapesInvalidBytes) {
  EXPECT_EQ(escape_bytes("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(escape_bytes("\xff\xc3"), "\\xff\\xc3");
  EXPECT_EQ(escape_bytes("\xc3\xa9\xc3"), "\xc3\xa9\\xc3");
}

TEST(EscapeBytes, CanKeepLineBreaks) {
  EXPECT_EQ(escape_bytes("a\r\nb\n", true), "a\\r\\n\nb\\n\n");
  EXPECT_EQ(escape_bytes("a\r\nb\n", false), "a\\r\\nb\\n");
}

struct Doc {
  explicit Doc(const std::string& yaml) : node(YAML::Load(yaml)), errors("t.yaml") {}
  Cfg at(const std::string& key) { return Cfg(node, "", &errors)[key]; }
  YAML::Node node;
  ConfigErrors errors;
};

TEST(ParsePayload, AStringIsText) {
  Doc d("p: \"220 hi\\r\\n\"\n");
  EXPECT_EQ(parse_payload(d.at("p")), "220 hi\r\n");
  EXPECT_TRUE(d.errors.empty());
}

TEST(ParsePayload, AMapHasTextHexOrBase64) {
  Doc d(
      "t: {text: hello}\n"
      "h: {hex: \"35 35 30 0a\"}\n"
      "b: {base64: aGk=}\n");
  EXPECT_EQ(parse_payload(d.at("t")), "hello");
  EXPECT_EQ(parse_payload(d.at("h")), "550\n");
  EXPECT_EQ(parse_payload(d.at("b")), "hi");
  EXPECT_TRUE(d.errors.empty()) << d.errors.format();
}

TEST(ParsePayload, AMissingPayloadIsNoPayloadAndNoError) {
  Doc d("a: 1\n");
  EXPECT_EQ(parse_payload(d.at("p")), std::nullopt);
  EXPECT_TRUE(d.errors.empty());
}

TEST(ParsePayload, ReportsBadPayloadsWhereTheyAre) {
  Doc d(
      "a: {hex: \"3 5\"}\n"
      "b: {base64: \"!!\"}\n"
      "c: {}\n"
      "d: {text: x, hex: \"35\"}\n"
      "e: [1, 2]\n");
  for (const char* key : {"a", "b", "c", "d", "e"}) {
    EXPECT_EQ(parse_payload(d.at(key)), std::nullopt) << key;
  }
  EXPECT_EQ(d.errors.format(),
            "t.yaml:1:10: error: a.hex: not valid hex: expected pairs of hex digits like \"35 35 "
            "30 0d 0a\"\n"
            "t.yaml:2:13: error: b.base64: not valid base64\n"
            "t.yaml:3:4: error: c: expected exactly one of text, hex or base64\n"
            "t.yaml:4:4: error: d: expected exactly one of text, hex or base64\n"
            "t.yaml:5:4: error: e: expected text, or a map with one of text, hex or base64\n");
}

TEST(SubstituteCaptures, ReplacesNumberedCaptures) {
  const std::vector<std::string> caps = {"HELO alice", "alice", "x"};
  EXPECT_EQ(substitute_captures("250 hi ${1}\r\n", caps), "250 hi alice\r\n");
  EXPECT_EQ(substitute_captures("${0}|${2}|${1}", caps), "HELO alice|x|alice");
  EXPECT_EQ(substitute_captures("${1}", caps), "alice");
}

TEST(SubstituteCaptures, LeavesOtherDollarsAlone) {
  const std::vector<std::string> caps = {"all", "one"};
  EXPECT_EQ(substitute_captures("$1 ${x} ${ ${12} $", caps), "$1 ${x} ${ ${12} $");
  EXPECT_EQ(substitute_captures("cost: $5", caps), "cost: $5");
  EXPECT_EQ(substitute_captures("end ${", caps), "end ${");
  EXPECT_EQ(substitute_captures("end ${1", caps), "end ${1");
}

TEST(SubstituteCaptures, AMissingCaptureIsEmpty) {
  // Like $5 in Perl when the regex has fewer groups: nothing, not the literal text.
  EXPECT_EQ(substitute_captures("[${5}]", {"all", "one"}), "[]");
  EXPECT_EQ(substitute_captures("[${1}]", {}), "[]");
}

}  // namespace
}  // namespace protofarm
