// Fuzz target: the transcript reader behind `protofarm verify` and `show`, a hostile folder in.
//
// The input is cut in two at its first NUL byte: the first part is events.jsonl, the second a
// session document (sessions/s/1.json). read_transcripts() reads the folder as verify and show
// do; the document is also parsed alone. Besides not crashing, leaking or invoking undefined
// behaviour: a folder is read or refused with a TranscriptError, never another exception, and
// every session read is a JSON object.
//
// Built twice: with libFuzzer for campaigns (`make fuzz`), and as a replay of the saved corpus
// in tests/fuzz/corpus/transcript_reader/ in every build, so `make test` runs it.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "controller/transcript_reader.hpp"
#include "tests/fuzz/check.hpp"

namespace {

using namespace protofarm;
namespace fs = std::filesystem;

void write(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fs::path dir =
      fs::temp_directory_path() / ("transcript-reader-fuzz-" + std::to_string(::getpid()));
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t cut = input.find('\0');
  const std::string_view events = input.substr(0, cut);
  const std::string_view doc =
      cut == std::string_view::npos ? std::string_view() : input.substr(cut + 1);

  fs::create_directories(dir / "sessions" / "s");
  write(dir / "events.jsonl", events);
  const fs::path doc_path = dir / "sessions" / "s" / "1.json";
  std::error_code ec;
  if (cut == std::string_view::npos)
    fs::remove(doc_path, ec);
  else
    write(doc_path, doc);

  try {
    const TranscriptSet set = read_transcripts(dir);
    std::size_t count = 0;
    for (const auto& [name, list] : set.servers) {
      check(!name.empty() || !list.empty());
      for (const auto& session : list) check(session.doc.is_object());
      count += list.size();
    }
    check(count == set.session_count());
  } catch (const TranscriptError&) {
    // refused, with a message: fine
  } catch (...) {
    check(!"read_transcripts threw something else than TranscriptError");
  }
  if (cut != std::string_view::npos) {
    try {
      (void)parse_session_document(doc, "1.json");
    } catch (const TranscriptError&) {
    } catch (...) {
      check(!"parse_session_document threw something else than TranscriptError");
    }
  }
  return 0;
}
