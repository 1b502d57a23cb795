// Precompiled header for the targets that use Asio: parsing these once saves most of the
// per-file build time.
#pragma once

#include <yaml-cpp/yaml.h>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/regex.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
