#include "leadflow/processors/item_read_model.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "index_key.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/domain/access_policy.h"
#include "leadflow/domain/aggregate.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/domain/identity.h"
#include "leadflow/domain/list_filter.h"
#include "leadflow/domain/robots.h"

namespace leadflow::processors {
namespace {

constexpr absl::string_view kPageTokenPrefix = "v1:";

std::string IndexPrefix(absl::string_view type, absl::string_view index, absl::string_view value) {
  return IndexKeyPrefix(absl::StrCat("ix/", type, "/", index, "/"), value);
}

std::string TypePrefix(absl::string_view type) { return absl::StrCat("item/", type, "/"); }

void AddIfSet(std::vector<std::pair<std::string, std::string>>& terms, absl::string_view index,
              absl::string_view value) {
  if (!value.empty()) terms.emplace_back(std::string(index), std::string(value));
}

}  // namespace

std::string ItemReadModel::ItemKey(absl::string_view type, absl::string_view id) {
  return absl::StrCat(TypePrefix(type), id);
}

std::vector<std::pair<std::string, std::string>> ItemReadModel::IndexTerms(
    const v1::AggregateState& item) {
  std::vector<std::pair<std::string, std::string>> terms;
  switch (item.state_case()) {
    case v1::AggregateState::kContact: {
      const auto& c = item.contact();
      AddIfSet(terms, "responsible", c.responsible_id());
      for (const auto& company : c.company_ids()) AddIfSet(terms, "company", company);
      AddIfSet(terms, "source_lead", c.source_lead_id());
      for (const auto& key : c.identity_keys()) AddIfSet(terms, "identity", key);
      break;
    }
    case v1::AggregateState::kCompany: {
      const auto& c = item.company();
      AddIfSet(terms, "responsible", c.responsible_id());
      AddIfSet(terms, "source_lead", c.source_lead_id());
      for (const auto& key : c.identity_keys()) AddIfSet(terms, "identity", key);
      AddIfSet(terms, "title", domain::CompanyTitleKey(c.title()));
      break;
    }
    case v1::AggregateState::kDeal: {
      const auto& d = item.deal();
      AddIfSet(terms, "responsible", d.responsible_id());
      AddIfSet(terms, "pipeline", d.pipeline_id());
      AddIfSet(terms, "stage", d.stage_id());
      AddIfSet(terms, "contact", d.contact_id());
      AddIfSet(terms, "company", d.company_id());
      AddIfSet(terms, "source_lead", d.source_lead_id());
      break;
    }
    case v1::AggregateState::kActivity: {
      const auto& a = item.activity();
      AddIfSet(terms, "owner", a.owner());
      AddIfSet(terms, "responsible", a.responsible_id());
      AddIfSet(terms, "state", v1::ActivityState_Name(a.state()));
      break;
    }
    default:
      break;
  }
  return terms;
}

absl::StatusOr<std::optional<v1::AggregateState>> ItemReadModel::Get(absl::string_view type,
                                                                     absl::string_view id) const {
  LEADFLOW_ASSIGN_OR_RETURN(auto bytes, db_->Get(store::Keyspace::kViews, ItemKey(type, id)));
  if (!bytes.has_value()) return std::nullopt;
  v1::AggregateState item;
  LEADFLOW_RETURN_IF_ERROR(ParseProto(*bytes, &item, "read model item"));
  return item;
}

absl::StatusOr<std::optional<v1::AggregateState>> ItemReadModel::Get(ProcessorTransaction& txn,
                                                                     absl::string_view type,
                                                                     absl::string_view id) const {
  LEADFLOW_ASSIGN_OR_RETURN(auto bytes, txn.Get(store::Keyspace::kViews, ItemKey(type, id)));
  if (!bytes.has_value()) return std::nullopt;
  v1::AggregateState item;
  LEADFLOW_RETURN_IF_ERROR(ParseProto(*bytes, &item, "read model item"));
  return item;
}

absl::StatusOr<ItemReadModel::Page> ItemReadModel::List(
    absl::string_view type, const std::vector<Filter>& filters, int32_t page_size,
    absl::string_view page_token,
    const std::function<bool(const v1::AggregateState&)>& visible) const {
  static const std::vector<std::pair<std::string, std::vector<std::string>>> kIndexes = {
      {"contact", {"responsible", "company", "source_lead", "identity"}},
      {"company", {"responsible", "source_lead", "identity", "title"}},
      {"deal", {"responsible", "pipeline", "stage", "contact", "company", "source_lead"}},
      {"activity", {"owner", "responsible", "state"}},
      {"pipeline", {}},
      {"api_key", {}},
      {"access", {}}};
  const auto known = std::find_if(kIndexes.begin(), kIndexes.end(),
                                  [&](const auto& entry) { return entry.first == type; });
  for (const auto& filter : filters) {
    if (known == kIndexes.end() || std::find(known->second.begin(), known->second.end(),
                                             filter.index) == known->second.end()) {
      return domain::InvalidField(filter.field,
                                  absl::StrCat(type, " items are not filtered by ", filter.field));
    }
  }
  if (page_size < 0) return domain::InvalidField("page_size", "negative");
  std::string after;
  if (!page_token.empty()) {
    std::string decoded;
    if (!absl::WebSafeBase64Unescape(page_token, &decoded) ||
        !absl::StartsWith(decoded, kPageTokenPrefix)) {
      return domain::InvalidField("page_token", "not a token from a previous page");
    }
    after = decoded.substr(kPageTokenPrefix.size());
  }
  const int32_t limit = page_size == 0 ? 50 : std::min(page_size, 1000);
  const bool by_index = !filters.empty();
  const std::string prefix =
      by_index ? IndexPrefix(type, filters.front().index, filters.front().value) : TypePrefix(type);
  Page page;
  absl::Status status;
  LEADFLOW_RETURN_IF_ERROR(db_->Scan(
      store::Keyspace::kViews, prefix, prefix + after,
      [&](absl::string_view key, absl::string_view value) {
        std::string id(key.substr(prefix.size()));
        if (!after.empty() && id <= after) return true;
        v1::AggregateState item;
        if (by_index) {
          absl::StatusOr<std::optional<v1::AggregateState>> found = Get(type, id);
          if (!found.ok()) {
            status = found.status();
            return false;
          }
          if (!found->has_value()) return true;
          item = **std::move(found);
        } else {
          status = ParseProto(value, &item, "read model item");
          if (!status.ok()) return false;
        }
        const auto terms = IndexTerms(item);
        const bool matches = std::all_of(filters.begin(), filters.end(), [&](const Filter& f) {
          return std::find(terms.begin(), terms.end(), std::make_pair(f.index, f.value)) !=
                 terms.end();
        });
        if (!matches || (visible && !visible(item))) return true;
        if (static_cast<int32_t>(page.items.size()) == limit) {
          page.next_page_token = absl::WebSafeBase64Escape(absl::StrCat(kPageTokenPrefix, after));
          return false;
        }
        after = std::move(id);
        page.items.push_back(std::move(item));
        return true;
      }));
  LEADFLOW_RETURN_IF_ERROR(status);
  return page;
}

absl::StatusOr<std::vector<std::string>> ItemReadModel::FindIndexed(absl::string_view type,
                                                                    absl::string_view index,
                                                                    absl::string_view value,
                                                                    absl::string_view after,
                                                                    size_t limit) const {
  return IndexedIds(*db_, IndexPrefix(type, index, value), after, limit);
}

absl::StatusOr<v1::ClientMatch> ItemReadModel::FindClient(const v1::Lead& lead) const {
  v1::ClientMatch match;
  const auto keys = domain::LeadIdentityKeys(lead);
  auto matched_on = [](const std::string& key) { return key.substr(0, key.find(':')); };
  for (const auto& key : keys) {
    LEADFLOW_ASSIGN_OR_RETURN(auto ids, FindIndexed("contact", "identity", key));
    for (const auto& id : ids) {
      LEADFLOW_ASSIGN_OR_RETURN(auto contact, Get("contact", id));
      if (!contact.has_value()) continue;
      match.set_contact_id(id);
      if (contact->contact().company_ids_size() > 0) {
        match.set_company_id(contact->contact().company_ids(0));
      }
      match.set_responsible_id(contact->contact().responsible_id());
      match.set_matched_on(matched_on(key));
      return match;
    }
  }
  std::vector<std::pair<std::string, std::string>> company_terms;
  for (const auto& key : keys) company_terms.emplace_back("identity", key);
  const std::string title = domain::CompanyTitleKey(lead.company_title());
  if (!title.empty()) company_terms.emplace_back("title", title);
  for (const auto& [index, value] : company_terms) {
    LEADFLOW_ASSIGN_OR_RETURN(auto ids, FindIndexed("company", index, value));
    for (const auto& id : ids) {
      LEADFLOW_ASSIGN_OR_RETURN(auto company, Get("company", id));
      if (!company.has_value()) continue;
      match.set_company_id(id);
      match.set_responsible_id(company->company().responsible_id());
      match.set_matched_on(index == "title" ? "name+company" : matched_on(value));
      return match;
    }
  }
  return match;
}

void ItemReadModel::ConfigurationChanged() const {
  absl::MutexLock lock(&pipelines_mu_);
  ++pipelines_generation_;
  pipelines_.reset();
  access_policy_.reset();
}

absl::StatusOr<domain::PipelineSet> ItemReadModel::PipelinesForRobots() const {
  LEADFLOW_ASSIGN_OR_RETURN(domain::PipelineSet pipelines, Pipelines());
  LEADFLOW_ASSIGN_OR_RETURN(std::shared_ptr<const v1::AccessPolicy> policy, AccessPolicy());
  return domain::WithAccessTeams(std::move(pipelines), *policy);
}

absl::StatusOr<std::shared_ptr<const v1::AccessPolicy>> ItemReadModel::AccessPolicy() const {
  uint64_t generation = 0;
  {
    absl::MutexLock lock(&pipelines_mu_);
    if (access_policy_ != nullptr) return access_policy_;
    generation = pipelines_generation_;
  }
  LEADFLOW_ASSIGN_OR_RETURN(std::optional<v1::AggregateState> stored,
                            Get("access", domain::kAccessPolicyId));
  auto policy = std::make_shared<v1::AccessPolicy>();
  if (stored.has_value()) *policy = std::move(*stored->mutable_access_policy());
  absl::MutexLock lock(&pipelines_mu_);
  if (generation == pipelines_generation_) access_policy_ = policy;
  return std::shared_ptr<const v1::AccessPolicy>(std::move(policy));
}

absl::StatusOr<domain::PipelineSet> ItemReadModel::Pipelines() const {
  uint64_t generation = 0;
  {
    absl::MutexLock lock(&pipelines_mu_);
    if (pipelines_.has_value()) return *pipelines_;
    generation = pipelines_generation_;
  }
  domain::PipelineSet set;
  const std::string prefix = TypePrefix("pipeline");
  absl::Status status;
  LEADFLOW_RETURN_IF_ERROR(db_->Scan(store::Keyspace::kViews, prefix, prefix,
                                     [&](absl::string_view, absl::string_view value) {
                                       v1::AggregateState item;
                                       status = ParseProto(value, &item, "read model pipeline");
                                       if (!status.ok()) return false;
                                       set.Put(item.pipeline());
                                       return true;
                                     }));
  LEADFLOW_RETURN_IF_ERROR(status);
  absl::MutexLock lock(&pipelines_mu_);
  if (generation == pipelines_generation_) pipelines_ = set;
  return set;
}

void ItemReadModel::Stage(ProcessorTransaction& txn, const v1::AggregateState* before,
                          const v1::AggregateState& after) const {
  const store::Keyspace keyspace = store::Keyspace::kViews;
  const absl::string_view type = domain::AggregateTypeOf(after);
  // Leads have a read model of their own (LeadReadModel).
  if (after.has_lead()) return;
  const std::string id = domain::IdOf(after);
  if (id.empty()) return;
  auto index_keys = [&](const v1::AggregateState& state) {
    std::vector<std::string> keys;
    for (const auto& [index, value] : IndexTerms(state)) {
      keys.push_back(IndexPrefix(type, index, value) + id);
    }
    return keys;
  };
  txn.ReplaceIndexKeys(keyspace,
                       before != nullptr ? index_keys(*before) : std::vector<std::string>(),
                       index_keys(after));
  txn.Put(keyspace, ItemKey(type, id), SerializeDeterministic(after));
}

absl::StatusOr<bool> ItemReadModel::HasOverdueActivity(absl::string_view owner,
                                                       int64_t now_seconds) const {
  LEADFLOW_ASSIGN_OR_RETURN(std::vector<std::string> ids, FindIndexed("activity", "owner", owner));
  for (const auto& id : ids) {
    LEADFLOW_ASSIGN_OR_RETURN(auto item, Get("activity", id));
    if (item.has_value() && domain::IsOverdue(item->activity(), now_seconds)) return true;
  }
  return false;
}

}  // namespace leadflow::processors
