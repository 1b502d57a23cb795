// CGI/1.1 (RFC 3875), the pure parts: finding the script in a real folder tree, the child's
// environment, and the meaning of a script's output, byte by byte.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "fakes/http/cgi.hpp"

namespace protofarm::http {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;
using Kind = CgiResponse::Kind;
using Status = ScriptLocation::Status;

// --- locate_script ------------------------------------------------------------------------------

// ROOT/cgi-bin is the CGI folder; ROOT/cgi-bin2 and ROOT/outside are next to it, so that links
// out of the folder have somewhere to point.
class LocateScript : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("protofarm-cgi-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    dir_ = root_ / "cgi-bin";
    file("cgi-bin/hello.sh", 0755);
    file("cgi-bin/plain.txt", 0644);
    file("cgi-bin/sub/deep.sh", 0755);
    fs::create_directories(dir_ / "sub/inner");
    file("cgi-bin2/evil.sh", 0755);
    file("outside/run.sh", 0755);
    fs::create_symlink("hello.sh", dir_ / "alias.sh");
    fs::create_symlink("sub", dir_ / "sub-link");
    fs::create_symlink("../outside/run.sh", dir_ / "out.sh");
    fs::create_symlink("../cgi-bin2/evil.sh", dir_ / "sibling.sh");
    fs::create_symlink("../outside", dir_ / "out-dir");
    fs::create_symlink("missing.sh", dir_ / "dangling.sh");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  void file(const fs::path& rel, unsigned mode) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << "#!/bin/sh\necho\n";
    fs::permissions(root_ / rel, static_cast<fs::perms>(mode));
  }
  ScriptLocation locate(std::string_view path) const {
    return locate_script(dir_, "/cgi-bin/", path);
  }
  Status status_of(std::string_view path) const { return locate(path).status; }

  fs::path root_, dir_;
};

TEST_F(LocateScript, FindsAScript) {
  const ScriptLocation s = locate("/cgi-bin/hello.sh");
  EXPECT_EQ(s.status, Status::ok);
  EXPECT_EQ(s.file, dir_ / "hello.sh");
  EXPECT_TRUE(s.file.is_absolute());
  EXPECT_EQ(s.script_name, "/cgi-bin/hello.sh");
  EXPECT_EQ(s.path_info, "");
}

TEST_F(LocateScript, TheRestOfThePathIsPathInfo) {
  const ScriptLocation s = locate("/cgi-bin/hello.sh/a/b c.txt");
  EXPECT_EQ(s.status, Status::ok);
  EXPECT_EQ(s.file, dir_ / "hello.sh");
  EXPECT_EQ(s.script_name, "/cgi-bin/hello.sh");
  EXPECT_EQ(s.path_info, "/a/b c.txt");
  // RFC 3875 4.1.5: "/" is a single void segment, not nothing.
  const ScriptLocation slash = locate("/cgi-bin/hello.sh/");
  EXPECT_EQ(slash.script_name, "/cgi-bin/hello.sh");
  EXPECT_EQ(slash.path_info, "/");
  // Path info may name a file that exists: it is the script's business.
  EXPECT_EQ(locate("/cgi-bin/hello.sh/plain.txt").path_info, "/plain.txt");
}

TEST_F(LocateScript, WalksIntoFolders) {
  const ScriptLocation s = locate("/cgi-bin/sub/deep.sh/x/y");
  EXPECT_EQ(s.status, Status::ok);
  EXPECT_EQ(s.file, dir_ / "sub/deep.sh");
  EXPECT_EQ(s.script_name, "/cgi-bin/sub/deep.sh");
  EXPECT_EQ(s.path_info, "/x/y");
}

TEST_F(LocateScript, AFileThatCannotRunIsForbidden) {
  EXPECT_EQ(status_of("/cgi-bin/plain.txt"), Status::forbidden);
  EXPECT_EQ(status_of("/cgi-bin/plain.txt/more"), Status::forbidden);
  const ScriptLocation s = locate("/cgi-bin/plain.txt");
  EXPECT_EQ(s.script_name, "");
  EXPECT_EQ(s.file, fs::path());
}

TEST_F(LocateScript, AFifoIsForbidden) {
  ASSERT_EQ(::mkfifo((dir_ / "pipe").c_str(), 0755), 0);
  EXPECT_EQ(status_of("/cgi-bin/pipe"), Status::forbidden);
}

TEST_F(LocateScript, MissingSegmentsAreNotFound) {
  EXPECT_EQ(status_of("/cgi-bin/nope.sh"), Status::not_found);
  EXPECT_EQ(status_of("/cgi-bin/nope/hello.sh"), Status::not_found);
  EXPECT_EQ(status_of("/cgi-bin/sub/nope.sh"), Status::not_found);
  EXPECT_EQ(status_of("/cgi-bin/dangling.sh"), Status::not_found);
  EXPECT_EQ(status_of("/cgi-bin/Hello.sh"), Status::not_found);  // names are case-sensitive
}

TEST_F(LocateScript, ThePrefixAndFoldersAloneAreNotFound) {
  EXPECT_EQ(status_of("/cgi-bin/"), Status::not_found);
  EXPECT_EQ(status_of("/cgi-bin"), Status::not_found);
  EXPECT_EQ(status_of("/cgi-bin/sub"), Status::not_found);
  EXPECT_EQ(status_of("/cgi-bin/sub/"), Status::not_found);
  EXPECT_EQ(status_of("/cgi-bin/sub/inner/"), Status::not_found);
}

TEST_F(LocateScript, PathsOutsideThePrefixAreNotFound) {
  EXPECT_EQ(status_of("/hello.sh"), Status::not_found);
  EXPECT_EQ(status_of("/cgi-binx/hello.sh"), Status::not_found);
  EXPECT_EQ(status_of("/CGI-BIN/hello.sh"), Status::not_found);
  EXPECT_EQ(status_of(""), Status::not_found);
  EXPECT_EQ(status_of("/cgi-bin/hello.sh\0x"s), Status::not_found);
}

TEST_F(LocateScript, SymlinksInsideTheFolderWork) {
  const ScriptLocation s = locate("/cgi-bin/alias.sh/p");
  EXPECT_EQ(s.status, Status::ok);
  EXPECT_EQ(s.file, dir_ / "alias.sh");  // by the name asked for, not the target's
  EXPECT_EQ(s.script_name, "/cgi-bin/alias.sh");
  EXPECT_EQ(s.path_info, "/p");
  const ScriptLocation via_folder = locate("/cgi-bin/sub-link/deep.sh");
  EXPECT_EQ(via_folder.status, Status::ok);
  EXPECT_EQ(via_folder.script_name, "/cgi-bin/sub-link/deep.sh");
}

TEST_F(LocateScript, SymlinksOutOfTheFolderAreNotFound) {
  EXPECT_EQ(status_of("/cgi-bin/out.sh"), Status::not_found);
  EXPECT_EQ(status_of("/cgi-bin/out-dir/run.sh"), Status::not_found);
  // ROOT/cgi-bin2 starts with the string ROOT/cgi-bin, but is not inside it.
  EXPECT_EQ(status_of("/cgi-bin/sibling.sh"), Status::not_found);
}

TEST_F(LocateScript, TheFolderMayBeASymlinkItself) {
  fs::create_symlink(dir_, root_ / "link-to-cgi");
  const ScriptLocation s = locate_script(root_ / "link-to-cgi", "/cgi-bin/", "/cgi-bin/hello.sh");
  EXPECT_EQ(s.status, Status::ok);
  EXPECT_EQ(s.file, root_ / "link-to-cgi" / "hello.sh");
  EXPECT_EQ(locate_script(root_ / "link-to-cgi", "/cgi-bin/", "/cgi-bin/out.sh").status,
            Status::not_found);
}

TEST_F(LocateScript, OtherPrefixesAndAMissingFolder) {
  const ScriptLocation s = locate_script(dir_, "/scripts/", "/scripts/sub/deep.sh/q");
  EXPECT_EQ(s.status, Status::ok);
  EXPECT_EQ(s.script_name, "/scripts/sub/deep.sh");
  EXPECT_EQ(s.path_info, "/q");
  EXPECT_EQ(locate_script(dir_, "/", "/hello.sh").script_name, "/hello.sh");
  EXPECT_EQ(locate_script(root_ / "nothing", "/cgi-bin/", "/cgi-bin/hello.sh").status,
            Status::not_found);
}

// --- cgi_environment ----------------------------------------------------------------------------

CgiRequest get_request() {
  CgiRequest r;
  r.method = "GET";
  r.query = "a=1&b=%20x";
  r.script_name = "/cgi-bin/hello.sh";
  r.protocol = "HTTP/1.1";
  r.server_name = "example.test";
  r.server_port = 8080;
  r.remote_addr = "127.0.0.1";
  r.remote_port = 40000;
  r.headers = {{"Host", "example.test:8080"}, {"User-Agent", "curl/8"}, {"Accept", "*/*"}};
  return r;
}

// The value of NAME, or nullopt when it is not set.
std::optional<std::string> var(const std::vector<std::string>& env, std::string_view name) {
  for (const std::string& entry : env)
    if (entry.size() > name.size() && entry.starts_with(name) && entry[name.size()] == '=')
      return entry.substr(name.size() + 1);
  return std::nullopt;
}

TEST(HttpCgiEnvironment, TypicalGetWithQuery) {
  const std::vector<std::string> env = cgi_environment(get_request(), "/srv/cgi-bin/hello.sh");
  const std::vector<std::string> expected = {
      "AUTH_TYPE=",
      "GATEWAY_INTERFACE=CGI/1.1",
      "HTTP_ACCEPT=*/*",
      "HTTP_HOST=example.test:8080",
      "HTTP_USER_AGENT=curl/8",
      "PATH=/usr/local/bin:/usr/bin:/bin",
      "PATH_INFO=",
      "QUERY_STRING=a=1&b=%20x",
      "REMOTE_ADDR=127.0.0.1",
      "REMOTE_HOST=127.0.0.1",
      "REMOTE_PORT=40000",
      "REQUEST_METHOD=GET",
      "REQUEST_URI=/cgi-bin/hello.sh?a=1&b=%20x",
      "SCRIPT_FILENAME=/srv/cgi-bin/hello.sh",
      "SCRIPT_NAME=/cgi-bin/hello.sh",
      "SERVER_NAME=example.test",
      "SERVER_PORT=8080",
      "SERVER_PROTOCOL=HTTP/1.1",
      "SERVER_SOFTWARE=protofarm",
  };
  EXPECT_EQ(env, expected);
}

TEST(HttpCgiEnvironment, NoQueryIsAnEmptyQueryString) {
  CgiRequest r = get_request();
  r.query = "";
  const auto env = cgi_environment(r, "/s");
  EXPECT_EQ(var(env, "QUERY_STRING"), "");  // RFC 3875 4.1.7: set, but empty
  EXPECT_EQ(var(env, "REQUEST_URI"), "/cgi-bin/hello.sh");
}

TEST(HttpCgiEnvironment, PostWithBody) {
  CgiRequest r = get_request();
  r.method = "POST";
  r.query = "";
  r.content_length = 11;
  r.headers = {{"Host", "h"},
               {"Content-Type", "application/x-www-form-urlencoded"},
               {"Content-Length", "11"}};
  const auto env = cgi_environment(r, "/s");
  EXPECT_EQ(var(env, "REQUEST_METHOD"), "POST");
  EXPECT_EQ(var(env, "CONTENT_LENGTH"), "11");
  EXPECT_EQ(var(env, "CONTENT_TYPE"), "application/x-www-form-urlencoded");
  EXPECT_EQ(var(env, "HTTP_CONTENT_LENGTH"), std::nullopt);
  EXPECT_EQ(var(env, "HTTP_CONTENT_TYPE"), std::nullopt);
  EXPECT_EQ(var(env, "HTTP_HOST"), "h");
}

TEST(HttpCgiEnvironment, ContentLengthAndTypeOnlyWhenThereIsOne) {
  const auto get = cgi_environment(get_request(), "/s");
  EXPECT_EQ(var(get, "CONTENT_LENGTH"), std::nullopt);
  EXPECT_EQ(var(get, "CONTENT_TYPE"), std::nullopt);
  // RFC 3875 4.1.3: the field is passed on whenever the request has it; 4.1.2: a body of no
  // bytes is still a body.
  CgiRequest r = get_request();
  r.headers.emplace_back("content-type", "text/plain");
  r.content_length = 0;
  const auto env = cgi_environment(r, "/s");
  EXPECT_EQ(var(env, "CONTENT_TYPE"), "text/plain");
  EXPECT_EQ(var(env, "CONTENT_LENGTH"), "0");
  // A body without a type: no CONTENT_TYPE.
  CgiRequest untyped = get_request();
  untyped.content_length = 3;
  EXPECT_EQ(var(cgi_environment(untyped, "/s"), "CONTENT_TYPE"), std::nullopt);
}

TEST(HttpCgiEnvironment, PathInfoAndPathTranslated) {
  CgiRequest r = get_request();
  r.query = "";
  r.path_info = "/docs/a b.txt";
  r.path_translated = "/srv/www/docs/a b.txt";
  const auto env = cgi_environment(r, "/s");
  EXPECT_EQ(var(env, "PATH_INFO"), "/docs/a b.txt");
  EXPECT_EQ(var(env, "PATH_TRANSLATED"), "/srv/www/docs/a b.txt");
  EXPECT_EQ(var(env, "REQUEST_URI"), "/cgi-bin/hello.sh/docs/a b.txt");
  r.query = "q";
  EXPECT_EQ(var(cgi_environment(r, "/s"), "REQUEST_URI"), "/cgi-bin/hello.sh/docs/a b.txt?q");

  // RFC 3875 4.1.6: no PATH_INFO, no PATH_TRANSLATED; nor without a document root.
  CgiRequest no_info = get_request();
  no_info.path_translated = "/srv/www";
  EXPECT_EQ(var(cgi_environment(no_info, "/s"), "PATH_TRANSLATED"), std::nullopt);
  CgiRequest no_root = get_request();
  no_root.path_info = "/x";
  const auto env2 = cgi_environment(no_root, "/s");
  EXPECT_EQ(var(env2, "PATH_INFO"), "/x");
  EXPECT_EQ(var(env2, "PATH_TRANSLATED"), std::nullopt);
}

TEST(HttpCgiEnvironment, AuthenticationAndHttps) {
  CgiRequest r = get_request();
  r.auth_type = "Basic";
  r.remote_user = "alice";
  r.https = true;
  r.headers.emplace_back("Authorization", "Basic YWxpY2U6c2VjcmV0");
  const auto env = cgi_environment(r, "/s");
  EXPECT_EQ(var(env, "AUTH_TYPE"), "Basic");
  EXPECT_EQ(var(env, "REMOTE_USER"), "alice");
  EXPECT_EQ(var(env, "HTTPS"), "on");
  EXPECT_EQ(var(env, "HTTP_AUTHORIZATION"), std::nullopt);  // the password stays here

  const auto plain = cgi_environment(get_request(), "/s");
  EXPECT_EQ(var(plain, "AUTH_TYPE"), "");
  EXPECT_EQ(var(plain, "REMOTE_USER"), std::nullopt);
  EXPECT_EQ(var(plain, "HTTPS"), std::nullopt);
}

TEST(HttpCgiEnvironment, RepeatedHeadersAreJoinedInOrder) {
  CgiRequest r = get_request();
  r.headers = {{"Accept", "text/html"}, {"X-Multi", "one"},   {"accept", "*/*"},
               {"x-multi", "two"},      {"X-MULTI", "three"}, {"Cookie", "a=1"},
               {"Cookie", "b=2"},       {"X-Empty", ""},      {"Accept-Language", "en"}};
  const auto env = cgi_environment(r, "/s");
  EXPECT_EQ(var(env, "HTTP_ACCEPT"), "text/html, */*");
  EXPECT_EQ(var(env, "HTTP_X_MULTI"), "one, two, three");
  EXPECT_EQ(var(env, "HTTP_COOKIE"), "a=1; b=2");  // RFC 6265: cookie pairs are "; "-separated
  EXPECT_EQ(var(env, "HTTP_X_EMPTY"), "");
  EXPECT_EQ(var(env, "HTTP_ACCEPT_LANGUAGE"), "en");
  EXPECT_EQ(std::count_if(env.begin(), env.end(),
                          [](const std::string& e) { return e.starts_with("HTTP_ACCEPT="); }),
            1);
}

TEST(HttpCgiEnvironment, WithheldAndMalformedHeaders) {
  CgiRequest r = get_request();
  r.headers = {{"Content-Length", "5"},
               {"CONTENT-TYPE", "text/plain"},
               {"Authorization", "Bearer t"},
               {"Proxy-Authorization", "Basic eDp5"},
               {"Proxy", "http://evil.test:3128"},
               {"Content_Type", "x"},
               {"Bad Name", "v"},
               {"", "v"},
               {"X:Y", "v"},
               {"X-Ok", "kept"}};
  const auto env = cgi_environment(r, "/s");
  std::vector<std::string> http;
  for (const std::string& e : env)
    if (e.starts_with("HTTP_")) http.push_back(e);
  EXPECT_EQ(http, std::vector<std::string>{"HTTP_X_OK=kept"});
  EXPECT_EQ(var(env, "CONTENT_TYPE"), "text/plain");  // from the field, case-insensitively
}

TEST(HttpCgiEnvironment, ValuesWithNulAreLeftOut) {
  CgiRequest r = get_request();
  r.auth_type = "Basic";
  r.remote_user = "ali\0ce"s;  // a Basic user name is decoded from base64: it may hold anything
  r.headers = {{"X-Bin", "a\0b"s}, {"X-Join", "ok"}, {"X-Join", "n\0"s}, {"X-Fine", "yes"}};
  const auto env = cgi_environment(r, "/s");
  EXPECT_EQ(var(env, "REMOTE_USER"), std::nullopt);
  EXPECT_EQ(var(env, "HTTP_X_BIN"), std::nullopt);
  EXPECT_EQ(var(env, "HTTP_X_JOIN"), std::nullopt);
  EXPECT_EQ(var(env, "HTTP_X_FINE"), "yes");
  EXPECT_EQ(var(env, "AUTH_TYPE"), "Basic");
  for (const std::string& e : env) EXPECT_EQ(e.find('\0'), std::string::npos) << e;
}

TEST(HttpCgiEnvironment, SortedByNameAndUnique) {
  CgiRequest r = get_request();
  r.headers = {{"X1", "a"}, {"X", "b"}, {"X-", "c"}, {"X-A", "d"}};
  r.content_length = 4;
  r.path_info = "/p";
  r.path_translated = "/t/p";
  r.remote_user = "u";
  r.https = true;
  const auto env = cgi_environment(r, "/s");
  std::vector<std::string> names;
  for (const std::string& e : env) names.push_back(e.substr(0, e.find('=')));
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end());
  const auto x = std::find(names.begin(), names.end(), "HTTP_X");
  ASSERT_NE(x, names.end());
  EXPECT_EQ(x[1], "HTTP_X1");  // by name: "HTTP_X" before "HTTP_X1", though '1' < '='
  EXPECT_EQ(env, cgi_environment(r, "/s"));
}

// --- parse_cgi_output ---------------------------------------------------------------------------

TEST(HttpCgiOutput, DocumentWithLfLines) {
  const CgiResponse r = parse_cgi_output("Content-Type: text/plain\nX-A: 1\n\nhello\n");
  EXPECT_EQ(r.kind, Kind::document) << r.error;
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.reason, "");
  EXPECT_EQ(r.headers, (Headers{{"Content-Type", "text/plain"}, {"X-A", "1"}}));
  EXPECT_EQ(r.location, "");
  EXPECT_EQ(r.body, "hello\n");
  EXPECT_EQ(r.error, "");
}

TEST(HttpCgiOutput, DocumentWithCrlfLines) {
  const CgiResponse r = parse_cgi_output("Content-Type: text/html\r\nX-A: 1\r\n\r\n<p>\r\n");
  EXPECT_EQ(r.kind, Kind::document) << r.error;
  EXPECT_EQ(r.headers, (Headers{{"Content-Type", "text/html"}, {"X-A", "1"}}));
  EXPECT_EQ(r.body, "<p>\r\n");
}

TEST(HttpCgiOutput, MixedLineEndsAndTheBodyAsItIs) {
  const std::string body = "\r\n\0binary\r\n\r\nStatus: 500\n\n\xff"s;
  const CgiResponse r = parse_cgi_output("Content-Type: a/b\nX-A: 1\r\n\n" + body);
  EXPECT_EQ(r.kind, Kind::document) << r.error;
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(r.body, body);
  EXPECT_EQ(parse_cgi_output("Content-Type: a/b\r\n\nx").body, "x");
  EXPECT_EQ(parse_cgi_output("Content-Type: a/b\n\r\nx").body, "x");
}

TEST(HttpCgiOutput, NoEndOfHeadersIsInvalid) {
  for (const std::string_view out :
       {"", "Content-Type: text/plain", "Content-Type: text/plain\n",
        "Content-Type: text/plain\r\n", "Content-Type: a/b\r\nX: 1\r", "Content-Type: a/b\n\r"}) {
    const CgiResponse r = parse_cgi_output(out);
    EXPECT_EQ(r.kind, Kind::invalid) << out;
    EXPECT_EQ(r.error, "no end of headers (an empty line)") << out;
  }
}

TEST(HttpCgiOutput, EveryPrefixWithoutTheEmptyLineIsInvalid) {
  const std::string full = "Status: 201 Created\r\nContent-Type: text/plain\r\n\r\nmade";
  const std::size_t end = full.find("\r\n\r\n") + 4;
  for (std::size_t n = 0; n <= full.size(); ++n) {
    const CgiResponse r = parse_cgi_output(std::string_view(full).substr(0, n));
    EXPECT_EQ(r.kind, n < end ? Kind::invalid : Kind::document) << n;
  }
  EXPECT_EQ(parse_cgi_output(full).status, 201u);
}

TEST(HttpCgiOutput, MalformedHeaderLinesAreInvalid) {
  for (const std::string_view out : {
           "Content-Type text/plain\n\n",         // no ':'
           "Content-Type : text/plain\n\n",       // space before ':' (RFC 3875 6.3)
           "Content-Type: a/b\n Folded: x\n\n",   // no continuation lines
           "Content-Type: a/b\n\tmore\n\n",       // nor with a tab
           ": nameless\nContent-Type: a/b\n\n",   // empty name
           "Bad Name: 1\nContent-Type: a/b\n\n",  // not a token
           "Content-Type: a/b\nX(Y): 1\n\n",      // not a token
           "<html>\n\n",                          // a script that forgot its headers
       }) {
    const CgiResponse r = parse_cgi_output(out);
    EXPECT_EQ(r.kind, Kind::invalid) << out;
    EXPECT_FALSE(r.error.empty()) << out;
  }
  EXPECT_EQ(parse_cgi_output("Content-Type text/plain\n\n").error, "header line without ':'");
  EXPECT_EQ(parse_cgi_output("Bad Name: 1\n\n").error, "bad header name 'Bad Name'");
}

TEST(HttpCgiOutput, ControlCharactersInValuesAreInvalid) {
  EXPECT_EQ(parse_cgi_output("Content-Type: a/b\nX-A: 1\r2\n\n").kind, Kind::invalid);
  EXPECT_EQ(parse_cgi_output("Content-Type: a/b\nX-A: 1\0 2\n\n"s).kind, Kind::invalid);
  EXPECT_EQ(parse_cgi_output("Content-Type: a/b\r\r\n\r\n").kind, Kind::invalid);
  EXPECT_EQ(parse_cgi_output("Content-Type: a/b\nX-A: \x7f\n\n").kind, Kind::invalid);
  // A tab inside and bytes above 0x7f are fine.
  const CgiResponse r = parse_cgi_output("Content-Type: a/b\nX-A: 1\t2 \xc3\xa9\n\n");
  EXPECT_EQ(r.kind, Kind::document) << r.error;
  EXPECT_EQ(r.headers[1].second, "1\t2 \xc3\xa9");
}

TEST(HttpCgiOutput, ValuesAreTrimmedAndNamesKeptAsWritten) {
  const CgiResponse r =
      parse_cgi_output("content-TYPE: \t text/html; charset=utf-8 \t\r\nX-A:b\r\nx-b:  c d  \n\n");
  EXPECT_EQ(r.kind, Kind::document) << r.error;
  EXPECT_EQ(r.headers,
            (Headers{{"content-TYPE", "text/html; charset=utf-8"}, {"X-A", "b"}, {"x-b", "c d"}}));
}

TEST(HttpCgiOutput, RepeatedOtherFieldsStayInOrder) {
  const CgiResponse r =
      parse_cgi_output("Set-Cookie: a=1\nContent-Type: a/b\nSet-Cookie: b=2\n\nx");
  EXPECT_EQ(r.kind, Kind::document) << r.error;
  EXPECT_EQ(r.headers,
            (Headers{{"Set-Cookie", "a=1"}, {"Content-Type", "a/b"}, {"Set-Cookie", "b=2"}}));
}

TEST(HttpCgiOutput, EmptyValuesAreLikeNoField) {
  const CgiResponse r = parse_cgi_output("X-Empty:\nContent-Type: a/b\nX-Blank:   \n\n");
  EXPECT_EQ(r.kind, Kind::document) << r.error;
  EXPECT_EQ(r.headers, (Headers{{"Content-Type", "a/b"}}));
  EXPECT_EQ(parse_cgi_output("Content-Type:\n\nbody").error, "no Content-Type, Location or Status");
  EXPECT_EQ(parse_cgi_output("Status: 200\nContent-Type:\n\nbody").error,
            "a body without Content-Type");
  // An empty CGI field does not count as given, nor as given twice.
  EXPECT_EQ(parse_cgi_output("Status:\nStatus: 204\n\n").status, 204u);
}

TEST(HttpCgiOutput, StatusSetsCodeAndReason) {
  const CgiResponse r =
      parse_cgi_output("Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnope");
  EXPECT_EQ(r.kind, Kind::document) << r.error;
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.reason, "Not Found");
  EXPECT_EQ(r.headers, (Headers{{"Content-Type", "text/plain"}}));  // Status left out
  EXPECT_EQ(r.body, "nope");

  const CgiResponse no_reason = parse_cgi_output("status: 500\nContent-Type: a/b\n\nx");
  EXPECT_EQ(no_reason.status, 500u);
  EXPECT_EQ(no_reason.reason, "");
  const CgiResponse spaced = parse_cgi_output("STATUS:  418   I'm a teapot  \n\n");
  EXPECT_EQ(spaced.kind, Kind::document) << spaced.error;
  EXPECT_EQ(spaced.status, 418u);
  EXPECT_EQ(spaced.reason, "I'm a teapot");
  EXPECT_EQ(parse_cgi_output("Status: 100 Continue\n\n").status, 100u);
  EXPECT_EQ(parse_cgi_output("Status: 599\n\n").status, 599u);
}

TEST(HttpCgiOutput, StatusWithoutBodyNeedsNoContentType) {
  const CgiResponse r = parse_cgi_output("Status: 204 No Content\r\nX-A: 1\r\n\r\n");
  EXPECT_EQ(r.kind, Kind::document) << r.error;
  EXPECT_EQ(r.status, 204u);
  EXPECT_EQ(r.reason, "No Content");
  EXPECT_EQ(r.headers, (Headers{{"X-A", "1"}}));
  EXPECT_EQ(r.body, "");
}

TEST(HttpCgiOutput, BadStatusIsInvalid) {
  for (const std::string_view status :
       {"99", "099 x", "600 X", "2000", "200OK", "20 0", "1x0", "abc", "-200", "+20", "200\tOK"}) {
    const CgiResponse r = parse_cgi_output("Status: " + std::string(status) + "\n\n");
    EXPECT_EQ(r.kind, Kind::invalid) << status;
    EXPECT_EQ(r.error, "bad Status '" + std::string(status) + "'");
  }
}

TEST(HttpCgiOutput, ABodyNeedsContentType) {
  const CgiResponse r = parse_cgi_output("Status: 200 OK\nX-A: 1\n\nhello");
  EXPECT_EQ(r.kind, Kind::invalid);
  EXPECT_EQ(r.error, "a body without Content-Type");
  // A document of no bytes may have a type.
  const CgiResponse empty = parse_cgi_output("Content-Type: text/plain\n\n");
  EXPECT_EQ(empty.kind, Kind::document) << empty.error;
  EXPECT_EQ(empty.body, "");
}

TEST(HttpCgiOutput, ACgiFieldIsRequired) {
  // RFC 3875 6.2 and 6.3: one or more header fields, at least one of them a CGI field.
  EXPECT_EQ(parse_cgi_output("\n").error, "no Content-Type, Location or Status");
  EXPECT_EQ(parse_cgi_output("\r\n").kind, Kind::invalid);
  EXPECT_EQ(parse_cgi_output("\r\nbody").kind, Kind::invalid);
  EXPECT_EQ(parse_cgi_output("X-A: 1\n\n").error, "no Content-Type, Location or Status");
}

TEST(HttpCgiOutput, ACgiFieldTwiceIsInvalid) {
  EXPECT_EQ(parse_cgi_output("Content-Type: a/b\ncontent-type: c/d\n\nx").error,
            "content-type given twice");
  EXPECT_EQ(parse_cgi_output("Status: 200\nStatus: 404\n\n").error, "Status given twice");
  EXPECT_EQ(parse_cgi_output("Location: /a\nLOCATION: /b\n\n").error, "LOCATION given twice");
}

TEST(HttpCgiOutput, LocalRedirect) {
  const CgiResponse r = parse_cgi_output("Location: /other/page?x=1&y\r\n\r\n");
  EXPECT_EQ(r.kind, Kind::local_redirect) << r.error;
  EXPECT_EQ(r.location, "/other/page?x=1&y");
  EXPECT_EQ(r.headers, (Headers{{"Location", "/other/page?x=1&y"}}));
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(parse_cgi_output("location:/\n\n").kind, Kind::local_redirect);
}

TEST(HttpCgiOutput, ALocalRedirectAllowsNothingElse) {
  // RFC 3875 6.2.2: no other header fields, no body.
  const std::string error = "a local redirect with other header fields or a body";
  EXPECT_EQ(parse_cgi_output("Location: /a\nX-A: 1\n\n").error, error);
  EXPECT_EQ(parse_cgi_output("Location: /a\nStatus: 302 Found\n\n").error, error);
  EXPECT_EQ(parse_cgi_output("Location: /a\nContent-Type: a/b\n\nbody").error, error);
  EXPECT_EQ(parse_cgi_output("Location: /a\n\nbody").error, error);
  // An empty field is no field.
  EXPECT_EQ(parse_cgi_output("Location: /a\nX-A:\n\n").kind, Kind::local_redirect);
}

TEST(HttpCgiOutput, ClientRedirect) {
  const CgiResponse r = parse_cgi_output("Location: https://example.test/a?b#frag\n\n");
  EXPECT_EQ(r.kind, Kind::client_redirect) << r.error;
  EXPECT_EQ(r.status, 302u);
  EXPECT_EQ(r.reason, "");
  EXPECT_EQ(r.location, "https://example.test/a?b#frag");
  EXPECT_EQ(r.headers, (Headers{{"Location", "https://example.test/a?b#frag"}}));
  EXPECT_EQ(r.body, "");
  // RFC 3875 6.2.3: with extension fields.
  const CgiResponse ext = parse_cgi_output("Location: http://x.test/\r\nX-CGI-Note: 1\r\n\r\n");
  EXPECT_EQ(ext.kind, Kind::client_redirect) << ext.error;
  EXPECT_EQ(ext.headers, (Headers{{"Location", "http://x.test/"}, {"X-CGI-Note", "1"}}));
  // Any scheme, opaque ones too.
  EXPECT_EQ(parse_cgi_output("Location: mailto:a@b.test\n\n").kind, Kind::client_redirect);
  EXPECT_EQ(parse_cgi_output("Location: svn+ssh.v2-x://h/r\n\n").kind, Kind::client_redirect);
}

TEST(HttpCgiOutput, ClientRedirectWithStatus) {
  const CgiResponse r = parse_cgi_output("Status: 301 Moved Permanently\nLocation: http://x/\n\n");
  EXPECT_EQ(r.kind, Kind::client_redirect) << r.error;
  EXPECT_EQ(r.status, 301u);
  EXPECT_EQ(r.reason, "Moved Permanently");
  EXPECT_EQ(r.headers, (Headers{{"Location", "http://x/"}}));
}

TEST(HttpCgiOutput, ClientRedirectWithDocument) {
  // RFC 3875 6.2.4.
  const CgiResponse r = parse_cgi_output(
      "Location: http://x.test/new\r\nStatus: 302 Found\r\nContent-Type: text/html\r\n"
      "X-A: 1\r\n\r\n<a href=\"http://x.test/new\">here</a>");
  EXPECT_EQ(r.kind, Kind::client_redirect) << r.error;
  EXPECT_EQ(r.status, 302u);
  EXPECT_EQ(r.reason, "Found");
  EXPECT_EQ(r.location, "http://x.test/new");
  EXPECT_EQ(
      r.headers,
      (Headers{{"Location", "http://x.test/new"}, {"Content-Type", "text/html"}, {"X-A", "1"}}));
  EXPECT_EQ(r.body, "<a href=\"http://x.test/new\">here</a>");
  // Without Status it is still 302; without Content-Type the body cannot go.
  EXPECT_EQ(parse_cgi_output("Location: http://x/\nContent-Type: a/b\n\nx").status, 302u);
  EXPECT_EQ(parse_cgi_output("Location: http://x/\n\nbody").error, "a body without Content-Type");
}

TEST(HttpCgiOutput, ALocationOfNeitherKindIsInvalid) {
  for (const std::string_view location : {"relative/path", "page.html", "?q=1", "1http://x/",
                                          "http:", ":x", "-x:y", "ht tp://x/", "#frag"}) {
    const CgiResponse r = parse_cgi_output("Location: " + std::string(location) + "\n\n");
    EXPECT_EQ(r.kind, Kind::invalid) << location;
    EXPECT_EQ(r.error, "Location is neither a local path nor an absolute URI") << location;
  }
}

// --- is_nph -------------------------------------------------------------------------------------

TEST(HttpCgiNph, TheScriptFileNameStartsWithNph) {
  EXPECT_TRUE(is_nph("/cgi-bin/nph-raw.sh"));
  EXPECT_TRUE(is_nph("/cgi-bin/sub/nph-x"));
  EXPECT_TRUE(is_nph("nph-x"));
  EXPECT_FALSE(is_nph("/cgi-bin/raw.sh"));
  EXPECT_FALSE(is_nph("/cgi-bin/nph-dir/raw.sh"));  // only the file's own name counts
  EXPECT_FALSE(is_nph("/cgi-bin/NPH-raw.sh"));
  EXPECT_FALSE(is_nph("/cgi-bin/xnph-raw.sh"));
  EXPECT_FALSE(is_nph("/cgi-bin/nph"));
  EXPECT_FALSE(is_nph(""));
}

}  // namespace
}  // namespace protofarm::http
