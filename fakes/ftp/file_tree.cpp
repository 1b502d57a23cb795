#include "fakes/ftp/file_tree.hpp"

#include <cstring>
#include <fstream>

#include "fakes/common/bytes.hpp"

namespace protofarm::ftp {

namespace {

// The names of a normalized absolute path ("/a/b" -> a, b).
std::vector<std::string_view> names(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t start = 1;
  while (start < path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

EntryInfo info_of(const std::string& name, const Node& n, bool writable) {
  EntryInfo e;
  e.name = name;
  e.dir = n.dir;
  e.size = n.dir ? 0 : n.content.length();
  e.mtime = n.mtime;
  e.mode = n.mode;
  e.writable = writable;
  return e;
}

// An entry and everything below it.
std::size_t count(const Node& n) {
  std::size_t total = 1;
  for (const auto& [name, child] : n.children) total += count(*child);
  return total;
}

}  // namespace

FileTree::FileTree(TimePoint default_mtime) : default_mtime_(default_mtime) {
  root_.dir = true;
  root_.mode = 0755;
  root_.mtime = default_mtime;
}

Node* FileTree::find(std::string_view path) {
  return const_cast<Node*>(static_cast<const FileTree*>(this)->find(path));
}

const Node* FileTree::find(std::string_view path) const {
  const Node* n = &root_;
  for (std::string_view name : names(path)) {
    if (!n->dir) return nullptr;
    const auto it = n->children.find(name);
    if (it == n->children.end()) return nullptr;
    n = it->second.get();
  }
  return n;
}

Node* FileTree::make_dirs(std::string_view path) {
  Node* n = &root_;
  for (std::string_view name : names(path)) {
    if (!n->dir) return nullptr;
    auto it = n->children.find(name);
    if (it == n->children.end()) {
      auto child = std::make_unique<Node>();
      child->dir = true;
      child->mode = 0755;
      child->mtime = default_mtime_;
      it = n->children.emplace(std::string(name), std::move(child)).first;
      ++entries_;
    }
    n = it->second.get();
  }
  return n->dir ? n : nullptr;
}

Node* FileTree::put_file(std::string_view path, Content content, std::optional<TimePoint> mtime) {
  const auto parts = names(path);
  if (parts.empty()) return nullptr;
  Node* parent = make_dirs(parent_of(path));
  if (!parent) return nullptr;
  auto it = parent->children.find(parts.back());
  if (it != parent->children.end()) {
    if (it->second->dir) return nullptr;
  } else {
    it = parent->children.emplace(std::string(parts.back()), std::make_unique<Node>()).first;
    ++entries_;
  }
  Node& n = *it->second;
  n.content = std::move(content);
  n.mtime = mtime.value_or(default_mtime_);
  return &n;
}

bool FileTree::remove(std::string_view path) {
  const auto parts = names(path);
  if (parts.empty()) return false;
  Node* parent = find(parent_of(path));
  if (!parent || !parent->dir) return false;
  const auto it = parent->children.find(parts.back());
  if (it == parent->children.end()) return false;
  entries_ -= count(*it->second);
  parent->children.erase(it);
  return true;
}

bool FileTree::rename(std::string_view from, std::string_view to) {
  if (from == "/" || to == "/" || from == to) return false;
  if (to.starts_with(from) && to.size() > from.size() && to[from.size()] == '/') return false;
  Node* source_parent = find(parent_of(from));
  Node* target_parent = find(parent_of(to));
  if (!source_parent || !target_parent || !target_parent->dir) return false;
  const auto it = source_parent->children.find(base_name(from));
  if (it == source_parent->children.end()) return false;
  const std::string target = base_name(to);
  const auto existing = target_parent->children.find(target);
  if (existing != target_parent->children.end()) {
    if (existing->second->dir) return false;
    entries_ -= count(*existing->second);
    target_parent->children.erase(existing);
  }
  std::unique_ptr<Node> node = std::move(it->second);
  source_parent->children.erase(it);
  target_parent->children.emplace(target, std::move(node));
  return true;
}

bool FileTree::writable(std::string_view folder) const {
  const Node* n = &root_;
  if (n->write) return true;
  for (std::string_view name : names(folder)) {
    if (!n->dir) return false;
    const auto it = n->children.find(name);
    if (it == n->children.end()) return false;
    n = it->second.get();
    if (n->write) return true;
  }
  return false;
}

std::vector<EntryInfo> FileTree::list(std::string_view path) const {
  std::vector<EntryInfo> out;
  const Node* n = find(path);
  if (!n) return out;
  if (!n->dir) {
    out.push_back(info_of(base_name(path), *n, writable(parent_of(path))));
    return out;
  }
  const bool w = writable(path);
  // A file's changes are its folder's to allow; a folder's, its own (write is inherited).
  for (const auto& [name, child] : n->children)
    out.push_back(info_of(name, *child, w || (child->dir && child->write)));
  return out;
}

EntryInfo FileTree::info(std::string_view path) const {
  const Node* n = find(path);
  if (!n) return {};
  const std::string name = path == "/" ? "/" : base_name(path);
  return info_of(name, *n, writable(n->dir ? path : parent_of(path)));
}

namespace {

std::unique_ptr<Node> clone(const Node& node) {
  auto copy = std::make_unique<Node>();
  copy->dir = node.dir;
  copy->content = node.content;  // the bytes are shared, never changed in place
  copy->mtime = node.mtime;
  copy->mode = node.mode;
  copy->write = node.write;
  for (const auto& [name, child] : node.children) copy->children.emplace(name, clone(*child));
  return copy;
}

}  // namespace

void FileTree::mark_start() {
  start_ = clone(root_);
  start_entries_ = entries_;
}

void FileTree::reset() {
  if (!start_) return;
  root_ = std::move(*clone(*start_));
  entries_ = start_entries_;
}

}  // namespace protofarm::ftp
