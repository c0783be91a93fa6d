#include "support/read_models.h"

#include <catch2/catch.hpp>

#include "absl/strings/string_view.h"
#include "leadflow/store/database.h"

namespace leadflow::testing {

std::map<std::string, std::string> ReadModels(const std::string& data_dir) {
  auto db = store::Database::Open({data_dir, false});
  REQUIRE(db.ok());
  std::map<std::string, std::string> views;
  REQUIRE((*db)
              ->Scan(store::Keyspace::kViews, "", "",
                     [&](absl::string_view key, absl::string_view value) {
                       views.emplace(std::string(key), std::string(value));
                       return true;
                     })
              .ok());
  return views;
}

std::string FirstDifference(const std::map<std::string, std::string>& a,
                            const std::map<std::string, std::string>& b) {
  for (const auto& [key, value] : a) {
    auto it = b.find(key);
    if (it == b.end() || it->second != value) return key;
  }
  for (const auto& [key, value] : b) {
    if (a.find(key) == a.end()) return key;
  }
  return "";
}

}  // namespace leadflow::testing
