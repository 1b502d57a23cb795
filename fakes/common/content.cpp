#include "fakes/common/content.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "fakes/common/bytes.hpp"

namespace protofarm {

namespace {

// Bytes [offset, offset + n) of the pattern: byte k is byte k % 8 (little end first) of
// splitmix64(seed ^ (k / 8) * φ), so any offset can be computed alone, and whole words are
// written eight bytes at a time.
void pattern(std::uint64_t seed, std::uint64_t offset, std::size_t n, char* out) {
  auto word_at = [seed](std::uint64_t index) {
    return splitmix64(seed ^ index * 0x9E3779B97F4A7C15ULL);
  };
  std::size_t i = 0;
  while (i < n && (offset + i) % 8 != 0) {
    const std::uint64_t at = offset + i;
    out[i++] = static_cast<char>((word_at(at / 8) >> (8 * (at % 8))) & 0xFF);
  }
  for (std::uint64_t index = (offset + i) / 8; i + 8 <= n; i += 8, ++index) {
    const std::uint64_t w = word_at(index);
    for (std::size_t k = 0; k < 8; ++k) out[i + k] = static_cast<char>((w >> (8 * k)) & 0xFF);
  }
  while (i < n) {
    const std::uint64_t at = offset + i;
    out[i++] = static_cast<char>((word_at(at / 8) >> (8 * (at % 8))) & 0xFF);
  }
}

}  // namespace

std::string generated_bytes(std::uint64_t seed, std::uint64_t offset, std::size_t n) {
  std::string out(n, '\0');
  std::size_t done = 0;
  std::uint64_t at = offset % kGeneratedPeriod;
  while (done < n) {
    const std::size_t take =
        static_cast<std::size_t>(std::min<std::uint64_t>(n - done, kGeneratedPeriod - at));
    pattern(seed, at, take, out.data() + done);
    done += take;
    at = 0;
  }
  return out;
}

Content generated_content(std::uint64_t seed, std::uint64_t size) {
  Content c;
  c.kind = Content::Kind::generated;
  c.seed = seed;
  c.size = size;
  c.bytes = std::make_shared<const std::string>(
      generated_bytes(seed, 0, static_cast<std::size_t>(std::min(size, kGeneratedPeriod))));
  return c;
}

std::string read_content(const Content& content, std::uint64_t offset, std::size_t max,
                         std::string* error, int* error_number) {
  const std::uint64_t length = content.length();
  if (offset >= length) return {};
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(max, length - offset));
  switch (content.kind) {
    case Content::Kind::bytes:
      return content.bytes->substr(static_cast<std::size_t>(offset), n);
    case Content::Kind::generated:
      if (content.bytes->size() == std::min(content.size, kGeneratedPeriod)) {
        std::string out = std::string(view_content(content, offset, n));
        while (out.size() < n) out += view_content(content, offset + out.size(), n - out.size());
        return out;
      }
      return generated_bytes(content.seed, offset, n);
    case Content::Kind::disk: {
      // open and pread: a served file is read a chunk at a time, and an ifstream's set-up
      // (locale, buffer, seek) cost more than the read itself for small files.
      std::string out(n, '\0');
      const int fd = ::open(content.file.c_str(), O_RDONLY | O_CLOEXEC);
      std::size_t got = 0;
      int failure = fd < 0 ? errno : 0;
      while (fd >= 0 && got < n) {
        const ssize_t r = ::pread(fd, out.data() + got, n - got, static_cast<off_t>(offset + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
          failure = r < 0 ? errno : EIO;  // EIO: the file is shorter than it was
          break;
        }
        got += static_cast<std::size_t>(r);
      }
      if (fd >= 0) ::close(fd);
      if (failure != 0) {
        if (error) *error = "cannot read " + content.file + ": " + std::strerror(failure);
        if (error_number) *error_number = failure;
        return {};
      }
      return out;
    }
  }
  return {};
}

std::string_view view_content(const Content& content, std::uint64_t offset, std::size_t max) {
  const std::uint64_t length = content.length();
  if (offset >= length) return {};
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(max, length - offset));
  if (content.kind == Content::Kind::bytes)
    return std::string_view(*content.bytes).substr(static_cast<std::size_t>(offset), n);
  if (content.kind == Content::Kind::generated &&
      content.bytes->size() == std::min(content.size, kGeneratedPeriod)) {
    const std::size_t at = static_cast<std::size_t>(offset % kGeneratedPeriod);
    return std::string_view(*content.bytes).substr(at, std::min(n, content.bytes->size() - at));
  }
  return {};
}

std::optional<std::string> read_all_content(const Content& content, std::size_t limit) {
  if (content.length() > limit) return std::nullopt;
  if (content.kind == Content::Kind::bytes) return *content.bytes;
  std::string error;
  std::string out = read_content(content, 0, static_cast<std::size_t>(content.length()), &error);
  if (!error.empty()) return std::nullopt;
  return out;
}

std::optional<std::string> read_regular_file(const std::string& path, std::uint64_t max,
                                             std::string& why) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; the type check below refuses it.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    why = std::strerror(errno);
    return std::nullopt;
  }
  struct stat st {};
  std::optional<std::string> out;
  if (::fstat(fd, &st) != 0) {
    why = std::strerror(errno);
  } else if (S_ISDIR(st.st_mode)) {
    why = "it is a folder, not a file";
  } else if (!S_ISREG(st.st_mode)) {
    why = "not a regular file (a device, FIFO or socket)";
  } else if (static_cast<std::uint64_t>(st.st_size) > max) {
    why = "larger than " + std::to_string(max >> 20) + " MiB (" + std::to_string(st.st_size) +
          " bytes)";
  } else {
    std::string text(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t got = 0;
    while (got < text.size()) {
      const ssize_t n = ::pread(fd, text.data() + got, text.size() - got, static_cast<off_t>(got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
    if (got == text.size()) {
      out = std::move(text);
    } else {
      why = "read error";
    }
  }
  ::close(fd);
  return out;
}

}  // namespace protofarm
