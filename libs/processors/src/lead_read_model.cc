#include "leadflow/processors/lead_read_model.h"

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "index_key.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/domain/identity.h"

namespace leadflow::processors {
namespace {

constexpr absl::string_view kLeadPrefix = "lead/";
constexpr absl::string_view kPageTokenPrefix = "v1:";

std::string IndexPrefix(absl::string_view index, absl::string_view value) {
  return IndexKeyPrefix(absl::StrCat("idx/", index, "/"), value);
}

std::vector<std::string> IndexKeys(const v1::Lead& lead) {
  std::vector<std::string> keys;
  keys.push_back(IndexPrefix("status", lead.status_id()) + lead.lead_id());
  if (!lead.responsible_id().empty()) {
    keys.push_back(IndexPrefix("responsible", lead.responsible_id()) + lead.lead_id());
  }
  keys.push_back(IndexPrefix("source", v1::LeadSource_Name(lead.source())) + lead.lead_id());
  for (const auto& identity : lead.identity_keys()) {
    keys.push_back(IndexPrefix("identity", identity) + lead.lead_id());
  }
  const std::string name_company =
      domain::NameCompanyKey(domain::LeadFullName(lead), lead.company_title());
  if (!name_company.empty()) {
    keys.push_back(IndexPrefix("namecompany", name_company) + lead.lead_id());
  }
  return keys;
}

bool Matches(const v1::Lead& lead, const LeadReadModel::Query& query) {
  if (!query.status_id.empty() && lead.status_id() != query.status_id) return false;
  if (!query.responsible_id.empty() && lead.responsible_id() != query.responsible_id) return false;
  if (query.source != v1::LEAD_SOURCE_UNSPECIFIED && lead.source() != query.source) return false;
  return !query.visible || query.visible(lead);
}

}  // namespace

std::string LeadReadModel::LeadKey(absl::string_view lead_id) {
  return absl::StrCat(kLeadPrefix, lead_id);
}

absl::StatusOr<std::optional<v1::Lead>> LeadReadModel::Get(absl::string_view lead_id) const {
  LEADFLOW_ASSIGN_OR_RETURN(auto bytes, db_->Get(store::Keyspace::kViews, LeadKey(lead_id)));
  if (!bytes.has_value()) return std::nullopt;
  v1::Lead lead;
  LEADFLOW_RETURN_IF_ERROR(ParseProto(*bytes, &lead, "read model lead"));
  return lead;
}

void LeadReadModel::StageChannelEvent(ProcessorTransaction& txn, absl::string_view event_id,
                                      absl::string_view lead_id) const {
  txn.Put(store::Keyspace::kViews, absl::StrCat("chev/", event_id), lead_id);
}

absl::StatusOr<std::optional<std::string>> LeadReadModel::LeadOfChannelEvent(
    absl::string_view event_id) const {
  return db_->Get(store::Keyspace::kViews, absl::StrCat("chev/", event_id));
}

absl::StatusOr<LeadReadModel::Page> LeadReadModel::List(const Query& query) const {
  std::string after;
  if (!query.page_token.empty()) {
    std::string decoded;
    if (!absl::WebSafeBase64Unescape(query.page_token, &decoded) ||
        !absl::StartsWith(decoded, kPageTokenPrefix)) {
      return domain::InvalidField("page_token", "not a token from a previous ListLeads page");
    }
    after = decoded.substr(kPageTokenPrefix.size());
  }
  const int32_t page_size = query.page_size <= 0 ? 50 : std::min(query.page_size, 1000);
  // Walk the most selective index the query names; check the rest per lead.
  std::string prefix;
  if (!query.responsible_id.empty()) {
    prefix = IndexPrefix("responsible", query.responsible_id);
  } else if (!query.status_id.empty()) {
    prefix = IndexPrefix("status", query.status_id);
  } else if (query.source != v1::LEAD_SOURCE_UNSPECIFIED) {
    prefix = IndexPrefix("source", v1::LeadSource_Name(query.source));
  } else {
    prefix = std::string(kLeadPrefix);
  }
  Page page;
  const std::string start = after.empty() ? prefix : prefix + after + '\0';
  absl::Status status;
  LEADFLOW_RETURN_IF_ERROR(db_->Scan(
      store::Keyspace::kViews, prefix, start, [&](absl::string_view key, absl::string_view value) {
        const absl::string_view lead_id = key.substr(prefix.size());
        if (!after.empty() && lead_id <= after) return true;
        v1::Lead lead;
        if (prefix == kLeadPrefix) {
          status = ParseProto(value, &lead, "read model lead");
          if (!status.ok()) return false;
        } else {
          absl::StatusOr<std::optional<v1::Lead>> found = Get(lead_id);
          if (!found.ok()) {
            status = found.status();
            return false;
          }
          if (!found->has_value()) return true;
          lead = **std::move(found);
        }
        if (!Matches(lead, query)) return true;
        if (static_cast<int32_t>(page.leads.size()) == page_size) {
          page.next_page_token = absl::WebSafeBase64Escape(
              absl::StrCat(kPageTokenPrefix, page.leads.back().lead_id()));
          return false;
        }
        page.leads.push_back(std::move(lead));
        return true;
      }));
  LEADFLOW_RETURN_IF_ERROR(status);
  return page;
}

absl::StatusOr<std::vector<std::string>> LeadReadModel::FindByIdentity(
    absl::string_view identity_key, absl::string_view after, size_t limit) const {
  return FindIndexed("identity", identity_key, after, limit);
}

absl::StatusOr<std::vector<std::string>> LeadReadModel::FindByNameCompany(absl::string_view key,
                                                                          absl::string_view after,
                                                                          size_t limit) const {
  return FindIndexed("namecompany", key, after, limit);
}

absl::StatusOr<std::vector<std::string>> LeadReadModel::FindIndexed(absl::string_view index,
                                                                    absl::string_view value,
                                                                    absl::string_view after,
                                                                    size_t limit) const {
  return IndexedIds(*db_, IndexPrefix(index, value), after, limit);
}

void LeadReadModel::Stage(ProcessorTransaction& txn, const v1::Lead* before,
                          const v1::Lead& after) const {
  const store::Keyspace keyspace = store::Keyspace::kViews;
  txn.ReplaceIndexKeys(keyspace,
                       before != nullptr ? IndexKeys(*before) : std::vector<std::string>(),
                       IndexKeys(after));
  txn.Put(keyspace, LeadKey(after.lead_id()), SerializeDeterministic(after));
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> LeadReadModel::Dump() const {
  std::vector<std::pair<std::string, std::string>> out;
  LEADFLOW_RETURN_IF_ERROR(db_->Scan(store::Keyspace::kViews, "", "",
                                     [&](absl::string_view key, absl::string_view value) {
                                       if (!absl::StartsWith(key, "offset/"))
                                         out.emplace_back(key, value);
                                       return true;
                                     }));
  return out;
}

}  // namespace leadflow::processors
