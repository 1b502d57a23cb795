#include "controller/show.hpp"

#include <iostream>

namespace protofarm {

int run_show(const ShowOptions&) {
  std::cerr << "protofarm show: not implemented yet\n";
  return 2;
}

}  // namespace protofarm
