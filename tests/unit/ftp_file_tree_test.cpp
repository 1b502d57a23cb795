// The FTP fake's virtual file system: folders and files, what may be changed, listings, and
// content that is bytes, generated from a seed, or read from disk a piece at a time.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "fakes/ftp/file_tree.hpp"

namespace protofarm::ftp {
namespace {

using namespace std::string_literals;

TimePoint utc(int y, unsigned m, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return std::chrono::sys_days{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}} +
         std::chrono::hours{h} + std::chrono::minutes{mi} + std::chrono::seconds{s};
}

const TimePoint kClock = utc(2026, 1, 1);

Content text(std::string s) {
  Content c;
  c.bytes = std::make_shared<const std::string>(std::move(s));
  return c;
}

Content generated(std::uint64_t size, std::uint64_t seed) {
  Content c;
  c.kind = Content::Kind::generated;
  c.size = size;
  c.seed = seed;
  return c;
}

std::string content_of(const FileTree& tree, std::string_view path) {
  const Node* n = tree.find(path);
  if (!n || n->dir) return "<none>";
  return read_content(n->content, 0, 1 << 20);
}

std::vector<std::string> names(const std::vector<EntryInfo>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.name);
  return out;
}

// --- folders and files --------------------------------------------------------------------------

TEST(FtpFileTree, RootIsAlwaysAFolder) {
  FileTree tree(kClock);
  const Node* root = tree.find("/");
  ASSERT_NE(root, nullptr);
  EXPECT_TRUE(root->dir);
  EXPECT_EQ(root->mode, 0755u);
  EXPECT_EQ(root->mtime, kClock);
  EXPECT_EQ(tree.entries(), 0u);
  EXPECT_EQ(tree.find("/nothing"), nullptr);
}

TEST(FtpFileTree, MakeDirsCreatesParents) {
  FileTree tree(kClock);
  Node* b = tree.make_dirs("/a/b");
  ASSERT_NE(b, nullptr);
  EXPECT_TRUE(b->dir);
  EXPECT_EQ(b->mode, 0755u);
  EXPECT_EQ(b->mtime, kClock);
  ASSERT_NE(tree.find("/a"), nullptr);
  EXPECT_TRUE(tree.find("/a")->dir);
  EXPECT_EQ(tree.entries(), 2u);
  // Again: the same folder, nothing new.
  EXPECT_EQ(tree.make_dirs("/a/b"), b);
  EXPECT_EQ(tree.make_dirs("/"), tree.find("/"));
  EXPECT_EQ(tree.entries(), 2u);
}

TEST(FtpFileTree, PutFileCreatesParentsAndReplaces) {
  FileTree tree(kClock);
  Node* f = tree.put_file("/a/b/c.txt", text("hi"));
  ASSERT_NE(f, nullptr);
  EXPECT_FALSE(f->dir);
  EXPECT_EQ(f->mtime, kClock);  // the tree's default time
  EXPECT_EQ(content_of(tree, "/a/b/c.txt"), "hi");
  EXPECT_TRUE(tree.find("/a/b")->dir);
  EXPECT_EQ(tree.entries(), 3u);
  // Replacing a file: new content and time, the same entry.
  f->mode = 0600;
  Node* g = tree.put_file("/a/b/c.txt", text("new"), utc(2020, 1, 1));
  EXPECT_EQ(g, f);
  EXPECT_EQ(content_of(tree, "/a/b/c.txt"), "new");
  EXPECT_EQ(g->mtime, utc(2020, 1, 1));
  EXPECT_EQ(tree.entries(), 3u);
}

TEST(FtpFileTree, FolderOrFileInTheWay) {
  FileTree tree(kClock);
  ASSERT_NE(tree.put_file("/a/file", text("x")), nullptr);
  // A folder where a file is, or below a file.
  EXPECT_EQ(tree.make_dirs("/a/file"), nullptr);
  EXPECT_EQ(tree.make_dirs("/a/file/sub"), nullptr);
  // A file where a folder is, below a file, or as the root.
  EXPECT_EQ(tree.put_file("/a", text("y")), nullptr);
  EXPECT_EQ(tree.put_file("/a/file/inner", text("y")), nullptr);
  EXPECT_EQ(tree.put_file("/", text("y")), nullptr);
  EXPECT_TRUE(tree.find("/a")->dir);
  EXPECT_EQ(content_of(tree, "/a/file"), "x");
  // Below a file there is nothing.
  EXPECT_EQ(tree.find("/a/file/inner"), nullptr);
}

TEST(FtpFileTree, Remove) {
  FileTree tree(kClock);
  tree.put_file("/a/x", text("1"));
  tree.put_file("/a/sub/y", text("2"));
  tree.put_file("/b", text("3"));
  EXPECT_TRUE(tree.remove("/b"));
  EXPECT_EQ(tree.find("/b"), nullptr);
  EXPECT_FALSE(tree.remove("/b"));  // not there any more
  EXPECT_FALSE(tree.remove("/"));   // the root stays
  EXPECT_FALSE(tree.remove("/nope/x"));
  EXPECT_FALSE(tree.remove("/a/x/below"));
  // A folder goes with everything in it.
  EXPECT_TRUE(tree.remove("/a"));
  EXPECT_EQ(tree.find("/a"), nullptr);
  EXPECT_EQ(tree.find("/a/sub/y"), nullptr);
  EXPECT_TRUE(tree.list("/").empty());
}

// remove() takes away a whole folder, and entries() everything that was in it.
TEST(FtpFileTree, EntriesCountsWhatARemovedFolderHeld) {
  FileTree tree(kClock);
  tree.put_file("/a/x", text("1"));
  tree.put_file("/a/sub/y", text("2"));
  EXPECT_EQ(tree.entries(), 4u);  // a, x, sub, y
  EXPECT_TRUE(tree.remove("/a"));
  EXPECT_EQ(tree.entries(), 0u);
}

// --- rename
// ---------------------------------------------------------------------------------------

TEST(FtpFileTree, RenameMovesAnEntry) {
  FileTree tree(kClock);
  tree.put_file("/a/x", text("payload"));
  tree.make_dirs("/b");
  EXPECT_TRUE(tree.rename("/a/x", "/b/y"));
  EXPECT_EQ(tree.find("/a/x"), nullptr);
  EXPECT_EQ(content_of(tree, "/b/y"), "payload");
  // A folder moves with what is in it.
  tree.put_file("/d/inner/f", text("deep"));
  EXPECT_TRUE(tree.rename("/d", "/b/d2"));
  EXPECT_EQ(tree.find("/d"), nullptr);
  EXPECT_EQ(content_of(tree, "/b/d2/inner/f"), "deep");
  // A name that only starts like the source is not below it.
  EXPECT_TRUE(tree.rename("/b", "/bb"));
  EXPECT_EQ(content_of(tree, "/bb/y"), "payload");
}

TEST(FtpFileTree, RenameIntoItselfIsRefused) {
  FileTree tree(kClock);
  tree.put_file("/a/b/f", text("1"));
  EXPECT_FALSE(tree.rename("/a", "/a/b/z"));
  EXPECT_FALSE(tree.rename("/a", "/a/z"));
  EXPECT_FALSE(tree.rename("/a", "/a"));
  EXPECT_FALSE(tree.rename("/", "/z"));
  EXPECT_FALSE(tree.rename("/a/b/f", "/"));
  EXPECT_EQ(content_of(tree, "/a/b/f"), "1");
}

TEST(FtpFileTree, RenameReplacesAFile) {
  FileTree tree(kClock);
  tree.put_file("/x", text("new"));
  tree.put_file("/y", text("old"));
  EXPECT_EQ(tree.entries(), 2u);
  EXPECT_TRUE(tree.rename("/x", "/y"));
  EXPECT_EQ(tree.find("/x"), nullptr);
  EXPECT_EQ(content_of(tree, "/y"), "new");
  EXPECT_EQ(tree.entries(), 1u);
}

TEST(FtpFileTree, RenameRefusedWhenTheTargetCannotBe) {
  FileTree tree(kClock);
  tree.put_file("/x", text("1"));
  tree.make_dirs("/folder");
  tree.put_file("/file", text("2"));
  EXPECT_FALSE(tree.rename("/x", "/folder"));     // a folder in the way
  EXPECT_FALSE(tree.rename("/x", "/missing/x"));  // no such parent
  EXPECT_FALSE(tree.rename("/x", "/file/x"));     // the parent is a file
  EXPECT_FALSE(tree.rename("/missing", "/y"));    // nothing to move
  EXPECT_FALSE(tree.rename("/file/x", "/y"));     // nothing below a file
  EXPECT_EQ(content_of(tree, "/x"), "1");
  EXPECT_EQ(content_of(tree, "/file"), "2");
  EXPECT_TRUE(tree.find("/folder")->dir);
}

// --- write permission
// -----------------------------------------------------------------------------

TEST(FtpFileTree, WritableIsInheritedDownwards) {
  FileTree tree(kClock);
  tree.make_dirs("/pub/sub/deeper");
  tree.make_dirs("/incoming/sub");
  tree.make_dirs("/other");
  tree.find("/incoming")->write = true;
  EXPECT_FALSE(tree.writable("/"));
  EXPECT_FALSE(tree.writable("/pub"));
  EXPECT_FALSE(tree.writable("/pub/sub/deeper"));
  EXPECT_TRUE(tree.writable("/incoming"));
  EXPECT_TRUE(tree.writable("/incoming/sub"));
  EXPECT_FALSE(tree.writable("/other"));
  EXPECT_FALSE(tree.writable("/missing"));
  // A folder's own flag counts from there down only.
  tree.find("/pub/sub")->write = true;
  EXPECT_FALSE(tree.writable("/pub"));
  EXPECT_TRUE(tree.writable("/pub/sub"));
  EXPECT_TRUE(tree.writable("/pub/sub/deeper"));
  // Write on the root: everything.
  tree.find("/")->write = true;
  EXPECT_TRUE(tree.writable("/"));
  EXPECT_TRUE(tree.writable("/other"));
}

// --- list and info
// --------------------------------------------------------------------------------

TEST(FtpFileTree, ListIsSortedByName) {
  FileTree tree(kClock);
  tree.put_file("/d/b", text("bb"));
  tree.put_file("/d/a", text("a"), utc(2020, 1, 1));
  tree.put_file("/d/C", text("ccc"));
  tree.make_dirs("/d/sub");
  tree.find("/d/a")->mode = 0600;
  const auto entries = tree.list("/d");
  // Byte order, as ls in the C locale: upper case first.
  EXPECT_EQ(names(entries), (std::vector<std::string>{"C", "a", "b", "sub"}));
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_FALSE(entries[1].dir);
  EXPECT_EQ(entries[1].size, 1u);
  EXPECT_EQ(entries[1].mtime, utc(2020, 1, 1));
  EXPECT_EQ(entries[1].mode, 0600u);
  EXPECT_FALSE(entries[1].writable);
  EXPECT_EQ(entries[0].size, 3u);
  EXPECT_TRUE(entries[3].dir);
  EXPECT_EQ(entries[3].size, 0u);
  EXPECT_EQ(entries[3].mode, 0755u);
  EXPECT_EQ(entries[3].mtime, kClock);
}

TEST(FtpFileTree, ListOfAFileIsTheFileAndOfNothingIsEmpty) {
  FileTree tree(kClock);
  tree.put_file("/pub/readme.txt", text("hello"));
  tree.find("/pub")->write = true;
  const auto one = tree.list("/pub/readme.txt");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].name, "readme.txt");
  EXPECT_EQ(one[0].size, 5u);
  EXPECT_TRUE(one[0].writable);  // its folder may be changed
  EXPECT_TRUE(tree.list("/missing").empty());
  tree.make_dirs("/empty");
  EXPECT_TRUE(tree.list("/empty").empty());
}

TEST(FtpFileTree, ListedEntriesAreWritableWithTheirFolder) {
  FileTree tree(kClock);
  tree.put_file("/incoming/f", text("1"));
  tree.make_dirs("/incoming/sub");
  tree.find("/incoming")->write = true;
  for (const auto& e : tree.list("/incoming")) EXPECT_TRUE(e.writable) << e.name;
  // In "/", the folder "incoming" has its own write: what is inside it may be changed.
  for (const auto& e : tree.list("/")) EXPECT_EQ(e.writable, e.name == "incoming") << e.name;
}

TEST(FtpFileTree, Info) {
  FileTree tree(kClock);
  tree.put_file("/pub/readme.txt", text("hello"), utc(2020, 1, 1));
  const EntryInfo root = tree.info("/");
  EXPECT_EQ(root.name, "/");
  EXPECT_TRUE(root.dir);
  EXPECT_EQ(root.mode, 0755u);
  const EntryInfo f = tree.info("/pub/readme.txt");
  EXPECT_EQ(f.name, "readme.txt");
  EXPECT_FALSE(f.dir);
  EXPECT_EQ(f.size, 5u);
  EXPECT_EQ(f.mtime, utc(2020, 1, 1));
  EXPECT_EQ(f.mode, 0644u);
  EXPECT_FALSE(f.writable);
  const EntryInfo d = tree.info("/pub");
  EXPECT_EQ(d.name, "pub");
  EXPECT_TRUE(d.dir);
  EXPECT_EQ(d.size, 0u);
  // A folder is writable by its own flag, a file by its folder's.
  tree.find("/pub")->write = true;
  EXPECT_TRUE(tree.info("/pub").writable);
  EXPECT_TRUE(tree.info("/pub/readme.txt").writable);
  EXPECT_FALSE(tree.info("/").writable);
  // Nothing there: an empty entry.
  const EntryInfo none = tree.info("/missing");
  EXPECT_EQ(none.name, "");
  EXPECT_FALSE(none.dir);
  EXPECT_EQ(none.size, 0u);
}

TEST(FtpFileTree, GeneratedFileSizeInListings) {
  FileTree tree(kClock);
  tree.put_file("/big.bin", generated(std::uint64_t{5} << 30, 7));
  EXPECT_EQ(tree.info("/big.bin").size, std::uint64_t{5368709120});
  EXPECT_EQ(tree.find("/big.bin")->content.length(), std::uint64_t{5368709120});
}

// --- content
// ----------------------------------------------------------------------------------------

TEST(FtpFileTree, GeneratedBytesAreDeterministic) {
  const std::string a = generated_bytes(42, 0, 64);
  EXPECT_EQ(a.size(), 64u);
  EXPECT_EQ(generated_bytes(42, 0, 64), a);
  EXPECT_NE(generated_bytes(43, 0, 64), a);  // another seed, other bytes
  // Not one block repeated.
  EXPECT_NE(a.substr(0, 8), a.substr(8, 8));
  EXPECT_EQ(generated_bytes(42, 5, 0), "");
}

TEST(FtpFileTree, GeneratedBytesAllowRandomAccess) {
  // The bytes at offset k are the same however they are read: whole, in pieces, unaligned.
  const std::string whole = generated_bytes(99, 0, 4096);
  for (const std::uint64_t k : {1u, 7u, 8u, 9u, 13u, 63u, 64u, 1000u, 4000u})
    for (const std::size_t n : {1u, 3u, 8u, 17u, 96u})
      EXPECT_EQ(generated_bytes(99, k, n), whole.substr(k, n)) << "offset " << k << " n " << n;
  std::string pieces;
  for (std::uint64_t at = 0; at < 4096; at += 37)
    pieces += generated_bytes(99, at, std::min<std::uint64_t>(37, 4096 - at));
  EXPECT_EQ(pieces, whole);
  // Far into a huge file, too.
  const std::uint64_t far = std::uint64_t{1} << 40;
  EXPECT_EQ(generated_bytes(99, far + 3, 10), generated_bytes(99, far, 16).substr(3, 10));
}

TEST(FtpFileTree, ReadGeneratedContent) {
  const Content c = generated(1000, 5);
  const std::string all = read_content(c, 0, 4096);
  EXPECT_EQ(all, generated_bytes(5, 0, 1000));
  EXPECT_EQ(read_content(c, 123, 50), all.substr(123, 50));
  EXPECT_EQ(read_content(c, 990, 50), all.substr(990));  // fewer at the end
  EXPECT_EQ(read_content(c, 1000, 50), "");              // at the end
  EXPECT_EQ(read_content(c, 5000, 50), "");              // past it
}

TEST(FtpFileTree, ReadBytesContent) {
  const Content c = text("0123456789");
  EXPECT_EQ(read_content(c, 0, 4), "0123");
  EXPECT_EQ(read_content(c, 3, 4), "3456");
  EXPECT_EQ(read_content(c, 8, 100), "89");
  EXPECT_EQ(read_content(c, 10, 1), "");
  EXPECT_EQ(read_content(c, 11, 1), "");
  EXPECT_EQ(read_content(c, 0, 0), "");
  EXPECT_EQ(read_content(text(""), 0, 10), "");
}

TEST(FtpFileTree, ReadDiskContent) {
  const std::filesystem::path file =
      std::filesystem::temp_directory_path() / ("ftp-file-tree-test-" + std::to_string(::getpid()));
  std::ofstream(file, std::ios::binary) << "0123456789\0x"s;
  Content c;
  c.kind = Content::Kind::disk;
  c.file = file.string();
  c.size = 12;
  std::string error;
  EXPECT_EQ(read_content(c, 3, 4, &error), "3456");
  EXPECT_EQ(read_content(c, 8, 100, &error), "89\0x"s);
  EXPECT_EQ(read_content(c, 12, 100, &error), "");
  EXPECT_EQ(error, "");
  EXPECT_EQ(read_all_content(c, 100), "0123456789\0x"s);
  std::filesystem::remove(file);
  // A file that cannot be read gives nothing, and says why.
  EXPECT_EQ(read_content(c, 0, 4, &error), "");
  EXPECT_EQ(error.rfind("cannot read " + file.string() + ": ", 0), 0u) << error;
  EXPECT_EQ(read_all_content(c, 100), std::nullopt);
}

TEST(FtpFileTree, ReadAllHasALimit) {
  EXPECT_EQ(read_all_content(text("hello"), 5), "hello");
  EXPECT_EQ(read_all_content(text("hello"), 4), std::nullopt);
  EXPECT_EQ(read_all_content(text(""), 0), "");
  EXPECT_EQ(read_all_content(generated(100, 3), 100), generated_bytes(3, 0, 100));
  EXPECT_EQ(read_all_content(generated(101, 3), 100), std::nullopt);
  EXPECT_EQ(read_all_content(generated(std::uint64_t{1} << 40, 3), 1 << 20), std::nullopt);
}

}  // namespace
}  // namespace protofarm::ftp
