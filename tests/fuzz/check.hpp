// What every fuzz target checks its properties with: check(ok) crashes with the file, the line
// and the text of a property that does not hold, so that libFuzzer saves the input (and the
// corpus replay in `make test` fails on it).
#pragma once

#include <cstdio>
#include <cstdlib>

namespace fuzz {

[[noreturn]] inline void fail(const char* what, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: property broken: %s\n", file, line, what);
  std::abort();
}

}  // namespace fuzz

#define check(ok) ((ok) ? (void)0 : ::fuzz::fail(#ok, __FILE__, __LINE__))
