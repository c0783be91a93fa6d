#include "leadflow/processors/report_read_model.h"

#include "absl/strings/str_cat.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/base/status_macros.h"

namespace leadflow::processors {
namespace {

constexpr store::Keyspace kViews = store::Keyspace::kViews;

std::string LeadFactKey(absl::string_view lead_id) {
  return absl::StrCat("report-fact/lead/", lead_id);
}
std::string DealFactKey(absl::string_view deal_id) {
  return absl::StrCat("report-fact/deal/", deal_id);
}

// Writes a fact when it changed.
void PutFact(ProcessorTransaction& txn, const std::string& key, const std::string& before,
             const google::protobuf::Message& fact) {
  std::string after = SerializeDeterministic(fact);
  if (after != before) txn.Put(kViews, key, after);
}

}  // namespace

void ReportReadModel::Begin() { pending_.clear(); }

absl::StatusOr<storage::v1::LeadReportFact> ReportReadModel::LeadFact(ProcessorTransaction& txn,
                                                                      const std::string& key) {
  storage::v1::LeadReportFact fact;
  LEADFLOW_ASSIGN_OR_RETURN(auto stored, txn.Get(kViews, key));
  if (stored.has_value()) LEADFLOW_RETURN_IF_ERROR(ParseProto(*stored, &fact, "report fact"));
  return fact;
}

absl::Status ReportReadModel::StageLead(ProcessorTransaction& txn, const v1::EventEnvelope& event,
                                        const v1::Lead& after) {
  const std::string key = LeadFactKey(after.lead_id());
  LEADFLOW_ASSIGN_OR_RETURN(storage::v1::LeadReportFact fact, LeadFact(txn, key));
  const std::string before = SerializeDeterministic(fact);
  storage::v1::LeadReportFact next = fact;
  domain::FoldLeadFact(event, after, next);
  const std::string changed = SerializeDeterministic(next);
  if (changed == before) return absl::OkStatus();
  domain::AddReportContribution(fact, -1, pending_);
  domain::AddReportContribution(next, +1, pending_);
  txn.Put(kViews, key, changed);
  return absl::OkStatus();
}

absl::Status ReportReadModel::StageDeal(ProcessorTransaction& txn, const v1::Deal& after) {
  const std::string key = DealFactKey(after.deal_id());
  storage::v1::DealReportFact fact;
  LEADFLOW_ASSIGN_OR_RETURN(auto stored, txn.Get(kViews, key));
  if (stored.has_value()) LEADFLOW_RETURN_IF_ERROR(ParseProto(*stored, &fact, "report fact"));
  storage::v1::DealReportFact next = fact;
  domain::FoldDealFact(after, next);
  domain::AddReportContribution(fact, -1, pending_);
  domain::AddReportContribution(next, +1, pending_);
  PutFact(txn, key, stored.value_or(""), next);
  return absl::OkStatus();
}

absl::Status ReportReadModel::StageActivity(ProcessorTransaction& txn, const v1::Activity* before,
                                            const v1::Activity& after) {
  if (before != nullptr) domain::AddReportContribution(*before, -1, pending_);
  domain::AddReportContribution(after, +1, pending_);
  auto contact = domain::LeadContactOf(after);
  if (!contact.has_value() || (before != nullptr && domain::LeadContactOf(*before).has_value())) {
    return absl::OkStatus();
  }
  // The lead may be on a partition not applied this far yet: its facts
  // then start with this contact, and its own events fill in the rest.
  const std::string key = LeadFactKey(contact->first);
  LEADFLOW_ASSIGN_OR_RETURN(storage::v1::LeadReportFact fact, LeadFact(txn, key));
  if (fact.has_activity_contact_time() && fact.activity_contact_time() <= contact->second) {
    return absl::OkStatus();
  }
  storage::v1::LeadReportFact next = fact;
  next.set_activity_contact_time(contact->second);
  domain::AddReportContribution(fact, -1, pending_);
  domain::AddReportContribution(next, +1, pending_);
  txn.Put(kViews, key, SerializeDeterministic(next));
  return absl::OkStatus();
}

absl::Status ReportReadModel::Flush(ProcessorTransaction& txn) {
  for (auto& [key, delta] : pending_) {
    if (domain::IsZeroReportCell(delta)) continue;
    storage::v1::ReportCell cell;
    LEADFLOW_ASSIGN_OR_RETURN(auto stored, txn.Get(kViews, key));
    if (stored.has_value()) LEADFLOW_RETURN_IF_ERROR(ParseProto(*stored, &cell, "report cell"));
    domain::AddReportCell(delta, cell);
    if (domain::IsZeroReportCell(cell)) {
      txn.Delete(kViews, key);
    } else {
      txn.Put(kViews, key, SerializeDeterministic(cell));
    }
  }
  pending_.clear();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<domain::ReportCellView>> ReportReadModel::Cells(char family,
                                                                           absl::Time from,
                                                                           absl::Time to) const {
  std::vector<domain::ReportCellView> cells;
  const std::string end = domain::ReportCellStart(family, domain::ReportBucketOf(to));
  absl::Status failed = absl::OkStatus();
  LEADFLOW_RETURN_IF_ERROR(db_->Scan(kViews, domain::ReportCellPrefix(family),
                                     domain::ReportCellStart(family, domain::ReportBucketOf(from)),
                                     [&](absl::string_view key, absl::string_view value) {
                                       if (key >= end) return false;
                                       auto parts = domain::ParseReportCellKey(key);
                                       if (!parts.ok()) {
                                         failed = parts.status();
                                         return false;
                                       }
                                       domain::ReportCellView view{*std::move(parts), {}};
                                       failed = ParseProto(value, &view.cell, "report cell");
                                       if (!failed.ok()) return false;
                                       cells.push_back(std::move(view));
                                       return true;
                                     }));
  LEADFLOW_RETURN_IF_ERROR(failed);
  return cells;
}

}  // namespace leadflow::processors
