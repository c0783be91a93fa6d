#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/domain/contact_points.h"
#include "leadflow/domain/domain_config.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/domain/identity.h"
#include "leadflow/processors/lead_read_model.h"
#include "leadflow/v1/service.pb.h"

namespace leadflow::api {

// (matched_on, key) per criterion of a duplicate search: ("phone",
// identity key), ("email", identity key), ("name+company",
// domain::NameCompanyKey). Refusals name the request field.
// What each criterion of a duplicate search looks up.
inline absl::StatusOr<std::vector<std::pair<std::string, std::string>>> DuplicateCriteria(
    const v1::FindDuplicateLeadsRequest& request, const domain::DomainConfig& config) {
  std::vector<std::pair<std::string, std::string>> criteria;  // (matched_on, index key)
  if (!request.phone().empty()) {
    LEADFLOW_ASSIGN_OR_RETURN(
        std::string phone, domain::NormalizePhone(request.phone(), config.default_region, "phone"));
    criteria.emplace_back("phone", domain::PhoneIdentityKey(phone));
  }
  if (!request.email().empty()) {
    LEADFLOW_ASSIGN_OR_RETURN(std::string email, domain::NormalizeEmail(request.email(), "email"));
    criteria.emplace_back("email", domain::EmailIdentityKey(email));
  }
  if (request.name().empty() != request.company_title().empty()) {
    return domain::InvalidField(request.name().empty() ? "name" : "company_title",
                                "name and company_title go together");
  }
  if (!request.name().empty()) {
    std::string key = domain::NameCompanyKey(request.name(), request.company_title());
    if (key.empty()) return domain::InvalidField("name", "has no words");
    criteria.emplace_back("name+company", std::move(key));
  }
  if (criteria.empty()) {
    return domain::InvalidField("phone", "give a phone, an email, or a name with company_title");
  }
  return criteria;
}

// Fills a found duplicate as the caller may see it: `item` whole into
// `shown`, or, when the caller may not read it, only its name, with
// `hidden` set (it learns that a duplicate exists and what matched).
template <typename Duplicate, typename Item>
void ShowDuplicate(Item item, bool visible, std::vector<std::string> matched_on, Item* shown,
                   Duplicate* duplicate) {
  if (visible) {
    *shown = std::move(item);
  } else {
    shown->set_name(item.name());
    duplicate->set_hidden(true);
  }
  for (auto& m : matched_on) duplicate->add_matched_on(std::move(m));
}

// Where a duplicate search's pages stand: the page size, and per list
// (leads; or leads, contacts, companies) the last id already returned ("" at
// the start), or nullopt once that list is complete.
struct DuplicatePage {
  size_t size = 50;
  std::vector<std::optional<std::string>> after;
};

inline constexpr absl::string_view kDuplicatePagePrefix = "dup1:";

inline absl::StatusOr<DuplicatePage> ParseDuplicatePage(
    const v1::FindDuplicateLeadsRequest& request, size_t lists) {
  if (request.page_size() < 0) return domain::InvalidField("page_size", "negative");
  DuplicatePage page;
  page.size = request.page_size() == 0 ? 50 : std::min(request.page_size(), 1000);
  page.after.assign(lists, std::string());
  if (request.page_token().empty()) return page;
  absl::string_view token = request.page_token();
  const std::vector<absl::string_view> parts =
      absl::StrSplit(token.substr(std::min(token.size(), kDuplicatePagePrefix.size())), '/');
  if (!absl::StartsWith(token, kDuplicatePagePrefix) || parts.size() != lists) {
    return domain::InvalidField("page_token", "not a token of this search");
  }
  for (size_t i = 0; i < lists; ++i) {
    if (parts[i] == "!") {
      page.after[i].reset();
      continue;
    }
    for (char c : parts[i]) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
        return domain::InvalidField("page_token", "not a token of this search");
      }
    }
    page.after[i] = std::string(parts[i]);
  }
  return page;
}

// The token of the next page; "" when every list is complete.
inline std::string DuplicatePageToken(const std::vector<std::optional<std::string>>& after) {
  bool more = false;
  std::vector<std::string> parts;
  for (const auto& list : after) {
    more = more || list.has_value();
    parts.push_back(list.has_value() ? *list : "!");
  }
  return more ? absl::StrCat(kDuplicatePagePrefix, absl::StrJoin(parts, "/")) : "";
}

// One list's page: ids after `*after` matched by any criterion, at most
// `size`, in id order, each with the criteria it matched. `find(matched_on,
// key, after, limit)` looks one criterion up. Sets `*after` to where the
// next page starts, or nullopt when this page ends the list. The first
// `size` of the union are among the first `size` + 1 of each criterion.
using FindMatches = std::function<absl::StatusOr<std::vector<std::string>>(
    const std::string& matched_on, const std::string& key, absl::string_view after, size_t limit)>;
inline absl::StatusOr<std::map<std::string, std::vector<std::string>>> DuplicateMatches(
    const std::vector<std::pair<std::string, std::string>>& criteria, const FindMatches& find,
    size_t size, std::optional<std::string>* after) {
  std::map<std::string, std::vector<std::string>> matches;
  if (!after->has_value()) return matches;
  for (const auto& [matched_on, key] : criteria) {
    LEADFLOW_ASSIGN_OR_RETURN(std::vector<std::string> ids,
                              find(matched_on, key, **after, size + 1));
    for (auto& id : ids) matches[std::move(id)].push_back(matched_on);
  }
  if (matches.size() <= size) {
    after->reset();
    return matches;
  }
  matches.erase(std::next(matches.begin(), static_cast<std::ptrdiff_t>(size)), matches.end());
  *after = matches.rbegin()->first;
  return matches;
}

// FindMatches over the leads' indexes.
inline FindMatches LeadMatches(const processors::LeadReadModel* leads) {
  return [leads](const std::string& matched_on, const std::string& key, absl::string_view after,
                 size_t limit) {
    return matched_on == "name+company" ? leads->FindByNameCompany(key, after, limit)
                                        : leads->FindByIdentity(key, after, limit);
  };
}

}  // namespace leadflow::api
