#include "controller/verify.hpp"

#include <iostream>

namespace protofarm {

int run_verify(const VerifyOptions&) {
  std::cerr << "protofarm verify: not implemented yet\n";
  return 2;
}

}  // namespace protofarm
