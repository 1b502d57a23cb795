// The FTP fake's virtual file system: the scenario's `tree:`, plus what clients upload during the
// run. Nothing here touches the real file system but a `{file: ...}` entry's own file (read a
// chunk at a time when it is sent); generated content (`{size: 1GiB}`) is computed from the seed
// a block at a time, so it costs no memory and no disk.
//
// Paths are absolute and normalized (ftp_codec.hpp resolve_path()); "/" is the root and always a
// folder. A file entry implies its parent folders. `write` on a folder lets clients change what
// is below it (a folder inherits it from its parents).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fakes/common/content.hpp"
#include "fakes/ftp/ftp_codec.hpp"

namespace protofarm::ftp {

using TimePoint = std::chrono::system_clock::time_point;

struct Node {
  bool dir = false;
  Content content;
  TimePoint mtime;
  unsigned mode = 0644;
  bool write = false;  // set on this entry (folders: inherited below)
  std::map<std::string, std::unique_ptr<Node>, std::less<>> children;
};

class FileTree {
 public:
  explicit FileTree(TimePoint default_mtime = {});

  // The entry at a normalized absolute path, or nullptr.
  Node* find(std::string_view path);
  const Node* find(std::string_view path) const;
  // Creates the folder (and its parents); returns nullptr when a file is in the way.
  Node* make_dirs(std::string_view path);
  // Creates or replaces the file (parents are created); nullptr when a folder is in the way.
  Node* put_file(std::string_view path, Content content, std::optional<TimePoint> mtime = {});
  // Removes an entry (a folder with everything in it); false when it is not there.
  bool remove(std::string_view path);
  // Moves an entry; false when `from` is missing, `to`'s parent is not a folder, or `to` is
  // `from` or below it. Replaces a file at `to`.
  bool rename(std::string_view from, std::string_view to);

  // Whether clients may change what is inside this folder (its own `write` or a parent's).
  bool writable(std::string_view folder) const;
  // The entries of a folder, sorted by name; for a file, the file itself.
  std::vector<EntryInfo> list(std::string_view path) const;
  EntryInfo info(std::string_view path) const;

  std::size_t entries() const { return entries_; }

  // Remembers the tree as the scenario made it; reset() comes back to that (uploads, folders
  // made, renames and deletions are undone). Sessions look entries up by path each time, so
  // none holds a node across the reset.
  void mark_start();
  void reset();

 private:
  Node root_;
  std::unique_ptr<Node> start_;
  std::size_t start_entries_ = 0;
  TimePoint default_mtime_;
  std::size_t entries_ = 0;
};

}  // namespace protofarm::ftp
